// The UI's rough edges (issue 18, item 5): a server that dies mid-job, messages with real
// estimates and in the form's words, checks before uploading, focus, undo, limits from the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  visitor, close, makePhoto, choosePhoto, waitForDone, shot, GATYS, BASE_URL, SERVER_BIN, startServer, fixtureStyles, useSharedServer,
} from './lib.mjs';
import { axeViolations } from './axe.mjs';
import { startGatys } from './paint.mjs';

useSharedServer();

async function device(page) {
  return (await page.request.get('/api/device')).json();
}

async function fastStyle(page) {
  const styles = (await (await page.request.get('/api/styles')).json()).styles;
  return styles.find((s) => (s.methods || []).includes('fast') && s.kind !== 'upload');
}

const statusText = (page) => page.locator('[data-testid="status-text"]').textContent();

// A killed server (no drain, no `shutdown` event): the page says so within 5 s, the server dot
// turns red and the ETA stops; the same server started again (same data, same port) re-queues
// the job, and the page shows it restarted — its loss chart begun again, not joined — and done.
test('the server killed mid-job: “lost contact” within 5 s; after the restart the job shows restarted and finishes', {
  skip: (!fs.existsSync(SERVER_BIN) && `no server binary at ${SERVER_BIN}`)
    || ((!GATYS || !process.env.PASTICHE_VGG) && 'no VGG weights for an own server'),
}, async () => {
  const styles = fixtureStyles(fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-e2e-fx-')));
  const server = await startServer({
    args: ['--vgg', process.env.PASTICHE_VGG, '--styles-dir', styles, '--preview-every', '5'],
  });
  let context;
  try {
    const v = await visitor({ baseURL: server.url, options: { bypassCSP: true } });
    context = v.context;
    const page = v.page;
    await startGatys(page, { styleId: 'e2e_stripes', size: 192, steps: 300 });
    // Well into the run, with a loss curve.
    await page.waitForFunction(() => {
      const m = /Step (\d+) of/.exec(document.querySelector('[data-testid="status-text"]')?.textContent || '');
      return m && +m[1] >= 15 && +document.querySelector('figure.chart')?.dataset.points >= 5;
    }, null, { timeout: 120000 });
    const before = +(await page.getAttribute('figure.chart', 'data-points'));

    const killed = Date.now();
    await server.kill();
    const notice = page.locator('[data-testid="job-notice"]');
    await notice.waitFor({ timeout: 5000 });
    assert.ok(Date.now() - killed < 5000, `told after ${Date.now() - killed} ms`);
    assert.match(await notice.textContent(), /Lost contact with the server — retrying…/);
    assert.match(await page.locator('[data-testid="live-status"]').textContent(), /Lost contact/);
    assert.equal(await page.getAttribute('[data-testid="server-button"]', 'aria-label'), 'Server: lost contact');
    assert.equal(await page.locator('[data-testid="server-button"] .dot.off').count(), 1);
    assert.match(await page.locator('[data-testid="eta"]').textContent(), /paused/);
    assert.equal(await page.locator('[data-testid="job-error"]').count(), 0, 'a lost server is not a failed job');
    assert.deepEqual(await axeViolations(page), []);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'lost-contact');

    await server.restart();
    // Back: the dot is green again, the job is shown started over with a fresh loss curve.
    const restarted = page.locator('[data-testid="job-restarted"]');
    await restarted.waitFor({ timeout: 60000 });
    const after = await page.evaluate(() => ({
      points: +(document.querySelector('figure.chart')?.dataset.points || 0),
      step: +(/Step (\d+) of/.exec(document.querySelector('[data-testid="status-text"]')?.textContent || '') || [0, 0])[1],
    }));
    assert.ok(after.points < before || after.points <= after.step, `loss chart of the new run only: ${JSON.stringify({ before, ...after })}`);
    assert.match(await restarted.textContent(), /started this painting over/);
    assert.equal(await page.locator('[data-testid="job-notice"]').count(), 0);
    await page.waitForFunction(() => !document.querySelector('[data-testid="server-button"] .dot.off'));
    const job = await (await page.request.get(`/api/jobs/${await page.evaluate(() => sessionStorage.getItem('pastiche-current-job'))}`)).json();
    assert.ok(job.attempts >= 2, `attempts ${job.attempts}`);
    await waitForDone(page, 180000);
  } finally {
    if (context) await context.close();
    await server.dispose();
    fs.rmSync(path.dirname(styles), { recursive: true, force: true });
  }
});

// A hung server (SIGSTOP): the connection stays open and says nothing; without heartbeats the
// page could not tell it from a slow step. Told within 5 s; when it wakes (SIGCONT), the same run
// carries on (not restarted) to its result.
test('a hung server: “lost contact” within 5 s of silence, then the same run carries on', {
  skip: (!fs.existsSync(SERVER_BIN) && `no server binary at ${SERVER_BIN}`)
    || ((!GATYS || !process.env.PASTICHE_VGG) && 'no VGG weights for an own server'),
}, async () => {
  const styles = fixtureStyles(fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-e2e-fx-')));
  const server = await startServer({ args: ['--vgg', process.env.PASTICHE_VGG, '--styles-dir', styles] });
  let context;
  try {
    const v = await visitor({ baseURL: server.url });
    context = v.context;
    const page = v.page;
    await startGatys(page, { styleId: 'e2e_stripes', size: 192, steps: 200 });
    await page.waitForFunction(() => /Step \d+ of/.test(document.querySelector('[data-testid="status-text"]')?.textContent || ''), null, { timeout: 120000 });
    const stopped = Date.now();
    server.signal('SIGSTOP');
    try {
      const notice = page.locator('[data-testid="job-notice"]');
      await notice.waitFor({ timeout: 6000 });
      const after = Date.now() - stopped;
      assert.ok(after < 5000, `told after ${after} ms`);
      assert.match(await notice.textContent(), /Lost contact with the server — retrying…/);
      assert.equal(await page.getAttribute('[data-testid="server-button"]', 'aria-label'), 'Server: lost contact');
    } finally {
      server.signal('SIGCONT');
    }
    await page.locator('[data-testid="job-notice"]').waitFor({ state: 'detached', timeout: 30000 });
    assert.equal(await page.locator('[data-testid="job-restarted"]').count(), 0, 'the same run, not a new one');
    await waitForDone(page, 180000);
    assert.equal(await page.getAttribute('[data-testid="server-button"]', 'aria-label'), 'Server');
  } finally {
    if (context) await context.close();
    await server.dispose();
    fs.rmSync(path.dirname(styles), { recursive: true, force: true });
  }
});

test('a queued job says when it should start (the server’s estimate)', { skip: !GATYS && 'no Gatys method' }, async () => {
  const { context, page } = await visitor();
  const ids = [];
  try {
    const styles = (await (await page.request.get('/api/styles')).json()).styles;
    const g = styles.find((s) => (s.methods || []).includes('gatys'));
    // A long best-quality job of this visitor's own holds the lane (one worker).
    const r = await page.request.post('/api/jobs', {
      multipart: {
        content: { name: 'ahead.jpg', mimeType: 'image/jpeg', buffer: await makePhoto(page) },
        style: g.id, method: 'gatys', size: '384', steps: '2000',
      },
    });
    assert.equal(r.status(), 202);
    ids.push((await r.json()).id);
    await choosePhoto(page, await makePhoto(page));
    await page.click(`label.tile[data-style-id="${g.id}"]`);
    await page.click('label.method:has(input[value="gatys"])');
    await page.click('button.generate');
    await page.waitForFunction(() => /starts in about/.test(document.querySelector('[data-testid="status-text"]')?.textContent || ''), null, { timeout: 20000 });
    assert.match(await statusText(page), /In line — 1 ahead of you · starts in about (\d+ s|\d+ min|\d+ h)/);
    assert.match(await page.locator('[data-testid="live-status"]').textContent(), /position 1, starts in about/);
    ids.push(await page.evaluate(() => sessionStorage.getItem('pastiche-current-job')));
  } finally {
    for (const id of ids) if (id) await page.request.delete(`/api/jobs/${id}`).catch(() => {});
    await context.close();
  }
});

test('a parameter the server refuses is named as the form names it, marked, described and focused', { skip: !GATYS && 'no Gatys method' }, async () => {
  const { context, page } = await visitor();
  try {
    const styles = (await (await page.request.get('/api/styles')).json()).styles;
    const g = styles.find((s) => (s.methods || []).includes('gatys'));
    await choosePhoto(page, await makePhoto(page));
    await page.click(`label.tile[data-style-id="${g.id}"]`);
    await page.click('label.method:has(input[value="gatys"])');
    await page.click('details.params > summary');
    await page.click('details.advanced > summary');
    await page.fill('#p-tv', '1e12');
    await page.click('details.params > summary'); // closed again: the error opens it
    await page.click('button.generate');
    const msg = page.locator('#p-tv-error');
    await msg.waitFor();
    assert.equal((await msg.textContent()).trim(), 'Smoothness must be between 0 and 1\u202f000\u202f000\u202f000');
    assert.equal(await page.getAttribute('#p-tv', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#p-tv', 'aria-describedby'), /p-tv-error/);
    await page.waitForFunction(() => document.activeElement?.id === 'p-tv');
    assert.equal(await page.locator('.working').count(), 0);
    // Correcting it clears the mark.
    await page.fill('#p-tv', '1');
    assert.equal(await page.getAttribute('#p-tv', 'aria-invalid'), null);
    assert.equal(await msg.count(), 0);
  } finally {
    await context.close();
  }
});

test('a photo over the upload limit is refused before uploading, naming the limit', async () => {
  const { context, page } = await visitor();
  try {
    let posted = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/jobs') posted++; });
    const limit = (await device(page)).limits.max_upload_bytes;
    assert.ok(limit > 0);
    // Made in the page: 23 MB through the automation protocol takes longer than the test.
    await page.evaluate((n) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(n)], 'huge.jpg', { type: 'image/jpeg' }));
      const input = document.querySelector('#photo-input');
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, Math.round(22.9 * 1048576));
    const err = page.locator('[data-testid="photo-error"]');
    await err.waitFor();
    const mb = +(limit / 1048576).toFixed(1);
    assert.match(await err.textContent(), new RegExp(`That photo is 22\\.9 MB, and over the server’s limit of ${mb} MB`));
    assert.equal(await page.locator('.chosen').count(), 0, 'the photo is not taken');
    await page.click('button.generate');
    assert.equal(posted, 0);
  } finally {
    await context.close();
  }
});

test('“Generate” without a photo: said beside the photo picker, in view, with the focus on it', async () => {
  const { context, page } = await visitor({ phone: true, options: { viewport: { width: 390, height: 844 } } });
  try {
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.click('button.generate');
    const err = page.locator('[data-testid="photo-error"]');
    await err.waitFor();
    assert.match(await err.textContent(), /Choose a photo first/);
    await page.waitForFunction(() => document.activeElement?.matches('.drop button.choose'));
    assert.match(await page.getAttribute('.drop button.choose', 'aria-describedby'), /photo-error/);
    // Scrolled to (smoothly): the message ends up on screen.
    await page.waitForFunction(() => {
      const r = document.querySelector('[data-testid="photo-error"]').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    });
    assert.equal(await page.locator('[data-testid="submit-error"]').count(), 0);
    // Choosing a photo clears it.
    await choosePhoto(page, await makePhoto(page));
    await err.waitFor({ state: 'detached' });
  } finally {
    await context.close();
  }
});

test('sliders stop at the server’s limits; the fast size is the photo’s own (no upscaling)', async () => {
  const { context, page } = await visitor();
  try {
    const { limits } = await device(page);
    const style = await fastStyle(page);
    await page.click(`label.tile[data-style-id="${style.id}"]`);
    await page.click('label.method:has(input[value="fast"])');
    await page.click('details.params > summary');
    assert.equal(+(await page.getAttribute('#p-size', 'max')), limits.max_size);
    await choosePhoto(page, await makePhoto(page, 712, 534));
    await page.waitForFunction(() => /712 px/.test(document.querySelector('output[for="p-size"]')?.textContent || ''));
    await page.click('button.generate');
    await waitForDone(page);
    const id = await page.evaluate(() => document.querySelector('#history li.item')?.dataset.jobId);
    const job = await (await page.request.get(`/api/jobs/${id}`)).json();
    assert.equal(job.params.size, 712);
    assert.deepEqual([job.width, job.height], [712, 534]);
    if (limits.max_steps) {
      const styles = (await (await page.request.get('/api/styles')).json()).styles;
      const g = styles.find((s) => (s.methods || []).includes('gatys'));
      if (g && GATYS) {
        await page.click('#result button:has-text("New")');
        await page.click(`label.tile[data-style-id="${g.id}"]`);
        await page.click('label.method:has(input[value="gatys"])');
        assert.equal(+(await page.getAttribute('#p-steps', 'max')), limits.max_steps);
        assert.equal(+(await page.getAttribute('#p-size', 'max')), limits.max_size);
      }
    }
  } finally {
    await context.close();
  }
});

test('the Server panel: machine details only when the API gives them (operators)', async () => {
  const { context, page } = await visitor();
  try {
    const open = async () => {
      await page.click('[data-testid="server-button"]');
      await page.waitForSelector('dialog[open] [data-testid="device-public"]');
    };
    const shut = () => page.click('dialog[open] button[aria-label="Close"]');
    const pub = {
      version: '1.0', details: false, device: 'cpu', methods: { fast: true, gatys: true }, workers: { fast: 1, gatys: 1 }, queue: { fast: 2, gatys: 0 },
      limits: { max_size: 2048, max_steps: 2000, max_upload_bytes: 20971520, max_queue: 64, max_batch: 10 },
    };
    let answer = pub;
    await page.route('**/api/device', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answer) }));
    await open();
    const text = await page.locator('dialog[open]').textContent();
    assert.match(text, /Queue2 fast waiting/);
    assert.match(text, /Largest output2048 px/);
    assert.match(text, /Most steps2000/);
    assert.equal(await page.locator('[data-testid="device-details"]').count(), 0);
    assert.doesNotMatch(text, /Processor|Memory|LibTorch/);
    await shut();
    answer = { ...pub, details: true, device: 'cpu', device_name: 'EPYC', cores: 16, threads: 16, torch_version: '2.4.0', memory_total_bytes: 2 ** 34 };
    await open();
    const details = page.locator('[data-testid="device-details"]');
    await details.waitFor();
    assert.match(await details.textContent(), /ProcessorEPYC.*Cores \/ threads16 \/ 16.*Memory16 GB.*LibTorch2\.4\.0/);
  } finally {
    await context.close();
  }
});

test('a deletion is sent at once when the page is hidden while its Undo toast shows', async () => {
  const { context, page } = await visitor();
  try {
    await choosePhoto(page, await makePhoto(page));
    await page.click(`label.tile[data-style-id="${(await fastStyle(page)).id}"]`);
    await page.click('label.method:has(input[value="fast"])');
    await page.click('button.generate');
    await waitForDone(page);
    const item = page.locator('#history li.item').first();
    await item.waitFor();
    const id = await item.getAttribute('data-job-id');
    await item.locator('[data-testid="delete-history"]').click();
    await page.locator('[data-testid="undo-toast"]').waitFor();
    // The focused row is gone: the focus is on Undo, not lost to the page.
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Undo');
    const sent = page.waitForRequest((r) => r.method() === 'DELETE' && r.url().includes(`/api/history/${id}`), { timeout: 3000 });
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    assert.equal((await (await sent).response()).status(), 204);
  } finally {
    await context.close();
  }
});

test('the own-painting form opens in view with the focus on its first field', async () => {
  const { context, page } = await visitor({ phone: true, options: { viewport: { width: 390, height: 844 } } });
  try {
    await page.click('button.tile.add');
    await page.waitForFunction(() => document.activeElement?.name === 'style-image');
    await page.waitForFunction(() => {
      const r = document.querySelector('#style-upload').getBoundingClientRect();
      return r.top >= 0 && r.top < innerHeight;
    });
  } finally {
    await context.close();
  }
});

test('a result keeps the photo’s name: downloads and “paint this photo in another style”', async (t) => {
  const { context, page } = await visitor();
  try {
    await choosePhoto(page, await makePhoto(page), 'chicago.jpg');
    await page.click(`label.tile[data-style-id="${(await fastStyle(page)).id}"]`);
    await page.click('label.method:has(input[value="fast"])');
    await page.click('button.generate');
    await waitForDone(page);
    const id = await page.evaluate(() => document.querySelector('#history li.item')?.dataset.jobId);
    const job = await (await page.request.get(`/api/jobs/${id}`)).json();
    if (!job.download_name) return t.skip('this server has no download names yet');
    assert.match(job.download_name, /^chicago-/);
    assert.equal(await page.getAttribute('[data-testid="download"]', 'download'), job.download_name);
    assert.match(await page.getAttribute('[data-testid="download"]', 'href'), /download=1/);
    await page.click('#result button:has-text("Paint this photo")');
    await page.waitForFunction(() => /chicago\.\w+$/.test(document.querySelector('.chosen .name')?.textContent || ''));
  } finally {
    await context.close();
  }
});
