// Batches (issue 18): several photos chosen at once show as a strip; "Generate" paints them all
// in one style with progress per photo; the results are in the history as one group and come
// as one zip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { visitor, close, makePhoto, shot, BASE_URL, useSharedServer } from './lib.mjs';
import { fastStyle, pickStyle, pickMethod, zipEntries, zipData, axeViolations } from './paint.mjs';

useSharedServer();

const NAMES = ['alpha', 'beta', 'gamma'];

test('three photos in one batch: progress per photo, grouped in the history, a zip of three', async () => {
  const { context, page } = await visitor({ options: { bypassCSP: true } });
  try {
    const style = await fastStyle(page);
    const photos = [];
    for (const [i, n] of NAMES.entries()) {
      photos.push({ name: `${n}.jpg`, mimeType: 'image/jpeg', buffer: await makePhoto(page, 320 + 40 * i, 240) });
    }
    assert.equal(await page.getAttribute('#photo-input', 'multiple'), '', 'the photo input takes several files');
    await page.setInputFiles('#photo-input', photos);
    const strip = page.locator('[data-testid="photo-strip"]');
    await strip.waitFor();
    assert.equal(await strip.locator('li img').count(), 3);
    assert.match(await strip.textContent(), /3 photos/);
    await pickStyle(page, style.id);
    await pickMethod(page, 'fast');

    // Every photo's row from the start, each reaching "Ready" on its own.
    const seen = new Map(); // job id -> statuses seen in its row
    await page.exposeFunction('__status', (id, s) => seen.set(id, new Set([...(seen.get(id) || []), s])));
    await page.click('button.generate');
    const panel = page.locator('[data-testid="batch-panel"]');
    await panel.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'batch-heading', 'focus on the batch panel');
    const rows = panel.locator('li.item');
    assert.equal(await rows.count(), 3);
    await page.evaluate(() => {
      const report = () => document.querySelectorAll('[data-testid="batch-panel"] li.item')
        .forEach((li) => window.__status(li.dataset.jobId, li.dataset.status));
      report();
      new MutationObserver(report).observe(document.querySelector('[data-testid="batch-panel"]'), { subtree: true, attributes: true, childList: true });
    });
    assert.deepEqual(await rows.locator('.name').allTextContents(), NAMES, 'rows in upload order, named after the photos');
    await panel.locator('[data-testid="batch-count"]', { hasText: '3 of 3 ready' }).waitFor({ timeout: 120000 });
    const ids = await rows.evaluateAll((lis) => lis.map((li) => li.dataset.jobId));
    for (const id of ids) assert.ok(seen.get(id).has('done'), `row ${id} reached done`);
    assert.ok([...seen.values()].some((st) => st.has('queued') || st.has('running')), 'rows showed work in progress');
    assert.deepEqual(await rows.evaluateAll((lis) => lis.map((li) => li.dataset.status)), ['done', 'done', 'done']);
    // Finished rows show their result's thumbnail (loaded), no longer the photo.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="batch-panel"] li.item img')]
      .every((i) => /\/thumbnail\b/.test(i.src) && i.complete && i.naturalWidth > 0));
    assert.deepEqual(await axeViolations(page, '[data-testid="batch-panel"]'), []);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'batch');

    // The batch as the API sees it.
    const batchId = await panel.getAttribute('data-batch-id');
    const b = await (await page.request.get(`/api/batches/${batchId}`)).json();
    assert.deepEqual([b.done, b.total], [3, 3]);
    assert.deepEqual(b.jobs.map((j) => j.id), ids);

    // Download all: a zip with one PNG per photo, named after the photo and the style.
    const href = await panel.locator('[data-testid="batch-zip"]').getAttribute('href');
    const res = await page.request.get(href);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /application\/zip/);
    assert.match(res.headers()['content-disposition'] || '', /attachment; filename="pastiche-[a-z0-9-]+-3-photos\.zip"/);
    const buf = await res.body();
    const entries = zipEntries(buf);
    assert.equal(entries.length, 3, `3 entries: ${entries.map((e) => e.name)}`);
    for (const [i, n] of NAMES.entries()) {
      const e = entries.find((x) => x.name.startsWith(`${n}-`));
      assert.ok(e, `an entry for ${n}: ${entries.map((x) => x.name)}`);
      assert.match(e.name, /^[a-z]+-[a-z0-9-]+\.png$/, e.name);
      assert.equal(e.method, 0, 'stored');
      // The entry is that photo's result, byte for byte.
      const result = await (await page.request.get(`/api/jobs/${ids[i]}/result`)).body();
      assert.ok(zipData(buf, e).equals(result), `${e.name} holds the result of ${n}`);
    }
    const [download] = await Promise.all([page.waitForEvent('download'), panel.locator('[data-testid="batch-zip"]').click()]);
    assert.match(download.suggestedFilename(), /\.zip$/);

    // The history groups the batch's three jobs.
    const group = page.locator(`#history li.batch-group[data-batch-id="${batchId}"]`);
    await group.waitFor();
    assert.equal(await group.locator('li.item').count(), 3);
    assert.match(await group.textContent(), /Batch · 3 photos/);
    assert.equal(await group.locator('a:has-text("Download all")').getAttribute('href'), `/api/batches/${batchId}/zip`);

    // Each result opens in the result panel.
    await rows.nth(1).locator('button:has-text("Open")').click();
    await page.waitForSelector('#result .compare img.after');
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test('more photos than the server takes at once keeps the first ones and says so', async () => {
  const { context, page } = await visitor();
  try {
    const max = (await (await page.request.get('/api/device')).json()).limits.max_batch;
    assert.ok(max >= 2, `limits.max_batch: ${max}`);
    const photo = await makePhoto(page, 200, 150);
    const files = Array.from({ length: max + 1 }, (_, i) => ({ name: `p${i}.jpg`, mimeType: 'image/jpeg', buffer: photo }));
    await page.setInputFiles('#photo-input', files);
    const strip = page.locator('[data-testid="photo-strip"]');
    await strip.waitFor();
    assert.equal(await strip.locator('li').count(), max);
    assert.match(await strip.textContent(), new RegExp(`At most ${max} photos`));
    // Removing photos down to one goes back to the single-photo view.
    while ((await strip.locator('li').count()) > 1) await strip.locator('li button').first().click();
    await page.locator('.chosen img').waitFor();
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});
