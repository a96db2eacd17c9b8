#!/usr/bin/env node
// Writes synthetic images for the e2e server when the checkout has no shipped models or
// paintings: a striped "painting" with a JSON sidecar (a Gatys style for --styles-dir) and a few
// small photos (a dataset to train a throw-away fast model on). Plain PNG, no dependencies.
//
//   node tests/e2e/fixtures.mjs OUT_DIR
//   → OUT_DIR/styles/e2e_stripes.png + .json, OUT_DIR/photos/photo_N.png
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const out = process.argv[2];
if (!out) {
  console.error('usage: fixtures.mjs OUT_DIR');
  process.exit(2);
}

const crcTable = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
// rgb(x, y) → [r, g, b] in 0..255
function png(w, h, rgb) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const [r, g, b] = rgb(x, y);
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
const styles = path.join(out, 'styles');
const photos = path.join(out, 'photos');
fs.mkdirSync(styles, { recursive: true });
fs.mkdirSync(photos, { recursive: true });

// The painting: the closed-form stripes of the C++ test fixtures (synthetic_style_image).
const W = 256;
fs.writeFileSync(path.join(styles, 'e2e_stripes.png'), png(W, W, (x, y) => {
  const u = (x + 0.5) / W;
  const v = (y + 0.5) / W;
  return [
    clamp(255 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 8 * (u + v)))),
    clamp(255 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 5 * u) * Math.cos(2 * Math.PI * 5 * v))),
    clamp(255 * (0.5 + 0.5 * Math.cos(2 * Math.PI * 12 * v))),
  ];
}));
fs.writeFileSync(path.join(styles, 'e2e_stripes.json'), JSON.stringify({
  title: 'Stripes (test pattern)',
  artist: 'Pastiche test suite',
  description: 'Sine-wave stripes in red, green and blue, made up for the end-to-end tests. Expect bold diagonal banding.',
}, null, 2));

// Photos: gradients with a disc and a bar, in a few colourings.
for (let i = 0; i < 4; i++) {
  const w = 96;
  const h = 72;
  fs.writeFileSync(path.join(photos, `photo_${i}.png`), png(w, h, (x, y) => {
    const u = x / w;
    const v = y / h;
    const inDisc = (u - 0.3 - 0.1 * i) ** 2 + (v - 0.4) ** 2 < 0.04;
    const inBar = u > 0.6 && u < 0.75 && v > 0.2 + 0.1 * i;
    if (inDisc) return [230, 60 + 40 * i, 50];
    if (inBar) return [40, 60, 170 - 20 * i];
    return [clamp(255 * u), clamp(255 * v), clamp(128 + 30 * i)];
  }));
}
console.log(`fixtures in ${out}: styles/e2e_stripes.png (+json), photos/photo_0..3.png`);
