// Shared helpers for the end-to-end tests: Debian's Chromium through playwright-core (no
// browser download), a server URL from the environment, generated test photos.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

export async function close() {
  if (browser) await browser.close();
  browser = null;
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}

// A new visitor: own context, so own `pastiche_client` cookie.
export async function visitor({ phone = false, dark = false, cookies = null } = {}) {
  const b = await launch();
  const context = await b.newContext({
    baseURL: BASE_URL,
    viewport: phone ? { width: 360, height: 760 } : { width: 1360, height: 900 },
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    colorScheme: dark ? 'dark' : 'light',
    reducedMotion: 'reduce',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(15000);
  if (cookies) await context.addCookies(cookies);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  await page.goto('/');
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
