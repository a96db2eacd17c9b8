// The mock server's share links, gallery and batches (docs/api.md, issue 18), for developing the
// web UI without the real server: same routes, same JSON, in memory. mock-server.mjs calls
// init() once with its helpers and handle() for every request before its own routes.
import crypto from 'node:crypto';

let h = null; // { jobs, json, readBody, parseMultipart, imageType, pngSize, shapeError, allStyles, urls, pump, nextSeq }
const shares = new Map(); // token -> { job, published, caption, published_at, hidden, votes: Map(client -> stars) }
const batches = new Map(); // id -> { id, client, created_at, jobs: [ids] }

export function init(helpers) {
  h = helpers;
}

const slug = (t) => String(t || '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const shareOf = (j) => [...shares.entries()].find(([, s]) => s.job === j.id) || null;

function shareView(token, s) {
  const votes = [...s.votes.values()];
  const avg = votes.length ? votes.reduce((a, b) => a + b, 0) / votes.length : null;
  return {
    url: `/s/${token}`, token, published: s.published, caption: s.caption || null,
    rating_avg: avg === null ? null : +avg.toFixed(2), rating_count: votes.length,
  };
}

// Fields the job views gain (merged into publicJob).
export function jobExtras(j) {
  const s = shareOf(j);
  const name = j.content_name || '';
  const styleSlug = String(j.style_title || j.style).split(' + ').map(slug).join('-and-');
  return {
    share: s ? shareView(s[0], s[1]) : null,
    batch: j.batch || null,
    content_name: name || null,
    download_name: `${name || 'pastiche'}-${styleSlug}.png`,
  };
}

function contentName(filename) {
  return String(filename || '').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60);
}

function ownJob(c, id) {
  const j = h.jobs.get(id);
  return j && j.client === c.id ? j : null;
}

function workView(token, s, c) {
  const j = h.jobs.get(s.job);
  const st = h.allStyles(c).find((x) => x.id === j.style);
  const v = shareView(token, s);
  return {
    token, url: v.url, image_url: `/s/${token}/image`, thumbnail_url: `/s/${token}/thumbnail`, caption: v.caption,
    style_title: j.style_title, artist: (st && st.artist) || '', method: j.method, width: j.width, height: j.height,
    published_at: s.published_at, rating_avg: v.rating_avg, rating_count: v.rating_count,
    my_rating: s.votes.get(c.id) || null, mine: j.client === c.id,
  };
}

const esc = (t) => String(t).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function sharePage(req, token, s) {
  const j = h.jobs.get(s.job);
  const origin = `http://${req.headers.host}`;
  const title = `${j.style_title} — Pastiche`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<meta property="og:title" content="${esc(title)}"><meta property="og:description" content="A photo painted as ${esc(j.style_title)}">
<meta property="og:image" content="${origin}/s/${token}/image"><meta property="og:image:width" content="${j.width}">
<meta property="og:image:height" content="${j.height}"><meta property="og:image:type" content="${j.type}">
<meta property="og:url" content="${origin}/s/${token}"><meta property="og:type" content="website">
<meta name="twitter:card" content="summary_large_image"><meta name="twitter:title" content="${esc(title)}">
<meta name="twitter:image" content="${origin}/s/${token}/image"></head>
<body><main><h1>${esc(j.style_title)}</h1>${s.published && s.caption ? `<p>${esc(s.caption)}</p>` : ''}
<img src="/s/${token}/image" width="${j.width}" height="${j.height}" alt="A photo painted as ${esc(j.style_title)}">
<p><a href="/">Make your own</a>${s.published ? ' · <a href="/gallery">Gallery</a>' : ''}</p></main></body></html>`;
}

function createJob(c, fields, file, batchId) {
  const type = h.imageType(file.body);
  const [w, hh] = h.pngSize(file.body, type);
  const st = h.allStyles(c).find((s) => s.id === fields.style);
  const size = +(fields.size || 512);
  const scale = Math.min(1, size / Math.max(w, hh));
  const id = 'j' + crypto.randomBytes(6).toString('hex');
  const method = fields.method || 'fast';
  const j = {
    id, seq: h.nextSeq(), client: c.id, status: 'queued', method, style: fields.style, style_title: st.title,
    params: { size, steps: method === 'gatys' ? +(fields.steps || 60) : 0, blend: 1, style_mix: {} }, position: 1,
    progress: null, created_at: new Date().toISOString(), width: Math.round(w * scale), height: Math.round(hh * scale),
    content: file.body, type, listeners: new Set(), batch: batchId, content_name: contentName(file.filename),
  };
  h.jobs.set(id, j);
  c.data.history.unshift(id);
  return j;
}

// A stored zip (no compression) of [name, bytes] entries.
function zip(entries) {
  const table = new Int32Array(256).map((_, n) => {
    let x = n;
    for (let k = 0; k < 8; k++) x = x & 1 ? 0xedb88320 ^ (x >>> 1) : x >>> 1;
    return x;
  });
  const crc = (b) => {
    let x = -1;
    for (const byte of b) x = table[(x ^ byte) & 0xff] ^ (x >>> 8);
    return (x ^ -1) >>> 0;
  };
  const local = [];
  const central = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0); head.writeUInt16LE(20, 4); head.writeUInt32LE(crc(data), 14);
    head.writeUInt32LE(data.length, 18); head.writeUInt32LE(data.length, 22); head.writeUInt16LE(n.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0); dir.writeUInt16LE(20, 4); dir.writeUInt16LE(20, 6); dir.writeUInt32LE(crc(data), 16);
    dir.writeUInt32LE(data.length, 20); dir.writeUInt32LE(data.length, 24); dir.writeUInt16LE(n.length, 28); dir.writeUInt32LE(offset, 42);
    local.push(head, n, data);
    central.push(dir, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

async function jsonBody(req) {
  const b = await h.readBody(req, 64 * 1024);
  try { return b.length ? JSON.parse(b.toString()) : {}; } catch { return null; }
}

function noContent(res) {
  res.writeHead(204);
  res.end();
}

// true when the request was answered here.
export async function handle(req, res, url, c) {
  const p = url.pathname;
  const { json } = h;
  let m;
  if ((m = /^\/api\/jobs\/([^/]+)\/(share|publish)$/.exec(p))) {
    const j = ownJob(c, m[1]);
    if (!j) return json(res, 404, { error: 'job: not found' }), true;
    let s = shareOf(j);
    if (req.method === 'POST') {
      if (j.status !== 'done') return json(res, 409, { error: 'share: only a finished result can be shared' }), true;
      let caption = null;
      if (m[2] === 'publish') {
        const body = await jsonBody(req);
        caption = body && typeof body.caption === 'string' ? body.caption.trim() : '';
        if (caption.length > 140 || /[\u0000-\u001f]/.test(caption)) return json(res, 400, { error: 'caption: at most 140 characters of plain text', field: 'caption' }), true;
      }
      if (!s) {
        const token = crypto.randomBytes(16).toString('base64url');
        shares.set(token, { job: j.id, published: false, caption: null, votes: new Map(), created_at: new Date().toISOString() });
        s = [token, shares.get(token)];
      }
      if (m[2] === 'share') return json(res, 200, { token: s[0], url: `/s/${s[0]}`, created_at: s[1].created_at }), true;
      Object.assign(s[1], { published: true, caption: caption || null, published_at: s[1].published_at || new Date().toISOString() });
      return json(res, 200, shareView(s[0], s[1])), true;
    }
    if (req.method === 'DELETE') {
      if (s && m[2] === 'share') shares.delete(s[0]);
      if (s && m[2] === 'publish') Object.assign(s[1], { published: false, published_at: null });
      return noContent(res), true;
    }
    return false;
  }
  if (p === '/api/gallery' && req.method === 'GET') {
    const sort = url.searchParams.get('sort') === 'top' ? 'top' : 'newest';
    const limit = Math.min(60, Math.max(1, +(url.searchParams.get('limit') || 24)));
    const offset = Math.max(0, +(url.searchParams.get('offset') || 0));
    const score = (s) => ([...s.votes.values()].reduce((a, b) => a + b, 0) + 9) / (s.votes.size + 3);
    const all = [...shares.entries()].filter(([, s]) => s.published && !s.hidden && h.jobs.has(s.job));
    all.sort(([, a], [, b]) => (sort === 'top' ? score(b) - score(a) || b.votes.size - a.votes.size : 0) || String(b.published_at).localeCompare(String(a.published_at)));
    return json(res, 200, { works: all.slice(offset, offset + limit).map(([t, s]) => workView(t, s, c)), total: all.length, limit, offset, sort }), true;
  }
  if ((m = /^\/api\/gallery\/([^/]+)\/rating$/.exec(p))) {
    const s = shares.get(m[1]);
    if (!s || !s.published || s.hidden) return json(res, 404, { error: 'rating: no such work in the gallery' }), true;
    if (h.jobs.get(s.job).client === c.id) return json(res, 403, { error: 'rating: you cannot rate your own work' }), true;
    if (req.method === 'DELETE') return s.votes.delete(c.id), noContent(res), true;
    const body = await jsonBody(req);
    const stars = body && body.stars;
    if (!Number.isInteger(stars) || stars < 1 || stars > 5) return json(res, 400, { error: 'stars: must be a whole number from 1 to 5', field: 'stars' }), true;
    s.votes.set(c.id, stars);
    const v = shareView(m[1], s);
    return json(res, 200, { rating_avg: v.rating_avg, rating_count: v.rating_count, my_rating: stars }), true;
  }
  if ((m = /^\/s\/([^/]+)(\/image|\/thumbnail)?$/.exec(p))) {
    const s = shares.get(m[1]);
    const j = s && !s.hidden && h.jobs.get(s.job);
    if (!j) {
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><title>Not found</title><h1>This link does not work any more</h1>'), true;
    }
    if (m[2]) {
      res.writeHead(200, { 'Content-Type': j.type, 'Cache-Control': 'public, max-age=300', 'Cross-Origin-Resource-Policy': 'cross-origin' });
      return res.end(j.content), true;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    return res.end(sharePage(req, m[1], s)), true;
  }
  if (p === '/api/batches' && req.method === 'POST') {
    const mp = h.parseMultipart(await h.readBody(req), req.headers['content-type'], true);
    const files = (mp && mp.all.filter((f) => f.name === 'content' && f.filename !== undefined)) || [];
    if (!files.length || files.length > 10) return json(res, 400, { error: 'content: give 1 to 10 photos', field: 'content' }), true;
    const st = h.allStyles(c).find((s) => s.id === mp.fields.style);
    if (!st) return json(res, 400, { error: `style: unknown style "${mp.fields.style}"`, field: 'style' }), true;
    for (const [i, f] of files.entries()) {
      const type = h.imageType(f.body);
      const bad = !type ? 'not an image' : h.shapeError('content', ...h.pngSize(f.body, type));
      if (bad) return json(res, 400, { error: `content[${i + 1}] (${f.filename}): ${bad}`, field: 'content' }), true;
    }
    const id = 'b' + crypto.randomBytes(6).toString('hex');
    const made = files.map((f) => createJob(c, mp.fields, f, id));
    batches.set(id, { id, client: c.id, created_at: new Date().toISOString(), jobs: made.map((j) => j.id) });
    h.pump();
    return json(res, 202, { id, jobs: made.map((j) => h.publicJob(j)) }), true;
  }
  if ((m = /^\/api\/batches\/([^/]+)(\/zip)?$/.exec(p)) && req.method === 'GET') {
    const b = batches.get(m[1]);
    if (!b || b.client !== c.id) return json(res, 404, { error: 'batch: not found' }), true;
    const js = b.jobs.map((id) => h.jobs.get(id)).filter(Boolean);
    if (!m[2]) {
      return json(res, 200, { id: b.id, created_at: b.created_at, jobs: js.map((j) => h.publicJob(j)), done: js.filter((j) => j.status === 'done').length, total: js.length }), true;
    }
    const ready = js.filter((j) => j.status === 'done');
    if (!ready.length) return json(res, 409, { error: 'zip: no result is ready yet' }), true;
    const seen = new Map();
    const entries = ready.map((j) => {
      let name = jobExtras(j).download_name;
      const n = (seen.get(name) || 0) + 1;
      seen.set(name, n);
      if (n > 1) name = name.replace(/\.png$/, `-${n}.png`);
      return [name, j.content];
    });
    const body = zip(entries);
    res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': body.length, 'Content-Disposition': `attachment; filename="pastiche-${slug(js[0].style_title)}-${js.length}-photos.zip"` });
    return res.end(body), true;
  }
  return false;
}
