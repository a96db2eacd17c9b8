// The share, gallery and batch calls of api.js: the requests they make (fetch is stubbed).
import { describe, it, expect, vi, afterEach } from 'vitest';
import { api } from './api.js';

function stubFetch(status = 200, body = {}) {
  const calls = [];
  vi.stubGlobal('fetch', async (url, init) => {
    calls.push({ url, ...init });
    return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe('share, gallery and batch requests', () => {
  it('publishes with a JSON caption', async () => {
    const calls = stubFetch(200, { published: true });
    await api.publish('j 1', 'Hello');
    expect(calls[0].url).toBe('/api/jobs/j%201/publish');
    expect(calls[0].method).toBe('POST');
    expect(calls[0].headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(calls[0].body)).toEqual({ caption: 'Hello' });
  });

  it('rates with PUT {stars}', async () => {
    const calls = stubFetch(200, { rating_avg: 4, rating_count: 1, my_rating: 4 });
    const r = await api.rate('tok', 4);
    expect(calls[0]).toMatchObject({ url: '/api/gallery/tok/rating', method: 'PUT', body: '{"stars":4}' });
    expect(r.my_rating).toBe(4);
  });

  it('stops sharing with DELETE (204)', async () => {
    const calls = stubFetch(204);
    expect(await api.unshare('abc')).toBe(null);
    expect(calls[0]).toMatchObject({ url: '/api/jobs/abc/share', method: 'DELETE' });
  });

  it('sends a batch as one multipart with a content part per photo', async () => {
    const calls = stubFetch(202, { id: 'b1', jobs: [] });
    const f = (n) => new File([new Uint8Array([1, 2, 3])], n, { type: 'image/jpeg' });
    await api.createBatch([f('a.jpg'), f('b.jpg'), f('c.jpg')], { style: 'x', method: 'fast', size: undefined });
    const fd = calls[0].body;
    expect(calls[0].url).toBe('/api/batches');
    expect(fd.getAll('content').map((x) => x.name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(fd.get('style')).toBe('x');
    expect(fd.has('size')).toBe(false);
    expect(calls[0].headers['Content-Type']).toBeUndefined();
  });

  it('turns an error answer into a readable ApiError', async () => {
    stubFetch(403, { error: 'rating: you cannot rate your own work' });
    await expect(api.rate('t', 5)).rejects.toMatchObject({ status: 403, message: 'Rating: you cannot rate your own work' });
  });
});
