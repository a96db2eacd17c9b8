// End-to-end tests of the web UI in headless Chromium against a running server
// (scripts/test-e2e.sh starts a real `pastiche serve`; PASTICHE_URL points at it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  visitor, close, makePhoto, makePainting, makeNoise, choosePhoto, shot, noHorizontalScroll, waitForDone, GATYS, BASE_URL,
  SHOTS_DIR, SERVER_BIN, startServer, fastModelsDir, fixtureStyles, useSharedServer,
} from './lib.mjs';
import { stylesOf, pickStyle, pickMethod, openParams, uploadStyle, startGatys } from './paint.mjs';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';

useSharedServer();

async function top(page) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(150);
}

async function scrollTo(page, selector) {
  await page.evaluate((s) => document.querySelector(s).scrollIntoView({ block: 'start' }), selector);
  await page.waitForTimeout(150);
}

async function fastJob(page, styleId, w = 400, h = 300) {
  await choosePhoto(page, await makePhoto(page, w, h));
  await pickStyle(page, styleId);
  await pickMethod(page, 'fast');
  await page.click('button.generate');
  await waitForDone(page);
}

test('upload a photo, pick a default style, get a fast result', async () => {
  const { context, page } = await visitor();
  try {
    await shot(page, 'desktop-light-empty');
    const styles = await stylesOf(page);
    const fast = styles.find((s) => (s.methods || []).includes('fast'));
    assert.ok(fast, 'the server offers no fast style');
    // A default style is already chosen for a first-time visitor.
    assert.ok(await page.$('input[name="style"]:checked'), 'no default style selected');

    await choosePhoto(page, await makePhoto(page));
    await page.waitForSelector('.chosen img');
    await pickStyle(page, fast.id);
    await pickMethod(page, 'fast');
    await top(page);
    await shot(page, 'desktop-light');
    await page.click('button.generate');
    await waitForDone(page);
    const dl = await page.getAttribute('[data-testid="download"]', 'href');
    assert.match(dl, /\/result/);
    const res = await page.request.get(dl);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^image\//);
    // The before/after slider is a keyboard-operable range input.
    const slider = page.locator('#result .compare input[type="range"]');
    await slider.focus();
    const v0 = +(await slider.inputValue());
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.ok(+(await slider.inputValue()) < v0, 'arrow keys move the comparison slider');
    await slider.fill('35');
    await page.locator('#history').waitFor();
    await top(page);
    await shot(page, 'result');
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test('a short Gatys job shows progress and a live preview before finishing', { skip: !GATYS && 'no VGG weights for the server' }, async () => {
  const { context, page } = await visitor();
  try {
    const seen = { progress: false, preview: false, chartPoints: 0 };
    await startGatys(page);
    await page.waitForSelector('[data-testid="status-text"]');
    // Progress: "Step n of N" with a moving bar.
    await page.waitForFunction(() => /Step \d+ of \d+/.test(document.querySelector('[data-testid="status-text"]')?.textContent || ''), null, { timeout: 120000 });
    seen.progress = true;
    await page.waitForSelector('[data-testid="live-preview"]', { timeout: 120000 });
    seen.preview = true;
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="live-preview"]');
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 30000 }).catch(() => {});
    const stillRunning = await page.$('.working');
    if (stillRunning) {
      seen.chartPoints = await page.$$eval('.chart path.line', (ps) => ps.length);
      await top(page);
      await shot(page, 'progress');
    }
    const live = await page.textContent('[data-testid="live-status"]');
    assert.ok(live.length > 0, 'aria-live region is filled');
    await waitForDone(page, 300000);
    assert.ok(seen.progress && seen.preview);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test('a running job can be cancelled', { skip: !GATYS && 'no VGG weights for the server' }, async () => {
  const { context, page } = await visitor();
  try {
    const styleId = await startGatys(page, { steps: 1000, size: 256, own: true });
    await page.waitForSelector('.working');
    // Cancel a running job (the harder case: it stops at its next iteration).
    await page.waitForFunction(() => /Step \d+ of \d+/.test(document.querySelector('[data-testid="status-text"]')?.textContent || ''), null, { timeout: 120000 });
    await page.click('.working button.btn-danger');
    await page.waitForSelector('.ended', { timeout: 60000 });
    assert.match(await page.textContent('.ended'), /Cancelled/);
    const id = await page.evaluate(() => document.querySelector('#history li')?.dataset.jobId);
    if (id) {
      const r = await page.request.get(`/api/jobs/${id}`);
      assert.equal((await r.json()).status, 'cancelled');
    }
    // The own style can be deleted again.
    page.once('dialog', (d) => d.accept());
    await pickStyle(page, styleId);
    await page.click('#style-detail button:has-text("Delete this style")');
    await page.waitForSelector(`label.tile[data-style-id="${styleId}"]`, { state: 'detached' });
  } finally {
    await context.close();
  }
});

test('a fast style’s brush size and strength sliders reach the API and the job’s summary', async () => {
  const { context, page } = await visitor();
  try {
    const fast = (await stylesOf(page)).find((s) => (s.methods || []).includes('fast'));
    await choosePhoto(page, await makePhoto(page));
    await pickStyle(page, fast.id);
    await pickMethod(page, 'fast');
    await openParams(page);
    // Range inputs are driven like a user's keyboard: focus, then arrow keys.
    const brush = page.locator('#p-brush');
    await brush.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');  // 1 -> 2 (step 0.25)
    assert.equal(+(await brush.inputValue()), 2);
    assert.match(await page.locator('output[for="p-brush"]').textContent(), /2× larger/);
    const strength = page.locator('#p-fast-strength');
    await strength.focus();
    for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowLeft');  // 100 -> 40 (step 5)
    assert.match(await page.locator('output[for="p-fast-strength"]').textContent(), /40%/);
    // The multipart body carries a file, which the browser does not expose: the job the server
    // stored says what it received.
    await page.click('button.generate');
    await waitForDone(page);
    const item = page.locator('#history li.item').first();
    await item.waitFor();
    const job = await (await page.request.get(`/api/jobs/${await item.getAttribute('data-job-id')}`)).json();
    assert.equal(job.params.stroke_scale, 2);
    assert.equal(job.params.strength, 0.4);
    assert.match(await item.textContent(), /brush 2× · strength 40%/);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test('an uploaded painting gets an instant result, then one click refines it with best quality', { skip: !GATYS && 'no VGG weights for the server' }, async () => {
  const { context, page } = await visitor();
  try {
    await choosePhoto(page, await makePhoto(page));
    const id = await uploadStyle(page, 'Never trained on');
    const own = (await stylesOf(page)).find((s) => s.id === id);
    assert.ok((own.methods || []).includes('arbitrary'), 'an upload offers the instant method');
    // A painting of one's own selects the instant method by itself.
    assert.ok(await page.isChecked('input[name="method"][value="arbitrary"]'), 'instant chosen for an upload');
    await openParams(page);
    const strength = page.locator('#p-fast-strength');
    await strength.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');  // 100 -> 80
    await page.click('button.generate');
    await waitForDone(page);
    const item = page.locator('#history li.item').first();
    await item.waitFor();
    const jobId = await item.getAttribute('data-job-id');
    const job = await (await page.request.get(`/api/jobs/${jobId}`)).json();
    assert.equal(job.method, 'arbitrary');
    assert.equal(job.style, id);
    assert.equal(job.params.strength, 0.8);
    const res = await page.request.get(`/api/jobs/${jobId}/result`);
    assert.equal(res.status(), 200);
    // Refine: the same photo and painting, now by optimisation starting from the instant result.
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/jobs');
    await page.click('[data-testid="refine"]');
    const refined = await (await posted).json();
    const again = await (await page.request.get(`/api/jobs/${refined.id}`)).json();
    assert.equal(again.method, 'gatys');
    assert.equal(again.style, id);
    assert.equal(again.params.init, 'image');
    assert.equal(again.params.init_job, jobId);  // (the run itself: the C++ API test)
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test('history shows a result, opens it, and deletes it; another visitor cannot see it', async () => {
  const { context, page } = await visitor();
  const other = await visitor();
  try {
    const styles = await stylesOf(page);
    const fasts = styles.filter((s) => (s.methods || []).includes('fast'));
    const fast = fasts[0];
    if (fasts.length > 1) {
      await fastJob(page, fasts[1].id, 300, 400);
      await page.click('#result button:has-text("New")');
    }
    await fastJob(page, fast.id);
    const item = page.locator('#history li.item').first();
    await item.waitFor();
    const id = await item.getAttribute('data-job-id');
    await page.waitForFunction((id) => {
      const img = document.querySelector(`#history li[data-job-id="${id}"] img`);
      return img && img.complete && img.naturalWidth > 0;
    }, id);
    assert.match(await item.textContent(), new RegExp(fast.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await scrollTo(page, '#history');
    await shot(page, 'history');

    // A second browser context is another person: empty history, and no access to the job.
    await other.page.reload();
    await other.page.waitForSelector('#history');
    assert.equal(await other.page.locator(`#history li[data-job-id="${id}"]`).count(), 0);
    const peek = await other.page.request.get(`/api/jobs/${id}`);
    assert.ok([403, 404].includes(peek.status()), `other visitor got ${peek.status()} for the job`);
    const h = await (await other.page.request.get('/api/history')).json();
    assert.ok(!h.items.some((j) => j.id === id));

    // Open from history, then delete.
    await page.click('#result button:has-text("New")');
    await item.locator('button[aria-label^="Open"]').first().click();
    await waitForDone(page);
    // The photo of a past job can be taken back into the form.
    await page.click('#result button:has-text("Paint this photo")');
    await page.waitForFunction(() => {
      const img = document.querySelector('.chosen img');
      return img && img.complete && img.naturalWidth > 0;
    });
    // Deleting is undoable: the row goes at once, nothing is sent while the toast shows, and
    // "Undo" brings the row back.
    const deletes = [];
    page.on('request', (r) => {
      if (r.method() === 'DELETE' && r.url().includes('/api/history/')) deletes.push(Date.now());
    });
    await item.locator('[data-testid="delete-history"]').click();
    await page.waitForSelector(`#history li[data-job-id="${id}"]`, { state: 'detached' });
    const toast = page.locator('[data-testid="undo-toast"]');
    await toast.waitFor();
    assert.match(await toast.textContent(), /Deleted/);
    await toast.getByRole('button', { name: 'Undo' }).click();
    await page.waitForSelector(`#history li[data-job-id="${id}"]`);
    assert.equal(await toast.count(), 0);
    assert.deepEqual(deletes, []);
    // Deleted for good when the toast has gone, about 8 s later.
    const clicked = Date.now();
    await page.locator(`#history li[data-job-id="${id}"] [data-testid="delete-history"]`).click();
    await toast.waitFor();
    const sent = await page.waitForRequest((r) => r.method() === 'DELETE' && r.url().includes(`/api/history/${id}`), { timeout: 15000 });
    assert.ok(Date.now() - clicked >= 7000, `DELETE sent after ${Date.now() - clicked} ms`);
    assert.equal((await sent.response()).status(), 204);
    await toast.waitFor({ state: 'detached' });
    await page.reload();
    await page.waitForSelector('#history');
    await page.waitForTimeout(300);
    assert.equal(await page.locator(`#history li[data-job-id="${id}"]`).count(), 0);
  } finally {
    await context.close();
    await other.context.close();
  }
});

test('a corrupt upload shows the server’s error message beside the photo, in plain words', async () => {
  const { context, page } = await visitor();
  try {
    const junk = Buffer.from('this is not a picture at all, just some text pretending to be a JPEG'.repeat(20));
    await choosePhoto(page, junk, 'broken.jpg', 'image/jpeg');
    await page.waitForSelector('.nopreview');
    await page.click('button.generate');
    const err = page.locator('[data-testid="photo-error"]');
    await err.waitFor();
    const text = await err.textContent();
    assert.match(text, /The photo could not be read: it is not an image/);
    assert.doesNotMatch(text, /content:|detected:/);
    // Tied to the photo's controls, which have the focus.
    assert.match(await page.getAttribute('#photo-input', 'aria-describedby'), /photo-error/);
    assert.equal(await page.getAttribute('#photo-input', 'aria-invalid'), 'true');
    assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-describedby') || ''), /photo-error/);
    assert.equal(await page.locator('.working').count(), 0);
  } finally {
    await context.close();
  }
});

test('phone (360 px, dark): no horizontal scroll on any screen', async () => {
  const { context, page } = await visitor({ phone: true, dark: true });
  try {
    const check = async (where) => {
      const r = await noHorizontalScroll(page);
      assert.ok(r.scrollWidth <= r.clientWidth, `${where}: scrollWidth ${r.scrollWidth} > ${r.clientWidth}: ${r.wide.join(', ')}`);
    };
    assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), true);
    await check('start');
    await shot(page, 'phone-dark');
    await choosePhoto(page, await makePhoto(page, 1200, 800));
    await page.waitForSelector('.chosen img');
    await check('photo chosen');
    await scrollTo(page, '#h-style');
    await page.evaluate(() => window.scrollBy(0, -80));
    await shot(page, 'phone-dark-gallery');
    await openParams(page);
    await check('parameters open');
    await page.click('button.tile.add');
    await check('style upload form');
    await page.click('#style-upload button:has-text("Cancel")');
    const styles = await stylesOf(page);
    const fast = styles.find((s) => (s.methods || []).includes('fast'));
    await pickStyle(page, fast.id);
    await pickMethod(page, 'fast');
    await page.click('button.generate');
    await waitForDone(page);
    await check('result');
    await page.locator('#result').scrollIntoViewIfNeeded();
    await shot(page, 'phone-dark-result');
    await page.click('button[aria-haspopup="dialog"]');
    await page.waitForSelector('dialog[open] dl');
    await check('server info');
    await shot(page, 'phone-dark-server');
    await page.keyboard.press('Escape');
  } finally {
    await context.close();
  }
});

test('theme toggle overrides the system and is remembered', async () => {
  const { context, page } = await visitor({ dark: false });
  try {
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await page.click('[data-testid="theme-toggle"]');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    const dark = await bg();
    assert.notEqual(dark, light);
    await page.reload();
    await page.waitForSelector('[data-testid="theme-toggle"]');
    assert.equal(await bg(), dark);
    assert.equal(await page.getAttribute('[data-testid="theme-toggle"]', 'aria-label'), 'Switch to light mode');
  } finally {
    await context.close();
  }
});

test('keyboard: a photo can be chosen and a style picked without a mouse', async () => {
  const { context, page } = await visitor();
  try {
    // The drop zone's button opens the file chooser.
    const chooser = page.waitForEvent('filechooser');
    await page.focus('.drop button.choose');
    await page.keyboard.press('Enter');
    const fc = await chooser;
    await fc.setFiles({ name: 'k.jpg', mimeType: 'image/jpeg', buffer: await makePhoto(page) });
    await page.waitForSelector('.chosen img');
    // Arrow keys move between styles in the radio group (add an own style if there is one only).
    if ((await page.$$('input[name="style"]')).length < 2) {
      const r = await page.request.post('/api/styles', {
        multipart: { image: { name: 's.png', mimeType: 'image/png', buffer: await makePainting(page) }, title: 'Second' },
      });
      assert.equal(r.status(), 201);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.reload();
      await page.waitForSelector('input[name="style"]:checked', { state: 'attached' });
      await page.setInputFiles('#photo-input', { name: 'k.jpg', mimeType: 'image/jpeg', buffer: await makePhoto(page) });
    }
    const first = await page.$eval('input[name="style"]:checked', (i) => i.value);
    await page.focus('input[name="style"]:checked');
    await page.keyboard.press('ArrowRight');
    const second = await page.$eval('input[name="style"]:checked', (i) => i.value);
    assert.notEqual(first, second);
    // Focus is visible.
    const outline = await page.evaluate(() => {
      const l = document.activeElement.closest('label');
      return getComputedStyle(l).outlineStyle;
    });
    assert.notEqual(outline, 'none');
  } finally {
    await context.close();
  }
});

// Only for docs/screenshots: a real painting through the Gatys method, watched to the end.
test('showcase: a best-quality painting, start to finish (screenshots)', {
  skip: (!SHOTS_DIR && 'screenshots not requested') || (!GATYS && 'no VGG weights for the server'),
}, async () => {
  const { context, page } = await visitor();
  try {
    const photo = process.env.PASTICHE_E2E_PHOTO
      ? { name: path.basename(process.env.PASTICHE_E2E_PHOTO), buffer: fs.readFileSync(process.env.PASTICHE_E2E_PHOTO) }
      : { name: 'sunset.jpg', buffer: await makePhoto(page, 640, 480) };
    await choosePhoto(page, photo.buffer, photo.name);
    const styles = await stylesOf(page);
    const g = styles.find((s) => /starry|wave|scream/i.test(s.id) && (s.methods || []).includes('gatys'))
      || styles.find((s) => (s.methods || []).includes('gatys'));
    await pickStyle(page, g.id);
    await pickMethod(page, 'gatys');
    await openParams(page);
    await page.fill('#p-size', process.env.PASTICHE_E2E_SHOWCASE_SIZE || '320');
    await page.fill('#p-steps', process.env.PASTICHE_E2E_SHOWCASE_STEPS || '60');
    await page.click('details.params > summary');
    await page.click('button.generate');
    await page.waitForSelector('[data-testid="live-preview"]', { timeout: 300000 });
    await page.waitForFunction(() => document.querySelectorAll('.chart path.line').length === 2, null, { timeout: 60000 }).catch(() => {});
    await page.waitForTimeout(1500);
    await top(page);
    if (await page.$('.working')) await shot(page, 'progress');
    await waitForDone(page, 600000);
    await page.locator('#result .compare input[type="range"]').fill('30');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await top(page);
    await shot(page, 'result');
    // The same visitor (same cookie) on a phone in dark mode, opening it from history.
    const phone = await visitor({ phone: true, dark: true, cookies: await context.cookies() });
    try {
      await phone.page.waitForSelector('#history li.item button[aria-label^="Open"]');
      await phone.page.click('#history li.item button.thumb');
      await waitForDone(phone.page);
      await phone.page.locator('#result .compare input[type="range"]').fill('30');
      await phone.page.evaluate(() => {
        document.activeElement && document.activeElement.blur();
        document.querySelector('#result').scrollIntoView({ block: 'start' });
      });
      await phone.page.waitForTimeout(300);
      await shot(phone.page, 'phone-dark-result');
    } finally {
      await phone.context.close();
    }
  } finally {
    await context.close();
  }
});

test('a full queue is explained, with the wait the server expects', async () => {
  const { context, page } = await visitor();
  try {
    // Filling the real queue would take minutes of CPU; answer this one request as the server
    // does when it is full (docs/api.md: 429 + Retry-After + retry_after_seconds, from the
    // running jobs' remaining time and the queued work).
    await page.route('**/api/jobs', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
          status: 429,
          headers: { 'Retry-After': '130', 'Content-Type': 'application/json' },
          body: JSON.stringify({ error: 'queue: full (64 jobs waiting)', retry_after_seconds: 130 }),
        })
        : route.continue());
    await choosePhoto(page, await makePhoto(page));
    await page.click('button.generate');
    const err = page.locator('[data-testid="submit-error"]');
    await err.waitFor();
    assert.match(await err.textContent(), /the queue is full; the server expects room in about 2 min/i);
    assert.equal(await page.isEnabled('button.generate'), true);
  } finally {
    await context.close();
  }
});

test('the page runs under the server’s Content-Security-Policy without a single violation', async () => {
  const { context, page } = await visitor();
  try {
    // The security headers are on the page itself (and on everything else the server sends).
    const h = page.firstResponse.headers();
    const csp = h['content-security-policy'] || '';
    for (const d of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "object-src 'none'",
      "frame-ancestors 'none'", "img-src 'self' blob: data:"]) {
      assert.ok(csp.includes(d), `CSP lacks ${d}: ${csp}`);
    }
    assert.ok(!/unsafe-eval/.test(csp), 'the CSP allows eval');
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['x-frame-options'], 'DENY');
    assert.equal(h['referrer-policy'], 'no-referrer');
    // Scripts are files of the server's own (no inline code), served with a script type (nosniff).
    const scripts = await page.$$eval('script', (ss) => ss.map((s) => ({ src: s.src, inline: !s.src && s.textContent.trim().length > 0 })));
    assert.ok(scripts.length >= 2, 'the theme script and the bundle');
    assert.deepEqual(scripts.filter((s) => s.inline), []);
    for (const { src } of scripts) {
      assert.equal(new URL(src).origin, new URL(BASE_URL).origin);
      const r = await page.request.get(src);
      assert.equal(r.status(), 200, src);
      assert.match(r.headers()['content-type'], /javascript/, src);
    }

    // Use the page: a photo preview (blob: URL), the style gallery, the server dialog, the saved
    // theme applied before first paint by /theme-init.js, a fast job (event stream + images).
    await choosePhoto(page, await makePhoto(page));
    await page.waitForSelector('.chosen img');
    await page.click('button[aria-haspopup="dialog"]');
    await page.waitForSelector('dialog[open] dl');
    // Public /api/device: no row says "undefined", "null" or "NaN".
    const rows = await page.$$eval('dialog[open] dl .row', (rs) => rs.map((r) => r.textContent));
    assert.ok(rows.length >= 4, `server rows: ${rows.join(' | ')}`);
    for (const r of rows) assert.doesNotMatch(r, /undefined|\bnull\b|NaN|\[object/, r);
    await page.keyboard.press('Escape');
    await page.click('[data-testid="theme-toggle"]');
    const theme = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.reload();
    await page.waitForSelector('input[name="style"]', { state: 'attached' });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme, 'theme-init.js ran');
    await page.click('[data-testid="theme-toggle"]'); // back to following the system
    const styles = await stylesOf(page);
    const fast = styles.find((s) => (s.methods || []).includes('fast'));
    await fastJob(page, fast.id);
    await page.locator('#history li.item img').first().waitFor();

    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);

    // POST/DELETE from a page of another origin are refused; the page's own are not.
    const photo = await makePhoto(page, 64, 64);
    const foreign = await page.request.post('/api/jobs', {
      headers: { Origin: 'http://elsewhere.example' },
      multipart: { content: { name: 'p.jpg', mimeType: 'image/jpeg', buffer: photo }, method: 'fast', style: fast.id },
    });
    assert.equal(foreign.status(), 403);
    assert.match((await foreign.json()).error, /^Origin: /);
    const own = await page.evaluate(async () => {
      const r = await fetch('/api/history/00000000000000000000000000000000', { method: 'DELETE' });
      return r.status;
    });
    assert.equal(own, 404, 'a same-origin DELETE reaches the route (404: no such job), not the origin check');
  } finally {
    await context.close();
  }
});

test('a photo the server would refuse for its shape is explained before uploading', async () => {
  const { context, page } = await visitor();
  try {
    let posted = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && /^\/api\/(jobs|styles)$/.test(new URL(r.url()).pathname)) posted++;
    });
    await choosePhoto(page, await makePhoto(page, 400, 30), 'sliver.jpg');
    const problem = page.locator('[data-testid="photo-problem"]');
    await problem.waitFor();
    assert.match(await problem.textContent(), /400×30.*at most 10 times/);
    await page.click('button.generate');
    const err = page.locator('[data-testid="submit-error"]');
    await err.waitFor();
    assert.match(await err.textContent(), /too long and thin/);
    assert.equal(posted, 0, 'nothing was uploaded');
    // A fine photo clears it.
    await choosePhoto(page, await makePhoto(page, 400, 300));
    await page.waitForSelector('.chosen img');
    assert.equal(await problem.count(), 0);
    // The same for an own painting: too small is said before uploading.
    await page.click('button.tile.add');
    await page.setInputFiles('#style-upload input[name="style-image"]', {
      name: 'tiny.png', mimeType: 'image/png', buffer: await makePainting(page, 12, 40),
    });
    await page.click('#style-upload button[type="submit"]');
    const upErr = page.locator('#style-upload .alert');
    await upErr.waitFor();
    assert.match(await upErr.textContent(), /too small \(12×40 px\).*at least 16 px/);
    assert.equal(posted, 0, 'nothing was uploaded');
  } finally {
    await context.close();
  }
});

// Expired jobs need a tiny disk quota: a server of the test's own, with --max-disk-mb 1 and
// --keep-min-minutes 0, so each new job pushes the oldest downloaded one out.
const MODELS = fastModelsDir();
test('expired jobs: the quota removed their images; history and the job panel say so, and they can be deleted', {
  skip: (!fs.existsSync(SERVER_BIN) && `no server binary at ${SERVER_BIN}`) || (!MODELS && 'no fast models for an own server'),
}, async () => {
  const server = await startServer({ args: ['--max-disk-mb', '1', '--keep-min-minutes', '0', '--models-dir', MODELS, '--vgg', 'none'] });
  let context;
  try {
    const v = await visitor({ baseURL: server.url });
    context = v.context;
    const page = v.page;
    const styles = await stylesOf(page);
    const fasts = styles.filter((s) => (s.methods || []).includes('fast'));
    assert.ok(fasts.length, 'the own server has fast styles');
    // Two jobs through the API, each downloaded (undownloaded results are never expired) …
    const older = [];
    for (const st of [fasts[0], fasts[1] || fasts[0]]) {
      const r = await page.request.post('/api/jobs', {
        multipart: { content: { name: 'noise.png', mimeType: 'image/png', buffer: await makeNoise(page) }, method: 'fast', style: st.id },
      });
      assert.equal(r.status(), 202, await r.text());
      const { id } = await r.json();
      for (let i = 0; i < 300; i++) {
        const j = await (await page.request.get(`/api/jobs/${id}`)).json();
        if (j.status === 'done') break;
        assert.ok(['queued', 'running'].includes(j.status), `job ${id}: ${j.status} ${j.error || ''}`);
        await page.waitForTimeout(100);
      }
      assert.equal((await page.request.get(`/api/jobs/${id}/result`)).status(), 200);
      older.push(id);
    }
    // … and a third through the page: making room for it expires the older ones.
    await choosePhoto(page, await makeNoise(page), 'noise.png', 'image/png');
    await pickStyle(page, fasts[0].id);
    await pickMethod(page, 'fast');
    // Small, so that this one fits in the quota beside its photo and stays `done`.
    await openParams(page);
    await page.fill('#p-size', '256');
    await page.click('button.generate');
    await waitForDone(page);
    const expired = [];
    for (const id of older) {
      const j = await (await page.request.get(`/api/jobs/${id}`)).json();
      if (j.status === 'expired') expired.push(id);
    }
    assert.ok(expired.length >= 1, `nothing expired:\n${server.log().slice(-1500)}`);
    for (const p of ['result', 'thumbnail', 'content', 'preview']) {
      const r = await page.request.get(`/api/jobs/${expired[0]}/${p}`);
      assert.equal(r.status(), 410, p);
      assert.ok((await r.json()).error);
    }

    // A fresh look: the history shows the expired jobs with a badge and a note, asks for none of
    // their pictures, and the newest (done) job with its thumbnail.
    const thumbAsks = [];
    page.on('request', (r) => {
      const m = /\/api\/jobs\/([0-9a-f]+)\/thumbnail/.exec(r.url());
      if (m) thumbAsks.push(m[1]);
    });
    await page.reload();
    const item = (id) => page.locator(`#history li[data-job-id="${id}"]`);
    await item(expired[0]).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('#history li[data-status="done"] img')]
      .every((img) => img.complete && img.naturalWidth > 0));
    for (const id of expired) {
      const it = item(id);
      assert.equal(await it.getAttribute('data-status'), 'expired');
      assert.equal(await it.locator('.badge').textContent(), 'Expired');
      assert.match(await it.locator('[data-testid="expired-note"]').textContent(), /removed to free space/);
      assert.equal(await it.locator('img').count(), 0, 'no picture requested for an expired job');
      assert.ok(await it.locator('button.thumb').isDisabled(), 'an expired job cannot be opened');
      assert.match(await it.locator('button.thumb').getAttribute('aria-label'), /expired/);
      assert.ok(await it.locator('[data-testid="delete-history"]').isEnabled());
    }
    assert.deepEqual(thumbAsks.filter((id) => expired.includes(id)), []);
    await scrollTo(page, '#history');
    await shot(page, 'history-expired');

    // The job panel, for an expired job picked up after a reload (the page remembers the job on
    // screen), says what happened and offers to remove it.
    await page.evaluate((id) => sessionStorage.setItem('pastiche-current-job', id), expired[0]);
    await page.reload();
    const panel = page.locator('[data-testid="job-expired"]');
    await panel.waitFor();
    assert.match(await panel.textContent(), /Expired.*removed to free space/);
    assert.match(await page.textContent('[data-testid="live-status"]'), /Expired/);
    assert.equal(await page.locator('[data-testid="job-error"]').count(), 0);
    await top(page);
    await shot(page, 'job-expired');
    await panel.locator('button:has-text("Remove from history")').click();
    await item(expired[0]).waitFor({ state: 'detached' });
    await page.locator('#result h3:has-text("Your painting will appear here")').waitFor();
    // Deleted for good when its Undo toast has gone.
    await page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes(`/api/history/${expired[0]}`), { timeout: 15000 });
    assert.equal((await page.request.get(`/api/jobs/${expired[0]}`)).status(), 404);
    // … and from the history list, like any other job.
    if (expired[1]) {
      await item(expired[1]).locator('[data-testid="delete-history"]').click();
      await item(expired[1]).waitFor({ state: 'detached' });
    }

    // A thumbnail that turns 410 later (expired since the list came) falls back to the icon.
    const done = page.locator('#history li[data-status="done"]').first();
    const doneId = await done.getAttribute('data-job-id');
    await page.route(`**/api/jobs/${doneId}/thumbnail`, (route) => route.fulfill({
      status: 410, contentType: 'application/json', body: JSON.stringify({ error: 'the images of this job were removed' }),
    }));
    await page.reload();
    await item(doneId).waitFor();
    await page.waitForFunction((id) => !document.querySelector(`#history li[data-job-id="${id}"] img`), doneId);
    assert.equal(await item(doneId).locator('.ph svg').count(), 1);
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);
  } finally {
    if (context) await context.close();
    await server.dispose();
  }
});

// A server restart while a job runs: its event stream ends with `shutdown`; the page says the
// server is restarting (not that the job failed) and follows the job again once it is back.
test('a server restart during a job: “restarting”, then the job carries on to its result', {
  skip: (!fs.existsSync(SERVER_BIN) && `no server binary at ${SERVER_BIN}`)
    || ((!GATYS || !process.env.PASTICHE_VGG) && 'no VGG weights for an own server'),
}, async () => {
  const styles = fixtureStyles(fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-e2e-fx-')));
  const server = await startServer({
    args: ['--vgg', process.env.PASTICHE_VGG, '--styles-dir', styles, '--preview-every', '5'],
  });
  let context;
  try {
    const v = await visitor({ baseURL: server.url });
    context = v.context;
    const page = v.page;
    // How the page follows the job once the server is back: a new event stream, or, when the
    // re-queued job is already done by the page's first look (its restart delay is 5 s), that look.
    let restarted = false;
    const afterRestart = [];
    page.on('response', (r) => {
      const p = new URL(r.url()).pathname;
      if (restarted && r.ok() && /^\/api\/jobs\/[^/]+(\/events)?$/.test(p)) afterRestart.push(p);
    });
    await choosePhoto(page, await makePhoto(page));
    await pickStyle(page, 'e2e_stripes');
    await pickMethod(page, 'gatys');
    await openParams(page);
    await page.fill('#p-size', '192');
    await page.fill('#p-steps', '150');
    await page.click('button.generate');
    await page.waitForFunction(() => /Step \d+ of \d+/.test(document.querySelector('[data-testid="status-text"]')?.textContent || ''), null, { timeout: 120000 });
    await server.stop();
    const notice = page.locator('[data-testid="job-notice"]');
    await notice.waitFor({ timeout: 15000 });
    assert.match(await notice.textContent(), /restarting/i);
    assert.equal(await page.locator('[data-testid="job-error"]').count(), 0, 'a restart is not a failure');
    assert.ok(await page.locator('.working').count(), 'the job is still shown as in progress');
    await top(page);
    await shot(page, 'restarting');
    restarted = true;
    await server.restart();
    // The job was queued again across the restart; the page picks it up and sees it through.
    await waitForDone(page, 180000);
    assert.equal(await notice.count(), 0);
    assert.ok(afterRestart.length >= 1, 'the page followed the job again on the restarted server');
    assert.deepEqual(await page.cspViolations(), []);
  } finally {
    if (context) await context.close();
    await server.dispose();
    fs.rmSync(path.dirname(styles), { recursive: true, force: true });
  }
});
