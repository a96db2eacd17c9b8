#!/usr/bin/env node
// A stand-in for `pastiche serve` for developing the web UI: implements the documented API
// (docs/api.md) with fake jobs, serves web/dist at `/`. Not used by the final e2e run.
//
//   node tests/e2e/mock-server.mjs --port 8080 [--dist web/dist] [--images DIR] [--queue-limit N]
//        [--expire-after SECONDS] [--admin-key KEY] [--public-metrics] [--no-gatys] [--speed N]
//
// --images: a folder of style pictures to use as thumbnails (default: generated SVGs).
// --expire-after: finished jobs turn `expired` that long after finishing, as the real server's
//   disk quota does (images answer 410, the row stays in the history). Default: never.
// --admin-key / --public-metrics: who sees the detailed /api/device fields (as `serve`).
// Like the real server it sends the security headers (CSP and co.), refuses POST/DELETE from
// another Origin (403), refuses images under 16 px a side or longer than 10:1 (400), and on
// SIGINT/SIGTERM ends open event streams with `retry: 5000` + `event: shutdown`.
// POST /api/_mock/restart?seconds=N (no Origin check) plays a restart without exiting: streams
// get `shutdown`, every request gets 503 for N seconds (default 3), running jobs start over.
// POST /api/_mock/freeze?seconds=N plays a hung server: no heartbeats, progress or answers for N s
// (default 10), connections left open.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as social from './mock-social.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const PORT = +(args.port || 8080);
const DIST = path.resolve(args.dist || path.join(here, '../../web/dist'));
const IMAGES = args.images || null;
const QUEUE_LIMIT = +(args['queue-limit'] || 8);
const SPEED = +(args.speed || 1); // >1 = faster fake jobs
const NO_GATYS = 'no-gatys' in args; // pretend there are no VGG weights
const EXPIRE_AFTER = args['expire-after'] !== undefined ? +args['expire-after'] : null; // seconds
const ADMIN_KEY = args['admin-key'] || process.env.PASTICHE_ADMIN_KEY || '';
const PUBLIC_METRICS = 'public-metrics' in args;
const MIN_SIDE = 16;
const MAX_ASPECT = 10;
const FINISHED = ['done', 'failed', 'cancelled', 'expired'];
const EXPIRED_ERROR = "the images of this job were removed to free disk space (the server keeps finished jobs' images while its disk quota allows)";

// The headers `pastiche serve` puts on every response (docs/api.md, "Browser security").
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
let drainingUntil = 0; // a played restart: 503 until then
let frozenUntil = 0; // a played hang (POST /api/_mock/freeze?seconds=N): silence until then

const BUILTIN = [
  ['starry_night', 'The Starry Night', 'Vincent van Gogh, 1889', 'Swirling ultramarine and cobalt night sky over a quiet village, laid on in thick, rhythmic impasto strokes. Expect bold curving brushwork and glowing yellow highlights.', ['fast', 'gatys']],
  ['great_wave', 'The Great Wave off Kanagawa', 'Katsushika Hokusai, c. 1831', 'A woodblock print of Prussian blue and pale cream with crisp outlines and flat areas of colour. Expect clean contours and curling, claw-like foam.', ['fast', 'gatys']],
  ['the_scream', 'The Scream', 'Edvard Munch, 1893', 'Feverish oranges against deep blues in long, wavering bands of colour. Expect flowing, agitated lines that bend everything around them.', ['fast', 'gatys']],
  ['woman_with_hat', 'Woman with a Hat', 'Henri Matisse, 1905', 'Fauvist patches of unmixed green, violet and orange set side by side. Expect loud colour and loose, visible dabs of paint.', ['fast', 'gatys']],
  ['udnie', 'Udnie', 'Francis Picabia, 1913', 'Fragmented, interlocking planes in soft greys, blues and ochres. Expect a cubist shattering of shapes into angular facets.', ['gatys']],
  ['composition_vii', 'Composition VII', 'Wassily Kandinsky, 1913', 'An abstract storm of overlapping colour fields and black lines. Expect vivid, chaotic shapes with no fixed perspective.', ['gatys']],
  ['four_masters', 'Four Masters', 'Van Gogh, Hokusai, Munch, Matisse', 'One network that learned four paintings at once; mix them in any proportion.', ['fast'], ['starry_night', 'great_wave', 'the_scream', 'woman_with_hat']],
];

const SVG_COLORS = [
  ['#1b3a6b', '#f2c14e', '#3e7cb1'], ['#23486b', '#f1ead8', '#6d95b8'], ['#d9692b', '#2d3f6e', '#e8b04a'],
  ['#3f8f5a', '#8d3fa6', '#f08a3c'], ['#8a8f99', '#c2a36b', '#4d6a8a'], ['#c23a3a', '#2a62b8', '#e6c229'],
];

function svgThumb(i) {
  const [a, b, c] = SVG_COLORS[i % SVG_COLORS.length];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${a}"/><stop offset="1" stop-color="${c}"/></linearGradient></defs><rect width="320" height="240" fill="url(#g)"/><g fill="none" stroke="${b}" stroke-width="9" stroke-linecap="round" opacity=".85"><path d="M-10 180 C60 120 120 220 200 150 S300 90 340 130"/><path d="M-10 80 C50 40 110 120 170 70 S280 20 340 50" opacity=".6"/></g><circle cx="250" cy="60" r="26" fill="${b}" opacity=".9"/></svg>`;
}

function thumbFor(id, i) {
  if (IMAGES) {
    for (const ext of ['.jpg', '.jpeg', '.png']) {
      const p = path.join(IMAGES, id + ext);
      if (fs.existsSync(p)) return { type: ext === '.png' ? 'image/png' : 'image/jpeg', body: fs.readFileSync(p) };
    }
  }
  return { type: 'image/svg+xml', body: Buffer.from(svgThumb(i)) };
}

const clients = new Map(); // client id -> { styles: [], jobs: [] }
const jobs = new Map();
let seq = 0;

function client(req, res) {
  const m = /(?:^|;\s*)pastiche_client=([^;]+)/.exec(req.headers.cookie || '');
  let id = m && m[1];
  if (!id || !clients.has(id)) {
    id = id || crypto.randomBytes(12).toString('hex');
    clients.set(id, { styles: [], history: [] });
    res.setHeader('Set-Cookie', `pastiche_client=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`);
  }
  return { id, ...clients.get(id), data: clients.get(id) };
}

function json(res, status, body, headers = {}) {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length, ...headers });
  res.end(b);
}

function readBody(req, limit = 20 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) {
        reject(Object.assign(new Error('too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseMultipart(buf, type) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type || '');
  if (!m) return null;
  const boundary = Buffer.from('--' + (m[1] || m[2]));
  const fields = {};
  const files = {};
  const all = []; // every part in order (several files may share a name: batches)
  let pos = buf.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (buf.slice(start, start + 2).toString() === '--') break;
    const headEnd = buf.indexOf('\r\n\r\n', start);
    if (headEnd === -1) break;
    const head = buf.slice(start + 2, headEnd).toString();
    const next = buf.indexOf(boundary, headEnd);
    if (next === -1) break;
    const body = buf.slice(headEnd + 4, next - 2);
    const name = /name="([^"]*)"/.exec(head);
    const filename = /filename="([^"]*)"/.exec(head);
    const ctype = /content-type:\s*([^\r\n]+)/i.exec(head);
    if (name) {
      if (filename) files[name[1]] = { filename: filename[1], type: ctype ? ctype[1] : '', body };
      else fields[name[1]] = body.toString();
      all.push({ name: name[1], filename: filename ? filename[1] : undefined, body });
    }
    pos = next;
  }
  return { fields, files, all };
}

function imageType(b) {
  if (!b || b.length < 12) return null;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.slice(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.slice(0, 4).toString() === 'RIFF' && b.slice(8, 12).toString() === 'WEBP') return 'image/webp';
  if (b.slice(0, 3).toString() === 'GIF') return 'image/gif';
  return null;
}

function pngSize(b, type) {
  if (type === 'image/png') return [b.readUInt32BE(16), b.readUInt32BE(20)];
  if (type === 'image/jpeg') {
    let i = 2;
    while (i < b.length) {
      if (b[i] !== 0xff) break;
      const marker = b[i + 1];
      const len = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xc3) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
      i += 2 + len;
    }
  }
  return [640, 480];
}

// The server's shape rule for every uploaded image; '' when fine.
function shapeError(field, w, h) {
  if (Math.min(w, h) < MIN_SIDE) return `${field}: ${w}x${h} is too small: at least ${MIN_SIDE} px on each side`;
  if (Math.max(w, h) > MAX_ASPECT * Math.min(w, h)) {
    return `${field}: ${w}x${h} is too elongated: the long side may be at most ${MAX_ASPECT} times the short side`;
  }
  return '';
}

// A POST/DELETE from a page of another origin (Origin, else Referer) → the server's 403 text.
function foreignOrigin(req) {
  let origin = req.headers.origin;
  if (!origin && req.headers.referer) {
    try { origin = new URL(req.headers.referer).origin; } catch { origin = 'null'; }
  }
  if (!origin) return ''; // curl, scripts: not browser-driven
  const own = [`http://${req.headers.host}`, `https://${req.headers.host}`];
  return own.includes(origin) ? '' : `Origin: requests from ${origin} may not change anything here (allow it with serve --allowed-origin)`;
}

function isAdmin(req) {
  return PUBLIC_METRICS || (ADMIN_KEY && req.headers['x-admin-key'] === ADMIN_KEY);
}

// Finished jobs past --expire-after lose their images, like the real disk quota.
function expireDue() {
  if (EXPIRE_AFTER === null) return;
  const now = Date.now();
  for (const j of jobs.values()) {
    if (['done', 'failed', 'cancelled'].includes(j.status) && j.finished_at && now - Date.parse(j.finished_at) >= EXPIRE_AFTER * 1000) {
      j.status = 'expired';
      j.content = null;
      j.previewed = false;
    }
  }
}

function allStyles(c) {
  return [
    ...BUILTIN.map(([id, title, artist, description, methods, styles = []]) => ({
      id, title, artist, description, kind: 'builtin', owned: false, styles,
      methods: NO_GATYS ? methods.filter((m) => m !== 'gatys') : methods,
      thumbnail_url: `/api/styles/${id}/thumbnail`,
    })),
    ...c.data.styles.map((s) => ({ ...s, body: undefined, type: undefined })),
  ].filter((s) => s.methods.length);
}

function urls(id) {
  const b = `/api/jobs/${id}`;
  return { self: b, events: `${b}/events`, result: `${b}/result`, preview: `${b}/preview`, thumbnail: `${b}/thumbnail`, content: `${b}/content` };
}

function publicJob(j) {
  return {
    id: j.id, status: j.status, method: j.method, style: j.style, style_title: j.style_title, params: j.params,
    position: j.status === 'queued' ? j.position : 0, progress: j.progress, error: j.error || null, attempts: j.started ? 1 : 0,
    // A rough estimate of the wait, as the real server gives for queued jobs.
    ...(j.status === 'queued' && j.position > 0 ? { wait_seconds: j.position * (j.method === 'gatys' ? 40 : 3) / SPEED } : {}),
    created_at: j.created_at, started_at: j.started ? new Date(j.started).toISOString() : null,
    finished_at: j.finished_at || null, seconds: j.seconds || null,
    width: j.status === 'done' ? j.width : null, height: j.status === 'done' ? j.height : null, urls: urls(j.id),
    ...social.jobExtras(j),
  };
}

function emit(j, event, data) {
  if (Date.now() < frozenUntil && !FINISHED.includes(event)) return; // a hung server says nothing
  for (const res of j.listeners) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  if (FINISHED.includes(event)) {
    for (const res of j.listeners) res.end();
    j.listeners.clear();
  }
}

function finish(j, status, error) {
  clearInterval(j.timer);
  j.status = status;
  j.error = error || null;
  j.finished_at = new Date().toISOString();
  j.seconds = (Date.now() - j.started) / 1000;
  emit(j, status, publicJob(j));
}

function running() {
  return [...jobs.values()].filter((j) => j.status === 'running').length;
}

function pump() {
  // One job at a time, like a single CPU worker.
  if (running()) return;
  const next = [...jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.seq - b.seq)[0];
  if (!next) return;
  start(next);
  let pos = 1;
  for (const j of [...jobs.values()].filter((x) => x.status === 'queued').sort((a, b) => a.seq - b.seq)) j.position = pos++;
}

function start(j) {
  j.status = 'running';
  j.started = Date.now();
  emit(j, 'status', publicJob(j));
  const total = j.method === 'gatys' ? +(j.params.steps || 60) : 1;
  j.params.steps = j.method === 'gatys' ? total : 0;
  const scales = j.method === 'gatys' ? 2 : 1;
  let it = 0;
  let cl = 40;
  let sl = 900;
  const tickMs = j.method === 'gatys' ? 120 / SPEED : 700 / SPEED;
  j.timer = setInterval(() => {
    if (j.status !== 'running') return clearInterval(j.timer);
    it++;
    cl = cl * 0.985 + Math.random() * 0.3 + 0.2;
    sl = sl * 0.93 + Math.random() * 3;
    const elapsed = (Date.now() - j.started) / 1000;
    j.progress = {
      iteration: it, total, scale: it <= total / 2 ? 1 : 2, scales, content_loss: +cl.toFixed(3), style_loss: +sl.toFixed(3),
      tv_loss: 0.5, elapsed_seconds: +elapsed.toFixed(2), eta_seconds: +((elapsed / it) * (total - it)).toFixed(1),
    };
    emit(j, 'progress', j.progress);
    if (j.method === 'gatys' && it % 10 === 0) {
      j.previewed = true;
      emit(j, 'preview', { url: `/api/jobs/${j.id}/preview?i=${it}`, iteration: it });
    }
    if (it >= total) {
      if (j.content.length && j.params.style === 'fail_me') return finish(j, 'failed', 'the engine ran out of memory');
      finish(j, 'done');
      pump();
    }
  }, tickMs);
}

function sendFile(res, body, type, extra = {}) {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json' };

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  let m;
  if (p === '/api/_mock/restart' && req.method === 'POST') {
    playRestart(+(url.searchParams.get('seconds') || 3));
    return json(res, 202, { restarting_for: +(url.searchParams.get('seconds') || 3) });
  }
  if (p === '/api/_mock/freeze' && req.method === 'POST') {
    frozenUntil = Date.now() + +(url.searchParams.get('seconds') || 10) * 1000;
    return json(res, 202, { frozen_for: +(url.searchParams.get('seconds') || 10) });
  }
  // A hung server: connections stay open, nothing is answered or sent until it thaws.
  while (Date.now() < frozenUntil) await new Promise((r) => setTimeout(r, 200));
  if (Date.now() < drainingUntil) {
    return json(res, 503, { error: 'the server is shutting down; try again shortly' }, { 'Retry-After': '5' });
  }
  if (['POST', 'DELETE', 'PUT', 'PATCH'].includes(req.method)) {
    const foreign = foreignOrigin(req);
    if (foreign) return json(res, 403, { error: foreign });
  }
  expireDue();
  const c = client(req, res);
  if (await social.handle(req, res, url, c)) return; // share links, gallery, batches

  if (p === '/healthz') return json(res, 200, { status: 'ok' });
  if (p === '/api/device') {
    // The public answer; paths, memory, BLAS and the allocator need the admin key.
    // As the real one: methods, workers, queue, limits and the version for everyone; the
    // machine's details (CPU, memory, libraries) with the admin key only, marked `details`.
    const queued = { fast: 0, gatys: 0 };
    for (const j of jobs.values()) if (j.status === 'queued') queued[j.method === 'gatys' ? 'gatys' : 'fast']++;
    const d = {
      version: '0.1.0-mock',
      methods: { fast: true, gatys: !NO_GATYS },
      gatys_unavailable_reason: NO_GATYS ? 'not configured on this server' : null,
      workers: { fast: 1, gatys: 1 },
      queue: queued,
      limits: {
        max_upload_bytes: 20971520, max_pixels: 40000000, max_size: 2048, max_steps: 2000, max_queue: QUEUE_LIMIT,
        max_aspect_ratio: MAX_ASPECT, min_side: MIN_SIDE, max_batch: 10, max_caption: 140,
      },
    };
    if (isAdmin(req)) {
      Object.assign(d, {
        details: true, device: 'cpu', device_name: 'Mock CPU (Node.js)', threads: 2, torch_version: '2.1.2',
        cores: 2, cuda_available: false, cuda_devices: 0,
        blas: 'openblas', allocator: 'tcmalloc',
        memory_total_bytes: 8 * 1024 ** 3, memory_available_bytes: 5.2 * 1024 ** 3, peak_rss_bytes: 612 * 1024 ** 2,
        vgg: NO_GATYS ? null : { path: 'vgg19.safetensors', arch: 'vgg19', convention: 'torchvision', layers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'] },
      });
      if (NO_GATYS) d.gatys_unavailable_reason = 'no VGG weights found: run `pastiche weights …` or set PASTICHE_VGG';
    }
    return json(res, 200, d);
  }
  if (p === '/metrics') {
    if (!isAdmin(req)) return json(res, 403, { error: 'X-Admin-Key: /metrics needs the admin key' });
    const by = {};
    for (const j of jobs.values()) by[j.status] = (by[j.status] || 0) + 1;
    const lines = Object.entries(by).map(([k, v]) => `pastiche_jobs{state="${k}"} ${v}`);
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    return res.end(lines.join('\n') + '\n');
  }
  if (p === '/api/styles' && req.method === 'GET') return json(res, 200, { styles: allStyles(c) });
  if (p === '/api/styles' && req.method === 'POST') {
    let body;
    try { body = await readBody(req); } catch (e) { return json(res, 413, { error: 'image: larger than 20 MB' }); }
    const mp = parseMultipart(body, req.headers['content-type']);
    const f = mp && mp.files.image;
    if (!f) return json(res, 400, { error: 'image: missing' });
    const type = imageType(f.body);
    if (!type) return json(res, 415, { error: 'image: not a decodable image' });
    const bad = shapeError('image', ...pngSize(f.body, type));
    if (bad) return json(res, 400, { error: bad });
    const id = 'u' + crypto.randomBytes(5).toString('hex');
    const s = {
      id, title: (mp.fields.title || 'My style').slice(0, 80), artist: '', description: 'Your own style image.',
      methods: ['gatys'], kind: 'upload', owned: true, thumbnail_url: `/api/styles/${id}/thumbnail`, body: f.body, type,
    };
    c.data.styles.push(s);
    return json(res, 201, { ...s, body: undefined, type: undefined });
  }
  if ((m = /^\/api\/styles\/([^/]+)\/thumbnail$/.exec(p))) {
    const own = c.data.styles.find((s) => s.id === m[1]);
    if (own) return sendFile(res, own.body, own.type);
    const i = BUILTIN.findIndex((b) => b[0] === m[1]);
    if (i < 0) return json(res, 404, { error: 'style: not found' });
    const t = thumbFor(m[1], i);
    return sendFile(res, t.body, t.type);
  }
  if ((m = /^\/api\/styles\/([^/]+)$/.exec(p)) && req.method === 'DELETE') {
    const i = c.data.styles.findIndex((s) => s.id === m[1]);
    if (i < 0) return json(res, 404, { error: 'style: not found' });
    c.data.styles.splice(i, 1);
    res.writeHead(204);
    return res.end();
  }
  if (p === '/api/jobs' && req.method === 'POST') {
    let body;
    try { body = await readBody(req); } catch (e) { return json(res, 413, { error: 'content: larger than 20 MB' }); }
    const mp = parseMultipart(body, req.headers['content-type']);
    if (!mp || !mp.files.content) return json(res, 400, { error: 'content: missing file' });
    const type = imageType(mp.files.content.body);
    if (!type) return json(res, 415, { error: 'content: not a decodable image (JPEG, PNG, WebP, BMP or TIFF)' });
    const f = mp.fields;
    const method = f.method || 'fast';
    if (!['fast', 'gatys'].includes(method)) return json(res, 400, { error: 'method: must be fast or gatys' });
    const size = +(f.size || 512);
    if (!(size >= 64 && size <= 2048)) return json(res, 400, { error: 'size: must be between 64 and 2048' });
    const styles = allStyles(c);
    // Several ids (gatys): a blend, titled like the server does ("A + B").
    const blend = String(f.style || '').split(',').map((id) => styles.find((s) => s.id === id));
    const st = blend.every(Boolean) && { ...blend[0], title: blend.map((s) => s.title).join(' + ') };
    if (!st) return json(res, 400, { error: `style: unknown style "${f.style}"` });
    if (!st.methods.includes(method)) return json(res, 400, { error: `method: style "${f.style}" has no ${method} model` });
    const waiting = [...jobs.values()].filter((j) => j.status === 'queued').length;
    if (waiting >= QUEUE_LIMIT) return json(res, 429, { error: 'queue: full, try again later' }, { 'Retry-After': '30' });
    const id = 'j' + crypto.randomBytes(6).toString('hex');
    const [w, h] = pngSize(mp.files.content.body, type);
    const bad = shapeError('content', w, h);
    if (bad) return json(res, 400, { error: bad });
    const scale = Math.min(1, size / Math.max(w, h));
    const params = { size, steps: method === 'gatys' ? 60 : 0, style_weight: 1000, content_weight: 1, tv_weight: 1, original_colors: false, blend: 1, seed: 0, style_mix: {} };
    for (const k of ['steps', 'style_weight', 'content_weight', 'tv_weight', 'blend', 'seed']) if (f[k] !== undefined) params[k] = +f[k];
    if (f.style_mix) params.style_mix = Object.fromEntries(f.style_mix.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, +v]));
    if (f.original_colors !== undefined) params.original_colors = ['true', '1', 'on'].includes(f.original_colors);
    const j = {
      id, seq: seq++, client: c.id, status: 'queued', method, style: f.style, style_title: st.title, params, position: waiting + 1,
      progress: null, created_at: new Date().toISOString(), width: Math.round(w * scale), height: Math.round(h * scale),
      content: mp.files.content.body, type, listeners: new Set(),
    };
    jobs.set(id, j);
    c.data.history.unshift(id);
    pump();
    return json(res, 202, { id, status: j.status, position: j.status === 'queued' ? j.position : 0, urls: urls(id) });
  }
  if ((m = /^\/api\/jobs\/([^/]+)(\/[a-z]+)?$/.exec(p))) {
    const j = jobs.get(m[1]);
    if (!j || j.client !== c.id) return json(res, 404, { error: 'job: not found' });
    const sub = m[2] || '';
    if (!sub && req.method === 'GET') return json(res, 200, publicJob(j));
    if (!sub && req.method === 'DELETE') {
      const wasRunning = j.status === 'running';
      if (['queued', 'running'].includes(j.status)) {
        // A running job stops "at its next iteration".
        setTimeout(() => { if (['queued', 'running'].includes(j.status)) { finish(j, 'cancelled'); pump(); } }, wasRunning ? 150 : 0);
      }
      return json(res, wasRunning ? 202 : 200, publicJob(j));
    }
    if (sub === '/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(`event: status\ndata: ${JSON.stringify(publicJob(j))}\n\n`);
      if (FINISHED.includes(j.status)) {
        res.write(`event: ${j.status}\ndata: ${JSON.stringify(publicJob(j))}\n\n`);
        return res.end();
      }
      if (j.progress) res.write(`event: progress\ndata: ${JSON.stringify(j.progress)}\n\n`);
      j.listeners.add(res);
      // Every 2 s, as `pastiche serve` does when nothing else is sent; none while frozen.
      const beat = setInterval(() => {
        if (Date.now() >= frozenUntil) res.write(`event: heartbeat\ndata: ${JSON.stringify({ at: Date.now() })}\n\n`);
      }, 2000);
      req.on('close', () => { clearInterval(beat); j.listeners.delete(res); });
      return;
    }
    if (['/content', '/preview', '/thumbnail', '/result'].includes(sub) && j.status === 'expired') {
      return json(res, 410, { error: EXPIRED_ERROR });
    }
    if (sub === '/content') return sendFile(res, j.content, j.type);
    if (sub === '/preview') return j.previewed ? sendFile(res, j.content, j.type) : json(res, 404, { error: 'preview: none yet' });
    if (sub === '/thumbnail') return sendFile(res, j.content, j.type);
    if (sub === '/result') {
      if (j.status !== 'done') return json(res, 409, { error: 'job: not finished' });
      const extra = url.searchParams.get('download') ? { 'Content-Disposition': `attachment; filename="pastiche-${j.id}.jpg"` } : {};
      return sendFile(res, j.content, j.type, extra);
    }
    return json(res, 404, { error: 'not found' });
  }
  if (p === '/api/history' && req.method === 'GET') {
    const limit = +(url.searchParams.get('limit') || 20);
    const offset = +(url.searchParams.get('offset') || 0);
    const all = c.data.history.map((id) => jobs.get(id)).filter(Boolean);
    return json(res, 200, { items: all.slice(offset, offset + limit).map(publicJob), total: all.length, limit, offset });
  }
  if ((m = /^\/api\/history\/([^/]+)$/.exec(p)) && req.method === 'DELETE') {
    const i = c.data.history.indexOf(m[1]);
    if (i < 0) return json(res, 404, { error: 'job: not found' });
    c.data.history.splice(i, 1);
    jobs.delete(m[1]);
    res.writeHead(204);
    return res.end();
  }
  if (p.startsWith('/api/')) return json(res, 404, { error: 'not found' });

  // Static files from web/dist, index.html for anything else.
  let file = path.join(DIST, path.normalize(decodeURIComponent(p)).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(DIST, 'index.html');
  if (!fs.existsSync(file)) return json(res, 404, { error: 'web/dist not built' });
  return sendFile(res, fs.readFileSync(file), MIME[path.extname(file)] || 'application/octet-stream');
}

// Ends every open event stream the way a draining server does.
function sendShutdown() {
  const reason = JSON.stringify({ reason: 'the server is restarting; reconnect shortly' });
  for (const j of jobs.values()) {
    for (const res of j.listeners) {
      res.write(`retry: 5000\nevent: shutdown\ndata: ${reason}\n\n`);
      res.end();
    }
    j.listeners.clear();
  }
}

// A restart without exiting: streams end with `shutdown`, 503 for a while, running jobs are
// queued again (as `serve` does for jobs interrupted by a restart).
function playRestart(seconds) {
  sendShutdown();
  drainingUntil = Date.now() + seconds * 1000;
  for (const j of jobs.values()) {
    if (j.status === 'running') {
      clearInterval(j.timer);
      j.status = 'queued';
      j.progress = null;
    }
  }
  setTimeout(pump, seconds * 1000);
}

social.init({ jobs, json, readBody, parseMultipart, imageType, pngSize, shapeError, allStyles, urls, pump, publicJob, nextSeq: () => seq++ });

const server = http.createServer((req, res) => {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  handle(req, res).catch((e) => {
    console.error(e);
    if (!res.headersSent) json(res, 500, { error: 'internal error' });
  });
});
server.listen(PORT, '127.0.0.1', () => console.log(`mock pastiche on http://127.0.0.1:${PORT}`));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    sendShutdown();
    setTimeout(() => process.exit(0), 50);
  });
}
