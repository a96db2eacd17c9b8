// Style blending (issue 18): "Blend paintings" in the style picker, two paintings mixed 70/30
// with sliders, painted with the instant method (or best quality where the server has no
// instant one); the result's details and the history say "A 70% + B 30%".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { visitor, close, makePhoto, choosePhoto, waitForDone, shot, BASE_URL, useSharedServer } from './lib.mjs';
import { stylesOf, device, pickMethod, uploadStyle, axeViolations, GATYS_STEPS, GATYS_SIZE } from './paint.mjs';

useSharedServer();

const has = (m, k) => (Array.isArray(m) ? m.includes(k) : !!(m && m[k]));

test('two paintings blended 70/30 show the blend in the result and the history', async (t) => {
  const { context, page } = await visitor({ options: { bypassCSP: true } });
  try {
    const methods = (await device(page)).methods;
    const method = has(methods, 'arbitrary') ? 'arbitrary' : has(methods, 'gatys') ? 'gatys' : null;
    if (!method) {
      t.skip('the server has neither the instant nor the best-quality method');
      return;
    }
    const paintings = (await stylesOf(page)).filter((s) => (s.methods || []).includes(method) && s.kind !== 'upload');
    // Too few built-in paintings: the visitor's own one makes up the pair.
    if (paintings.length < 2) {
      await uploadStyle(page, 'Blend study');
      paintings.push((await stylesOf(page)).find((s) => s.title === 'Blend study'));
    }
    const [a, b] = paintings;

    await choosePhoto(page, await makePhoto(page, 320, 240));
    await page.click('[data-testid="blend-toggle"]');
    // The painting picked before starts the blend; start over so that the order is a, b.
    for (const id of await page.$$eval('input[name="blend"]:checked', (els) => els.map((e) => e.value))) {
      await page.click(`label.tile[data-style-id="${id}"]`);
    }
    for (const s of [a, b]) await page.click(`label.tile[data-style-id="${s.id}"]`);
    assert.deepEqual(await page.$$eval('input[name="blend"]:checked', (els) => els.map((e) => e.value)).then((v) => v.sort()), [a.id, b.id].sort());
    const mix = page.locator('[data-testid="blend-mix"]');
    await page.fill(`#blend-${a.id}`, '70');
    await page.fill(`#blend-${b.id}`, '30');
    assert.deepEqual(await mix.locator('output').allTextContents(), ['70%', '30%']);
    assert.deepEqual(await axeViolations(page, '[data-testid="blend-mix"]'), []);
    await pickMethod(page, method);
    assert.equal(await page.isDisabled('input[name="method"][value="fast"]'), true, 'no fast method for a blend');
    if (method === 'gatys') {
      await page.click('details.params > summary');
      await page.fill('#p-size', GATYS_SIZE);
      await page.fill('#p-steps', GATYS_STEPS);
    }
    // The picture for the docs: the whole "Choose a painting" card, mix sliders included.
    await page.evaluate(() => window.scrollTo(0, 0));
    const box = await page.locator('section[aria-labelledby="h-style"]').boundingBox();
    await shot(page, 'blend', { fullPage: true, clip: { x: box.x - 8, y: box.y - 8, width: box.width + 16, height: box.height + 16 } });
    await page.click('button.generate');
    await waitForDone(page, 180000);

    const expected = `${a.title} 70% + ${b.title} 30%`;
    assert.equal((await page.textContent('[data-testid="blend-label"]')).trim(), expected);
    const job = (await (await page.request.get('/api/history?limit=1')).json()).items[0];
    assert.equal(job.style, `${a.id},${b.id}`);
    assert.deepEqual(job.params.style_mix, { [a.id]: 0.7, [b.id]: 0.3 });
    const row = page.locator(`#history li[data-job-id="${job.id}"] .title`);
    await row.waitFor();
    assert.equal((await row.textContent()).trim(), expected);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test('a multi-style fast model mixes its own paintings; the result says how', async (t) => {
  const { context, page } = await visitor();
  try {
    const styles = await stylesOf(page);
    const model = styles.find((s) => (s.methods || []).includes('fast') && (s.styles || []).length > 1);
    if (!model) {
      t.skip('the server has no multi-style fast model');
      return;
    }
    const [first, second] = model.styles;
    await choosePhoto(page, await makePhoto(page, 320, 240));
    await page.click(`label.tile[data-style-id="${model.id}"]`);
    await pickMethod(page, 'fast');
    await page.click('details.params > summary');
    await page.fill(`#p-mix-${second}`, '1');
    await page.click('button.generate');
    await waitForDone(page);
    const job = (await (await page.request.get('/api/history?limit=1')).json()).items[0];
    const m = job.params.style_mix;
    assert.ok(m[first] > 0 && Math.abs(m[first] - m[second]) < 1e-9, `an even mix: ${JSON.stringify(m)}`);
    const title = (id) => (styles.find((s) => s.id === id) || {}).title;
    const label = (await page.textContent('[data-testid="blend-label"]')).trim();
    assert.match(label, /^.+ 50% \+ .+ 50%$/);
    for (const id of [first, second]) if (title(id)) assert.ok(label.includes(title(id)), `${label} names ${title(id)}`);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});
