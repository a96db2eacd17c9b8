// Accessibility: axe-core (tests/e2e/package.json, exact version) on the main screens, at a
// desktop and a phone size, in the light and the dark theme: 0 violations of the WCAG 2.1 A and
// AA rules. Also the focus and live-region behaviour axe cannot see: where focus goes after a
// photo is chosen and when a result arrives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { visitor, close, makePhoto, choosePhoto, waitForDone, BASE_URL, useSharedServer } from './lib.mjs';
import { axeViolations } from './axe.mjs';

const SIZES = {
  desktop: { width: 1360, height: 900 },
  phone: { width: 390, height: 844 },
};

useSharedServer();

// The page's CSP (script-src 'self') would block an inline script: these contexts bypass it,
// for the injected tool only (the app itself is the same).
async function axeVisitor(size, dark) {
  return visitor({
    phone: size === 'phone',
    dark,
    options: { viewport: SIZES[size], bypassCSP: true },
  });
}

async function expectClean(page, where) {
  const found = await axeViolations(page);
  assert.equal(found.length, 0, `axe on ${where}:\n${found.join("\n")}`);
}

async function fastStyle(page) {
  const r = await page.request.get('/api/styles');
  const styles = (await r.json()).styles;
  return styles.find((s) => (s.methods || []).includes('fast') && s.kind !== 'upload') || styles[0];
}

for (const size of ['desktop', 'phone']) {
  for (const dark of [false, true]) {
    const name = `${size}, ${dark ? 'dark' : 'light'}`;
    test(`axe: no WCAG 2.1 A/AA violations on the main screens (${name})`, async () => {
      const { context, page } = await axeVisitor(size, dark);
      try {
        await expectClean(page, `the start screen (${name})`);

        // A photo chosen, a painting picked, the parameters open.
        await choosePhoto(page, await makePhoto(page, 480, 360));
        await page.waitForSelector('.chosen img');
        const style = await fastStyle(page);
        await page.click(`label.tile[data-style-id="${style.id}"]`);
        await page.click('details.params > summary');
        await expectClean(page, `a chosen photo and style (${name})`);

        // A finished result (and the history below it).
        await page.click(`label.method:has(input[value="fast"])`);
        await page.click('button.generate');
        await waitForDone(page);
        await page.locator('#history li.item').first().waitFor();
        await expectClean(page, `a finished result (${name})`);

        // The history, one opened again.
        await page.evaluate(() => document.querySelector('#history').scrollIntoView());
        await page.locator('#history li.item button[aria-label^="Open"]').first().click();
        await waitForDone(page);
        await expectClean(page, `the history (${name})`);

        // The Server panel.
        await page.getByRole('button', { name: /^Server/ }).click();
        await page.waitForSelector('dialog[open] dl');
        await expectClean(page, `the Server panel (${name})`);
        await page.click('dialog[open] button[aria-label="Close"]');

        // A deletion's Undo toast.
        await page.locator('#history [data-testid="delete-history"]').first().click();
        await page.locator('[data-testid="undo-toast"]').waitFor();
        await expectClean(page, `the Undo toast (${name})`);
        assert.deepEqual(page.errors, []);
      } finally {
        await context.close();
      }
    });
  }
}

for (const [size, dark] of [['desktop', false], ['phone', true]]) {
  const name = `${size}, ${dark ? 'dark' : 'light'}`;
  test(`axe: messages and forms (${name})`, async () => {
    const { context, page } = await axeVisitor(size, dark);
    try {
      // "Generate" without a photo: the message beside the picker.
      await page.click('button.generate');
      await page.locator('[data-testid="photo-error"]').waitFor();
      await expectClean(page, `the photo picker's message (${name})`);
      // The own-painting form.
      await page.click('button.tile.add');
      await page.waitForSelector('#style-upload');
      await expectClean(page, `the own-painting form (${name})`);
      // A parameter the server refuses, marked at its control (the server's 400, played).
      await page.route('**/api/jobs', (route) => (route.request().method() === 'POST'
        ? route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'size: must be between 64 and 2048', field: 'size' }) })
        : route.continue()));
      await choosePhoto(page, await makePhoto(page));
      await page.click('button.generate');
      await page.locator('#p-size-error').waitFor();
      await expectClean(page, `a refused parameter (${name})`);
    } finally {
      await context.close();
    }
  });
}

test('the icon-only header controls have names on a phone', async () => {
  const { context, page } = await axeVisitor('phone', false);
  try {
    // At 390 px the words are hidden; the accessible names stay.
    assert.equal(await page.getByRole('link', { name: 'History' }).count(), 1);
    assert.equal(await page.getByRole('button', { name: /^Server/ }).count(), 1);
  } finally {
    await context.close();
  }
});

test('focus: to the chosen photo after choosing a file, to the result when it arrives (announced)', async () => {
  const { context, page } = await axeVisitor('desktop', false);
  try {
    await choosePhoto(page, await makePhoto(page, 480, 360), 'harbour.jpg');
    await page.waitForSelector('.chosen img');
    await page.waitForFunction(() => document.activeElement && document.activeElement.closest('#photo-step .chosen'));
    assert.match(await page.evaluate(() => document.activeElement.textContent || document.activeElement.getAttribute('aria-label')), /harbour/);
    const style = await fastStyle(page);
    await page.click(`label.tile[data-style-id="${style.id}"]`);
    await page.click(`label.method:has(input[value="fast"])`);
    await page.click('button.generate');
    await waitForDone(page);
    await page.waitForFunction(() => document.activeElement && document.activeElement.closest('#result'));
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H3');
    const live = page.locator('[data-testid="live-status"]');
    assert.equal(await live.getAttribute('aria-live'), 'polite');
    assert.match(await live.textContent(), /ready/i);

    // Someone typing elsewhere keeps their place when a result arrives (the live region tells).
    await page.click('#result button:has-text("New")');
    await page.route('**/api/jobs', async (route) => {
      if (route.request().method() === 'POST') await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.click('button.tile.add');
    await page.click('button.generate');
    await page.focus('#style-upload input[name="style-title"]');
    await page.keyboard.type('Sea');
    assert.equal(await page.locator('#result .compare').count(), 0, 'typing before the result arrives');
    await waitForDone(page);
    await page.waitForFunction(() => /ready/i.test(document.querySelector('[data-testid="live-status"]').textContent));
    assert.equal(await page.evaluate(() => document.activeElement.name), 'style-title');
  } finally {
    await context.close();
  }
});
