// Helpers of the share, gallery, blend and batch tests: a fast result in a few clicks, styles,
// an own painting, axe-core on the current page, and a zip's entry names.
import assert from 'node:assert/strict';
import { makePhoto, makePainting, choosePhoto, waitForDone } from './lib.mjs';

export { axeViolations } from './axe.mjs';

// A short Gatys job (the e2e server runs tiny synthetic VGG weights unless PASTICHE_VGG is set).
export const GATYS_STEPS = process.env.PASTICHE_E2E_GATYS_STEPS || '20';
export const GATYS_SIZE = process.env.PASTICHE_E2E_GATYS_SIZE || '192';

export async function stylesOf(page) {
  const r = await page.request.get('/api/styles');
  assert.equal(r.status(), 200);
  return (await r.json()).styles;
}

export async function device(page) {
  return (await page.request.get('/api/device')).json();
}

export async function pickStyle(page, id) {
  await page.click(`label.tile[data-style-id="${id}"]`);
  assert.ok(await page.isChecked(`input[name="style"][value="${id}"]`), `style ${id} chosen`);
}

export async function openParams(page) {
  const open = await page.$eval('details.params', (d) => d.open);
  if (!open) await page.click('details.params > summary');
}

// Chooses a photo and starts a Gatys job of `styleId` (default: the first built-in Gatys
// painting, else an own upload; `own`: always an upload); returns the style id.
export async function startGatys(page, { steps = GATYS_STEPS, size = GATYS_SIZE, own = false, styleId = null } = {}) {
  const styles = styleId ? [] : await stylesOf(page);
  const g = !own && styles.find((s) => (s.methods || []).includes('gatys') && s.kind !== 'upload');
  await choosePhoto(page, await makePhoto(page));
  // Without built-in paintings for Gatys, the visitor's own style is the way to use it.
  const id = styleId || (g ? g.id : await uploadStyle(page));
  await pickStyle(page, id);
  await pickMethod(page, 'gatys');
  await openParams(page);
  await page.fill('#p-size', String(size));
  await page.fill('#p-steps', String(steps));
  await page.click('button.generate');
  return id;
}

export async function pickMethod(page, m) {
  await page.click(`label.method:has(input[value="${m}"])`);
  assert.ok(await page.isChecked(`input[name="method"][value="${m}"]`), `method ${m} chosen`);
}

export async function fastStyle(page) {
  const s = (await stylesOf(page)).find((x) => (x.methods || []).includes('fast') && x.kind !== 'upload');
  assert.ok(s, 'the server offers no fast style');
  return s;
}

// A finished fast result on screen; returns the job (from the API).
export async function fastResult(page, name = 'sunset.jpg') {
  const s = await fastStyle(page);
  await choosePhoto(page, await makePhoto(page, 400, 300), name);
  await pickStyle(page, s.id);
  await pickMethod(page, 'fast');
  await page.click('button.generate');
  await waitForDone(page);
  const hist = await (await page.request.get('/api/history?limit=1')).json();
  return hist.items[0];
}

// Uploads an own painting through the style form; returns its id.
export async function uploadStyle(page, title = 'Stripes study') {
  await page.click('button.tile.add');
  await page.setInputFiles('#style-upload input[name="style-image"]', {
    name: 'stripes.png', mimeType: 'image/png', buffer: await makePainting(page),
  });
  await page.fill('#style-upload input[name="style-title"]', title);
  await page.click('#style-upload button[type="submit"]');
  const tile = page.locator('label.tile.selected:has(.own)');
  await tile.waitFor();
  assert.match(await tile.textContent(), new RegExp(title));
  return tile.getAttribute('data-style-id');
}

// The entries of a zip, from its central directory: [{name, method, size, offset}].
export function zipEntries(buf) {
  let end = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { end = i; break; }
  }
  assert.ok(end >= 0, 'no end-of-central-directory record: not a zip');
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = [];
  for (let k = 0; k < count; k++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'central directory entry signature');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const offset = buf.readUInt32LE(p + 42);
    out.push({ name: buf.subarray(p + 46, p + 46 + nameLen).toString('utf8'), method, size, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

// The bytes of one stored (method 0) entry.
export function zipData(buf, entry) {
  const o = entry.offset;
  assert.equal(buf.readUInt32LE(o), 0x04034b50, 'local header signature');
  const start = o + 30 + buf.readUInt16LE(o + 26) + buf.readUInt16LE(o + 28);
  return buf.subarray(start, start + entry.size);
}

// A finished fast job made through the API (no UI): returns its job view.
export async function apiFastJob(page, name = 'photo.jpg') {
  const s = await fastStyle(page);
  const r = await page.request.post('/api/jobs', {
    multipart: {
      content: { name, mimeType: 'image/jpeg', buffer: await makePhoto(page, 320, 240) },
      style: s.id, method: 'fast', size: '256',
    },
  });
  assert.equal(r.status(), 202, await r.text());
  const { id } = await r.json();
  for (let i = 0; i < 600; i++) {
    const j = await (await page.request.get(`/api/jobs/${id}`)).json();
    if (j.status === 'done') return j;
    assert.ok(['queued', 'running'].includes(j.status), `job ${id}: ${j.status} ${j.error || ''}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`job ${id} did not finish`);
}
