// The gallery (issue 18): the owner publishes a result with a caption, another visitor finds it
// at /gallery, rates it (one vote per visitor: voting again changes it), the owner unpublishes
// it and it is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { visitor, close, shot, noHorizontalScroll, BASE_URL, SHOTS_DIR, useSharedServer } from './lib.mjs';
import { fastResult, apiFastJob, axeViolations } from './paint.mjs';

useSharedServer();

const CAPTION = 'Evening over the hills <b>bold?</b>';

async function apiWork(page, token, sort = 'newest') {
  const d = await (await page.request.get(`/api/gallery?sort=${sort}&limit=60`)).json();
  return { work: d.works.find((w) => w.token === token) || null, total: d.total };
}

test('publish, find and rate in another visitor\'s gallery, then unpublish', async () => {
  const owner = await visitor();
  let friend = null;
  try {
    const { page } = owner;
    const job = await fastResult(page, 'hills.jpg');

    // "Publish" opens the share dialog at the caption; the counter follows the text.
    await page.click('[data-testid="publish-open"]');
    const caption = page.locator('#share-caption');
    await caption.waitFor();
    assert.ok(await caption.evaluate((el) => el === document.activeElement), 'focus on the caption');
    const max = +(await caption.getAttribute('maxlength'));
    assert.equal(max, 140);
    await caption.fill(CAPTION);
    await page.locator('#share-caption-count', { hasText: `${CAPTION.length} / 140` }).waitFor();
    await page.click('[data-testid="publish"]');
    await page.locator('[data-testid="published-note"]').waitFor();
    const token = (await page.locator('[data-testid="share-link"]').inputValue()).split('/s/')[1];
    await page.keyboard.press('Escape');
    await page.locator(`#history li[data-job-id="${job.id}"] [data-testid="shared-badge"]`, { hasText: 'Published' }).waitFor();

    // Another visitor opens the gallery from the navigation (history.pushState, no reload).
    friend = await visitor({ options: { bypassCSP: true } });
    const fp = friend.page;
    await fp.evaluate(() => (window.__sameDocument = true));
    await fp.click('nav a[href="/gallery"]');
    await fp.locator('#h-gallery').waitFor();
    assert.equal(new URL(fp.url()).pathname, '/gallery');
    assert.equal(await fp.evaluate(() => window.__sameDocument), true, 'no page load');
    const card = fp.locator(`li.work[data-token="${token}"]`);
    await card.waitFor();
    assert.equal(await card.locator('.caption').textContent(), CAPTION, 'caption shown as plain text');
    const img = card.locator('img');
    assert.equal(await img.getAttribute('loading'), 'lazy');
    assert.equal(+(await img.getAttribute('width')), job.width);
    assert.equal(+(await img.getAttribute('height')), job.height);
    assert.equal(await card.locator('a.pic').getAttribute('href'), `/s/${token}`);
    const { total } = await apiWork(fp, token);
    await fp.locator('.more .count', { hasText: `of ${total}` }).waitFor();

    // Rate 4, then change to 2: still one vote.
    const summary = card.locator('[data-testid="rating-summary"]');
    await card.locator('label:has(input[value="4"])').click();
    await card.locator('[data-testid="rating-summary"]', { hasText: '4.0 out of 5 · 1 rating' }).waitFor();
    await card.locator('label:has(input[value="2"])').click();
    await card.locator('[data-testid="rating-summary"]', { hasText: '2.0 out of 5 · 1 rating' }).waitFor();
    assert.match(await card.locator('[data-testid="my-rating"]').textContent(), /your vote: 2/);
    let w = (await apiWork(fp, token)).work;
    assert.deepEqual([w.rating_count, w.my_rating, w.mine], [1, 2, false]);

    // The keyboard: the stars are a radio group; arrows move the vote.
    await card.locator('input[value="2"]').focus();
    await fp.keyboard.press('ArrowRight');
    await card.locator('[data-testid="rating-summary"]', { hasText: '3.0 out of 5 · 1 rating' }).waitFor();

    // After a reload the vote is remembered (per visitor), and "Best rated" lists it too.
    await fp.goto('/gallery');
    await card.waitFor();
    assert.ok(await card.locator('input[value="3"]').isChecked());
    assert.match(await summary.textContent(), /3\.0 out of 5 · 1 rating/);
    await fp.click('[role="tab"]:has-text("Best rated")');
    assert.equal(await fp.getAttribute('[role="tab"]:has-text("Best rated")', 'aria-selected'), 'true');
    await card.waitFor();
    assert.ok((await apiWork(fp, token, 'top')).work, 'in the best rated list');
    assert.deepEqual(await axeViolations(fp), [], 'gallery is accessible');
    assert.deepEqual(fp.errors, []);

    // The owner sees the work without stars to click (no voting on one's own work).
    await page.goto('/gallery');
    const own = page.locator(`li.work[data-token="${token}"]`);
    await own.waitFor();
    assert.equal(await own.locator('input[type="radio"]').count(), 0);
    assert.match(await own.textContent(), /your work/);
    assert.equal((await page.request.put(`/api/gallery/${token}/rating`, { data: { stars: 5 } })).status(), 403);

    // The owner unpublishes (share dialog from the history): gone from the gallery; the link stays.
    await page.goto('/');
    await page.locator(`#history li[data-job-id="${job.id}"] [data-testid="history-share"]`).click();
    await page.click('[data-testid="unpublish"]');
    await page.locator('[data-testid="share-note"]', { hasText: 'Removed from the gallery' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'publish', 'focus on "Publish to gallery"');
    await fp.goto('/gallery');
    await fp.locator('#gallery-panel[aria-busy="false"]').waitFor();
    assert.equal(await card.count(), 0, 'gone from the gallery');
    assert.equal((await apiWork(fp, token)).work, null);
    assert.equal((await fp.request.get(`/s/${token}`)).status(), 200, 'the share link still works');
    assert.equal((await fp.request.put(`/api/gallery/${token}/rating`, { data: { stars: 5 } })).status(), 404);
    assert.deepEqual(page.errors, []);
  } finally {
    if (friend) await friend.context.close();
    await owner.context.close();
  }
});

test('the gallery on a phone in the dark theme, a page at a time', async () => {
  const { context, page } = await visitor({ phone: true, dark: true, options: { viewport: { width: 390, height: 844 }, bypassCSP: true } });
  try {
    const tokens = [];
    for (const caption of ['Sunday on the hill', 'The pier at dusk', 'Boats in the harbour']) {
      const job = await apiFastJob(page, 'pier.jpg');
      const pub = await page.request.post(`/api/jobs/${job.id}/publish`, { data: { caption } });
      assert.equal(pub.status(), 200);
      tokens.push((await pub.json()).token);
    }
    // Pages of one work (the app asks for 24), to see "Load more" bring the next one.
    await page.route(/\/api\/gallery\?/, (route) => route.continue({ url: route.request().url().replace(/limit=\d+/, 'limit=1') }));
    await page.goto('/gallery');
    const total = (await (await page.request.get('/api/gallery?limit=1')).json()).total;
    assert.ok(total >= 2);
    await page.locator(`li.work[data-token="${tokens[2]}"]`).waitFor();
    await page.locator('.more .count', { hasText: `Showing 1 of ${total}` }).waitFor();
    await page.click('.more button:has-text("Load more")');
    await page.locator(`li.work[data-token="${tokens[1]}"]`).waitFor();
    await page.locator('.more .count', { hasText: `Showing 2 of ${total}` }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.closest('li.work')?.dataset.token), tokens[1], 'focus on the first new work');
    await page.unroute(/\/api\/gallery\?/);
    const { scrollWidth, clientWidth, wide } = await noHorizontalScroll(page);
    assert.ok(scrollWidth <= clientWidth, `no sideways scrolling: ${wide.join(', ')}`);
    assert.deepEqual(await axeViolations(page), [], 'gallery is accessible (phone, dark)');
    await shot(page, 'gallery-phone-dark');

    // Back to the painting page from the navigation, and to the gallery with the browser's Back.
    await page.click('nav a[aria-label="History"]');
    await page.locator('#h-history').waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    await page.goBack();
    await page.locator('#h-gallery').waitFor();
    assert.equal(new URL(page.url()).pathname, '/gallery');
    assert.deepEqual(page.errors, []);

    // The picture for the docs: the gallery on a desktop, as a visitor who rated one work.
    if (SHOTS_DIR) {
      const other = await visitor();
      await other.page.goto('/gallery');
      const card = other.page.locator(`li.work[data-token="${tokens[1]}"]`);
      await card.locator('label:has(input[value="4"])').click();
      await card.locator('[data-testid="my-rating"]').waitFor();
      await other.page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
      await shot(other.page, 'gallery');
      await other.context.close();
    }
  } finally {
    await context.close();
  }
});
