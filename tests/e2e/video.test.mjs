// Video that plays in a browser with its sound (issue 17, item 2): Chromium records a clip the way
// a phone or a web page would (a moving picture on a canvas and a 440 Hz tone, WebM with VP8/VP9
// and Opus), `pastiche stylize-video` paints it, and the same Chromium plays the result: H.264 in
// MP4 with the sound re-encoded to AAC, to the end, at the recorded size, decoding sound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, close, ROOT, SERVER_BIN } from './lib.mjs';

const WIDTH = 320;
const HEIGHT = 180;

async function recordClip(page) {
  const base64 = await page.evaluate(async ({ width, height }) => {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    document.body.append(canvas);
    const g = canvas.getContext('2d');
    const audio = new AudioContext();
    await audio.resume();
    const tone = audio.createOscillator();
    tone.frequency.value = 440;
    const sink = audio.createMediaStreamDestination();
    tone.connect(sink);
    tone.start();
    const stream = new MediaStream([
      ...canvas.captureStream(24).getVideoTracks(), ...sink.stream.getAudioTracks()]);
    const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.start();
    const start = performance.now();
    await new Promise((resolve) => {
      const draw = () => {
        const t = (performance.now() - start) / 1000;
        const sky = g.createLinearGradient(0, 0, width, height);
        sky.addColorStop(0, '#3a6ea5');
        sky.addColorStop(1, '#f4d35e');
        g.fillStyle = sky;
        g.fillRect(0, 0, width, height);
        g.fillStyle = '#c0392b';
        g.beginPath();
        g.arc(30 + 120 * t, height / 2, 24, 0, 2 * Math.PI);
        g.fill();
        if (t < 1.5) requestAnimationFrame(draw); else resolve();
      };
      draw();
    });
    recorder.stop();
    await stopped;
    tone.stop();
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  }, { width: WIDTH, height: HEIGHT });
  return Buffer.from(base64, 'base64');
}

test('a clip recorded in Chromium, painted, plays back in Chromium with its sound', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-video-'));
  const browser = await launch();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto('about:blank');
    const clip = await recordClip(page);
    assert.ok(clip.length > 1000, 'MediaRecorder gave a clip');
    fs.writeFileSync(path.join(dir, 'in.webm'), clip);

    const model = path.join(ROOT, 'models', 'starry_night.safetensors');
    const out = path.join(dir, 'out.mp4');
    const result = JSON.parse(execFileSync(SERVER_BIN, [
      'stylize-video', path.join(dir, 'in.webm'), '--model', model, '-o', out, '--json', '-q'],
    { encoding: 'utf8' }));
    assert.equal(result.codec, 'h264');
    assert.equal(result.audio, 'aac (from opus)');
    assert.ok(result.frames >= 10, `${result.frames} frames`);
    assert.ok(result.warping_error >= 0);

    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>play</title>');
    await page.goto(`file://${dir}/index.html`);
    const played = await page.evaluate(async () => {
      const video = document.createElement('video');
      video.src = 'out.mp4';
      video.muted = true; // autoplay without a gesture; the sound is still decoded
      document.body.append(video);
      const ended = new Promise((resolve, reject) => {
        video.onended = () => resolve('ended');
        video.onerror = () => reject(new Error(video.error ? video.error.message : 'error'));
      });
      await video.play();
      const how = await ended;
      return {
        how,
        width: video.videoWidth,
        height: video.videoHeight,
        duration: video.duration,
        soundBytes: video.webkitAudioDecodedByteCount,
      };
    });
    assert.equal(played.how, 'ended');
    assert.equal(played.width, WIDTH);
    assert.equal(played.height, HEIGHT);
    assert.ok(Math.abs(played.duration - result.duration) < 0.25, JSON.stringify(played));
    assert.ok(played.soundBytes > 0, 'the sound track was decoded');
  } finally {
    await context.close();
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
