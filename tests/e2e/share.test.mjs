// Share links (issue 18): "Share" on a result makes a public /s/<token> page that another
// visitor (a fresh browser context: no cookie of the owner's) can open, with the picture and
// Open Graph tags; "Stop sharing" makes the link 404 at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { visitor, close, shot, BASE_URL, useSharedServer } from './lib.mjs';
import { fastResult, axeViolations } from './paint.mjs';

useSharedServer();

async function shareLink(page) {
  await page.click('[data-testid="share"]');
  const input = page.locator('[data-testid="share-link"]');
  await input.waitFor();
  return input.inputValue();
}

const meta = (page, key) =>
  page.$eval(`meta[property="${key}"], meta[name="${key}"]`, (m) => m.getAttribute('content')).catch(() => null);

test('a shared result opens for another visitor, with its picture and a preview card; stop sharing ends it', async () => {
  const { context, page } = await visitor({ options: { bypassCSP: true } });
  let friend = null;
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
    const job = await fastResult(page);
    const link = await shareLink(page);
    const token = link.split('/s/')[1];
    assert.equal(link, `${BASE_URL}/s/${token}`, 'an absolute link to /s/<token>');
    assert.match(token, /^[A-Za-z0-9_-]{22,}$/, 'a 128-bit base64url token');
    assert.deepEqual(await axeViolations(page, '[data-testid="share-dialog"]'), [], 'share dialog is accessible');
    await shot(page, 'share-dialog');

    // Copy puts the link on the clipboard.
    await page.click('[data-testid="share-dialog"] button:has-text("Copy")');
    await page.locator('[data-testid="share-note"]', { hasText: 'Link copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);

    // The job knows it is shared: the history row gets a badge, and the same link comes back.
    await page.keyboard.press('Escape');
    const row = page.locator(`#history li[data-job-id="${job.id}"]`);
    await row.locator('[data-testid="shared-badge"]', { hasText: 'Shared' }).waitFor();
    assert.deepEqual(await axeViolations(page, '#history'), [], 'history with a shared badge is accessible');
    const again = await (await page.request.post(`/api/jobs/${job.id}/share`)).json();
    assert.equal(again.token, token, 'sharing again reuses the link');
    assert.equal((await (await page.request.get(`/api/jobs/${job.id}`)).json()).share.token, token);

    // A friend on a phone, without the owner's cookie.
    friend = await visitor({ phone: true, options: { bypassCSP: true } });
    const res = await friend.page.goto(link);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^text\/html/);
    const img = friend.page.locator(`img[src$="/s/${token}/image"]`);
    await img.waitFor();
    await friend.page.waitForFunction((t) => {
      const i = document.querySelector(`img[src$="/s/${t}/image"]`);
      return i && i.complete && i.naturalWidth > 0;
    }, token);
    assert.ok(await img.getAttribute('alt'), 'the picture has a text alternative');
    assert.ok(await friend.page.locator('a[href="/"]').count(), 'a "make your own" link');

    // Open Graph / Twitter card tags for chat previews.
    const ogImage = await meta(friend.page, 'og:image');
    assert.match(ogImage || '', new RegExp(`^https?://[^/]+/s/${token}/image$`), `og:image absolute: ${ogImage}`);
    assert.equal(+(await meta(friend.page, 'og:image:width')), job.width);
    assert.equal(+(await meta(friend.page, 'og:image:height')), job.height);
    assert.ok(await meta(friend.page, 'og:title'), 'og:title');
    assert.equal(await meta(friend.page, 'og:type'), 'website');
    assert.equal(await meta(friend.page, 'twitter:card'), 'summary_large_image');
    assert.ok((await friend.page.title()).length > 0, '<title>');

    const pic = await friend.page.request.get(`/s/${token}/image`);
    assert.equal(pic.status(), 200);
    assert.match(pic.headers()['content-type'], /^image\//);
    assert.match(pic.headers()['cache-control'] || '', /public/);
    assert.deepEqual(await axeViolations(friend.page), [], 'the share page is accessible (phone, light)');
    await shot(friend.page, 'share-page-phone', { fullPage: true });
    const desk = await friend.context.browser().newContext({
      viewport: { width: 1360, height: 900 }, colorScheme: 'dark', bypassCSP: true,
    });
    const deskPage = await desk.newPage();
    await deskPage.goto(link);
    await deskPage.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    assert.deepEqual(await axeViolations(deskPage), [], 'the share page is accessible (desktop, dark)');
    await deskPage.emulateMedia({ colorScheme: 'light' });
    await shot(deskPage, 'share-page');

    // Stop sharing (in the dialog): the page and the image are gone at once.
    await page.click('[data-testid="share"]');
    await page.click('[data-testid="stop-sharing"]');
    await page.locator('[data-testid="share-note"]', { hasText: 'Sharing stopped' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'new-link', 'focus on "Make a new link"');
    assert.equal((await friend.page.goto(link)).status(), 404);
    assert.equal((await friend.page.request.get(`/s/${token}/image`)).status(), 404);
    assert.deepEqual(await axeViolations(friend.page), [], 'the gone-link page is accessible');
    await deskPage.goto(link);
    assert.deepEqual(await axeViolations(deskPage), [], 'the gone-link page is accessible (dark)');
    await desk.close();
    await page.keyboard.press('Escape');
    assert.equal(await row.locator('[data-testid="shared-badge"]').count(), 0, 'badge gone from history');
    assert.deepEqual(page.errors, []);
  } finally {
    if (friend) await friend.context.close();
    await context.close();
  }
});

test('"Stop sharing" in the history ends a link (on a phone)', async () => {
  const { context, page } = await visitor({ phone: true });
  try {
    const job = await fastResult(page, 'harbour.jpg');
    const link = await shareLink(page);
    // The dialog fits a 360 px screen: nothing of it cut off at the side.
    const fit = await page.$eval('[data-testid="share-dialog"]', (d) => {
      const r = d.getBoundingClientRect();
      const out = [...d.querySelectorAll('input, button, a')].filter((el) => el.getBoundingClientRect().right > r.right - 1);
      return { scroll: d.scrollWidth, client: d.clientWidth, out: out.map((el) => el.textContent.trim() || el.id) };
    });
    assert.ok(fit.scroll <= fit.client && !fit.out.length, `share dialog fits the phone: ${JSON.stringify(fit)}`);
    await page.keyboard.press('Escape');
    const row = page.locator(`#history li[data-job-id="${job.id}"]`);
    assert.equal((await page.request.get(link)).status(), 200);
    await row.locator('[data-testid="history-unshare"]').click();
    await row.locator('[data-testid="shared-badge"]').waitFor({ state: 'detached' });
    assert.equal((await page.request.get(link)).status(), 404);
    assert.equal((await (await page.request.get(`/api/jobs/${job.id}`)).json()).share, null);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});
