// Shared helpers for the end-to-end tests: Debian's Chromium through playwright-core (no
// browser download), a server URL from the environment, generated test photos.
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const BASE_URL = process.env.PASTICHE_URL || 'http://127.0.0.1:8080';
export const SHOTS_DIR = process.env.PASTICHE_SCREENSHOTS || '';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Set by scripts/test-e2e.sh: whether the server can run the Gatys method.
export const GATYS = process.env.PASTICHE_E2E_GATYS !== '0';

let browser = null;
let userDataDir = null;

export async function launch() {
  if (browser) return browser;
  // playwright-core gives every launch a fresh temporary --user-data-dir of its own (it refuses
  // one passed in args); every test also opens its own context, i.e. its own cookies.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--disable-dev-shm-usage',
    ],
  });
  return browser;
}

// The tests of a file that use the shared server (scripts/test-e2e.sh starts it): checks it answers
// first, closes the browser after.
export function useSharedServer() {
  before(async () => {
    const r = await fetch(`${BASE_URL}/healthz`).catch(() => null);
    if (!r || !r.ok) throw new Error(`server not answering at ${BASE_URL}/healthz`);
  });
  after(close);
}

export async function close() {
  if (browser) await browser.close();
  browser = null;
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}

// A new visitor: own context, so own `pastiche_client` cookie. `baseURL`: another server (see
// startServer). page.errors collects page errors and console errors; page.cspViolations() the
// Content-Security-Policy violations (securitypolicyviolation events and console reports);
// page.firstResponse is the response of the first page load.
// `options`: more browser-context options (e.g. a viewport, or bypassCSP to inject a test tool).
export async function visitor({ phone = false, dark = false, cookies = null, baseURL = BASE_URL, options = {} } = {}) {
  const b = await launch();
  const context = await b.newContext({
    baseURL,
    viewport: phone ? { width: 360, height: 760 } : { width: 1360, height: 900 },
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    colorScheme: dark ? 'dark' : 'light',
    reducedMotion: 'reduce',
    acceptDownloads: true,
    ...options,
  });
  context.setDefaultTimeout(15000);
  if (cookies) await context.addCookies(cookies);
  // Runs before the page's own scripts (and outside its CSP): records every violation report.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.effectiveDirective || e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || '?'}:${e.lineNumber || 0}`);
    });
  });
  const page = await context.newPage();
  const errors = [];
  const cspConsole = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (/Content[ -]Security[ -]Policy/i.test(m.text())) cspConsole.push(m.text());
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  page.cspViolations = async () => [
    ...cspConsole,
    ...(await page.evaluate(() => window.__cspViolations || []).catch(() => [])),
  ];
  page.firstResponse = await page.goto('/');
  await page.waitForSelector('input[name="style"]', { state: 'attached' });
  return { context, page };
}

// A photo drawn on a canvas in the page: a sunset over hills, as a JPEG buffer.
export async function makePhoto(page, w = 480, h = 360) {
  const b64 = await page.evaluate(
    ([w, h]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      const sky = g.createLinearGradient(0, 0, 0, h);
      sky.addColorStop(0, '#3b6fb6');
      sky.addColorStop(0.6, '#f3b27a');
      sky.addColorStop(1, '#e76f51');
      g.fillStyle = sky;
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#ffd166';
      g.beginPath();
      g.arc(w * 0.7, h * 0.45, h * 0.12, 0, Math.PI * 2);
      g.fill();
      g.fillStyle = '#2a9d8f';
      g.beginPath();
      g.moveTo(0, h);
      for (let x = 0; x <= w; x += 8) g.lineTo(x, h * 0.7 - Math.sin(x / 50) * h * 0.08);
      g.lineTo(w, h);
      g.fill();
      g.fillStyle = '#264653';
      g.fillRect(w * 0.15, h * 0.5, w * 0.08, h * 0.3);
      g.beginPath();
      g.arc(w * 0.19, h * 0.48, w * 0.09, 0, Math.PI * 2);
      g.fill();
      return c.toDataURL('image/jpeg', 0.9).split(',')[1];
    },
    [w, h],
  );
  return Buffer.from(b64, 'base64');
}

// A "painting": bold diagonal stripes and dabs, as a PNG buffer (style uploads).
export async function makePainting(page, w = 256, h = 256) {
  const b64 = await page.evaluate(
    ([w, h]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      g.fillStyle = '#f4e3b5';
      g.fillRect(0, 0, w, h);
      const colors = ['#1d3557', '#e63946', '#457b9d', '#f1a208', '#2a9d8f'];
      g.lineWidth = 14;
      g.lineCap = 'round';
      for (let i = 0; i < 40; i++) {
        g.strokeStyle = colors[i % colors.length];
        const x = ((i * 53) % w) - 20;
        const y = ((i * 97) % h) - 20;
        g.beginPath();
        g.moveTo(x, y);
        g.quadraticCurveTo(x + 40, y + 10, x + 70, y + 60);
        g.stroke();
      }
      return c.toDataURL('image/png').split(',')[1];
    },
    [w, h],
  );
  return Buffer.from(b64, 'base64');
}

export async function choosePhoto(page, buffer, name = 'sunset.jpg', mimeType = 'image/jpeg') {
  await page.setInputFiles('#photo-input', { name, mimeType, buffer });
}

export async function shot(page, name, opts = {}) {
  if (!SHOTS_DIR) return;
  fs.mkdirSync(SHOTS_DIR, { recursive: true });
  await page.mouse.move(1, 1); // no hover highlight in the picture
  await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), ...opts });
}

export async function noHorizontalScroll(page) {
  return page.evaluate(() => {
    const d = document.documentElement;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.right > d.clientWidth + 1 || r.left < -1) && getComputedStyle(el).position !== 'fixed';
      })
      .filter((el) => !el.closest('.visually-hidden') && !el.classList.contains('visually-hidden') && !el.closest('dialog:not([open])'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${Math.round(el.getBoundingClientRect().right)}`);
    return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, wide };
  });
}

// Waits until the result panel shows a finished job, returns its status attribute.
export async function waitForDone(page, timeout = 120000) {
  await page.waitForSelector('#result .compare img.after', { timeout });
  await page.waitForFunction(() => {
    const img = document.querySelector('#result .compare img.after');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 30000 });
}

// A noise picture (incompressible: a PNG about as large as its pixels), from a canvas in the page.
export async function makeNoise(page, w = 300, h = 250) {
  const b64 = await page.evaluate(
    ([w, h]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      const img = g.createImageData(w, h);
      for (let i = 0; i < img.data.length; i++) img.data[i] = i % 4 === 3 ? 255 : (Math.random() * 256) | 0;
      g.putImageData(img, 0, 0);
      return c.toDataURL('image/png').split(',')[1];
    },
    [w, h],
  );
  return Buffer.from(b64, 'base64');
}

// --- A server of the test's own (flags the shared one lacks, or one to stop and restart) ---

export const SERVER_BIN = process.env.PASTICHE_BIN || path.join(ROOT, 'build/pastiche');

// Fast models for an own server: $PASTICHE_MODELS_DIR or the checkout's models/ (null: none).
export function fastModelsDir() {
  for (const d of [process.env.PASTICHE_MODELS_DIR, path.join(ROOT, 'models')]) {
    if (d && fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.safetensors'))) return d;
  }
  return null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The synthetic painting of tests/e2e/fixtures.mjs, as a --styles-dir for Gatys jobs.
export function fixtureStyles(dir) {
  execFileSync(process.execPath, [path.join(here, 'fixtures.mjs'), dir], { stdio: 'ignore' });
  return path.join(dir, 'styles');
}

// Starts `pastiche serve` on a free loopback port (or `port`) with its own data directory.
// Returns { url, port, dataDir, log(), stop(), restart() }; stop() is SIGTERM (a graceful
// drain, as a service manager does), then SIGKILL after 20 s.
export async function startServer({ args = [], dataDir = null, port = null } = {}) {
  if (!fs.existsSync(SERVER_BIN)) throw new Error(`no server binary at ${SERVER_BIN}`);
  const dir = dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-e2e-own-'));
  const p = port || (await freePort());
  const url = `http://127.0.0.1:${p}`;
  let out = '';
  let child = null;
  let exited = null;
  const launchOne = async () => {
    exited = null;
    child = spawn(SERVER_BIN, [
      'serve', '--host', '127.0.0.1', '--port', String(p), '--data-dir', path.join(dir, 'data'),
      '--web-dir', path.join(ROOT, 'web/dist'), '--rate-limit', '0', ...args,
    ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const mine = child;
    exited = new Promise((resolve) => mine.on('exit', (code, signal) => resolve({ code, signal })));
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let gone = false;
    exited.then(() => (gone = true));
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`server exited early:\n${out.slice(-2000)}`);
      const r = await fetch(`${url}/healthz`).catch(() => null);
      if (r && r.ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`server at ${url} did not answer /healthz in 60 s:\n${out.slice(-2000)}`);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(t);
  };
  // A crash or power cut: no drain, no `shutdown` event, open streams just go silent or break.
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  await launchOne();
  return {
    url, port: p, dataDir: dir,
    log: () => out,
    stop,
    kill,
    // A hung server (SIGSTOP, then SIGCONT): connections stay open, nothing is answered or sent.
    signal: (sig) => child && child.exitCode === null && child.signalCode === null && child.kill(sig),
    restart: launchOne,
    async dispose() {
      await stop();
      if (!dataDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
