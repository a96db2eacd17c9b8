import { describe, it, expect } from 'vitest';
import {
  formatDuration, relativeTime, formatBytes, styleMixString, parseStyleMix, paramsSummary, brushLabel, fastStrengthLabel,
  strengthToWeight, weightToStrength, formatWait, megabytes, groupDigits, plainFieldError,
} from './format.js';
import { describeError } from './api.js';

describe('format', () => {
  it('durations', () => {
    expect(formatDuration(4.4)).toBe('4 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(3720)).toBe('1 h 2 min');
    expect(formatDuration(0.3)).toBe('under a second');
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(-1)).toBe('');
  });
  it('relative time', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(relativeTime('2024-05-01T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2024-05-01T11:30:00Z', now)).toBe('30 minutes ago');
    expect(relativeTime('2024-05-01T09:00:00Z', now)).toBe('3 hours ago');
    expect(relativeTime(now / 1000 - 60, now)).toBe('a minute ago');
    expect(relativeTime('nonsense', now)).toBe('');
  });
  it('bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(8 * 1024 ** 3)).toBe('8.0 GB');
  });
  it('style mix round trip', () => {
    expect(styleMixString({ a: 0.5, b: 0.25, c: 0 })).toBe('a=0.5,b=0.25');
    expect(parseStyleMix('a=0.5,b=0.25')).toEqual({ a: 0.5, b: 0.25 });
  });
  it('params summary', () => {
    expect(paramsSummary({ method: 'gatys', width: 512, height: 384, params: { steps: 200, blend: 0.8 } }))
      .toBe('Best quality · 512×384 · 200 steps · blend 80%');
    expect(paramsSummary({ method: 'fast', params: { size: 640, original_colors: true } }))
      .toBe('Fast · 640 px · original colours');
    expect(paramsSummary({ method: 'fast', params: { size: 640, stroke_scale: 2 } }))
      .toBe('Fast · 640 px · brush 2×');
    expect(paramsSummary({ method: 'fast', params: { size: 640, stroke_scale: 1 } }))
      .toBe('Fast · 640 px');
    expect(paramsSummary({ method: 'fast', params: { size: 640, strength: 0.4 } }))
      .toBe('Fast · 640 px · strength 40%');
  });
  it('brush size label', () => {
    expect(brushLabel(1)).toBe('1× (the style’s own)');
    expect(brushLabel(2)).toBe('2× larger strokes');
    expect(brushLabel(0.5)).toBe('0.5× finer strokes');
  });
  it('fast strength label', () => {
    expect(fastStrengthLabel(100)).toBe('Full (100%)');
    expect(fastStrengthLabel(35)).toBe('35%');
    expect(fastStrengthLabel(0)).toBe('None: the photo');
  });
  it('strength scale', () => {
    expect(strengthToWeight(50)).toBe(20);
    expect(strengthToWeight(0)).toBe(0.632);
    expect(strengthToWeight(100)).toBe(632);
    expect(weightToStrength(20)).toBe(50);
    expect(weightToStrength(632)).toBe(100);
  });
  it('error messages', () => {
    expect(describeError(429, '', 30)).toMatch(/queue is full.*30 s/);
    expect(describeError(429, 'rating: at most 60 votes per client an hour; try again later', 120))
      .toBe('You can vote at most 60 times an hour; try again in about 2 min.');
    expect(describeError(429, 'publish: at most 20 publishes per client an hour; try again later', 0))
      .toBe('You can publish at most 20 works an hour; try again later.');
    expect(describeError(429, 'queue: full (64 jobs waiting)', 130)).toBe('The queue is full; the server expects room in about 2 min.');
    expect(describeError(429, 'client job cap: this client already has 4 queued or running gatys jobs', 40))
      .toMatch(/^You already have .* about 40 s\. This client already has 4/);
    expect(describeError(400, 'size: must be between 64 and 2048')).toBe('Size must be between 64 and 2048');
    expect(describeError(400, 'tv_weight: must be between 0 and 1000000000', null, 'tv_weight'))
      .toBe('Smoothness must be between 0 and 1\u202f000\u202f000\u202f000');
    expect(describeError(400, 'content: cannot load image: not an image (detected: unknown binary data); use JPEG, PNG, WebP, BMP or TIFF', null, 'content'))
      .toBe('The photo could not be read: it is not an image. Use JPEG, PNG, WebP, BMP or TIFF.');
    expect(describeError(400, 'no field here')).toBe('No field here');
    expect(describeError(415, 'cannot decode image')).toMatch(/isn’t an image.*cannot decode/);
  });
});

it('an instant (arbitrary) job is summarised as such, with its strength', () => {
  expect(paramsSummary({ method: 'arbitrary', width: 512, height: 384, params: { strength: 0.6 } }))
    .toBe('Instant · 512×384 · strength 60%');
});

describe('waits, sizes and field messages', () => {
  it('waits', () => {
    expect(formatWait(2)).toBe('a few seconds');
    expect(formatWait(38)).toBe('40 s');
    expect(formatWait(130)).toBe('2 min');
    expect(formatWait(3900)).toBe('1 h 5 min');
    expect(formatWait(null)).toBe('');
  });
  it('megabytes', () => {
    expect(megabytes(20971520)).toBe('20 MB');
    expect(megabytes(24012390)).toBe('22.9 MB');
  });
  it('digit groups', () => {
    expect(groupDigits('between 0 and 9223372036854775807')).toBe('between 0 and 9\u202f223\u202f372\u202f036\u202f854\u202f775\u202f807');
    expect(groupDigits('between 64 and 2048')).toBe('between 64 and 2048');
  });
  it('field messages in the form’s words', () => {
    expect(plainFieldError('seed', 'seed: must be between 0 and 10')).toBe('Seed must be between 0 and 10');
    expect(plainFieldError('steps', 'steps: must be 0 (automatic) or between 0 and 2000')).toBe('Steps must be 0 (automatic) or between 0 and 2000');
    expect(plainFieldError('content', 'content[2] (holiday.jpg): cannot load image: corrupt or truncated JPEG'))
      .toBe('The photo holiday.jpg could not be read: corrupt or truncated JPEG.');
    expect(plainFieldError('size', 'size: too big')).toBe('Size: too big');
  });
});
