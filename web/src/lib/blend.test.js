import { describe, it, expect } from 'vitest';
import { blendParts, blendLabel, blendFields, prettyName } from './blend.js';

describe('blend', () => {
  it('labels a two-painting blend with the server titles and shares', () => {
    const job = { style: 'a,b', style_title: 'The Starry Night + The Great Wave', params: { style_mix: { a: 0.7, b: 0.3 } } };
    expect(blendLabel(job)).toBe('The Starry Night 70% + The Great Wave 30%');
  });
  it('falls back to catalog titles and equal shares', () => {
    const job = { style: 'a,b,c', style_title: '', params: {} };
    expect(blendLabel(job, (id) => id.toUpperCase())).toBe('A 33% + B 33% + C 33%');
  });
  it('reads a mix string and normalises', () => {
    const job = { style: 'a,b', style_title: 'A + B', params: { style_mix: 'a=2,b=2' } };
    expect(blendParts(job).map((p) => p.pct)).toEqual([50, 50]);
  });
  it('labels a multi-style fast model mix', () => {
    const job = { style: 'four_masters', style_title: 'Four Masters', params: { style_mix: { starry_night: 0.5, great_wave: 0.5, the_scream: 0 } } };
    expect(blendLabel(job, (id) => (id === 'great_wave' ? 'The Great Wave' : id))).toBe('Starry Night 50% + The Great Wave 50%');
  });
  it('is empty for a single painting', () => {
    expect(blendLabel({ style: 'a', style_title: 'A', params: { style_mix: {} } })).toBe('');
    expect(blendLabel({ style: 'm', params: { style_mix: { x: 1 } } })).toBe('');
  });
  it('builds request fields with normalised weights', () => {
    expect(blendFields(['a', 'b'], { a: 70, b: 30 })).toEqual({ style: 'a,b', style_mix: 'a=0.7,b=0.3' });
    expect(blendFields(['a', 'b'], { a: 0, b: 0 })).toEqual({ style: 'a,b', style_mix: 'a=0.5,b=0.5' });
  });
  it('prettifies ids', () => expect(prettyName('woman_with-hat')).toBe('Woman With Hat'));
});
