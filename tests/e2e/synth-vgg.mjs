#!/usr/bin/env node
// Writes tiny synthetic VGG19 weights (torchvision layout: features.N.weight OIHW, float32) so the
// e2e tests can run Gatys jobs without downloading real weights. Same recipe as the C++ test
// fixture write_synthetic_vgg(): kaiming-normal (fan_out) convolutions, small random biases,
// deterministic for a seed. The pictures are meaningless; the job mechanics are real.
//
//   node tests/e2e/synth-vgg.mjs OUT.safetensors [--blocks 3] [--seed 0]
import fs from 'node:fs';

const argv = process.argv.slice(2);
const out = argv.find((a) => !a.startsWith('--'));
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? +argv[i + 1] : def;
};
const blocks = opt('blocks', 3);
const seed = opt('seed', 0);
if (!out || !(blocks >= 1 && blocks <= 5)) {
  console.error('usage: synth-vgg.mjs OUT.safetensors [--blocks 1-5] [--seed N]');
  process.exit(2);
}

// mulberry32 + Box-Muller: a small deterministic normal generator.
let state = (seed ^ 0x9e3779b9) >>> 0;
function uniform() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function normal() {
  const u = Math.max(uniform(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
}

const convsPerBlock = [2, 2, 4, 4, 4]; // VGG19
const widths = [64, 128, 256, 512, 512];
const tensors = [];
let cin = 3;
let index = 0; // position in torchvision's features Sequential
for (let b = 0; b < blocks; b++) {
  for (let c = 0; c < convsPerBlock[b]; c++) {
    const cout = widths[b];
    const std = Math.sqrt(2 / (cout * 9));
    const w = new Float32Array(cout * cin * 9);
    for (let i = 0; i < w.length; i++) w[i] = normal() * std;
    const bias = new Float32Array(cout);
    for (let i = 0; i < cout; i++) bias[i] = normal() * 0.05;
    tensors.push([`features.${index}.weight`, [cout, cin, 3, 3], w]);
    tensors.push([`features.${index}.bias`, [cout], bias]);
    cin = cout;
    index += 2; // conv, relu
  }
  index += 1; // pool
}

const header = { __metadata__: { format: 'pt', source: 'pastiche synthetic test weights' } };
let offset = 0;
for (const [name, shape, data] of tensors) {
  header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
  offset += data.byteLength;
}
let json = JSON.stringify(header);
while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
const fd = fs.openSync(out, 'w');
fs.writeSync(fd, len);
fs.writeSync(fd, Buffer.from(json));
for (const [, , data] of tensors) fs.writeSync(fd, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
fs.closeSync(fd);
console.log(`${out}: synthetic VGG19 blocks 1-${blocks}, ${tensors.length / 2} convolutions, ${offset} bytes of weights`);
