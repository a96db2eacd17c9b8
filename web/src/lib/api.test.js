import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { followJob, isFinished, isActive, FINISHED, describeError, ApiError } from './api.js';
import { shapeProblem } from './image.js';

// A stand-in for the browser's EventSource: the test plays the server's events.
class FakeSource {
  static all = [];
  constructor(url) {
    this.url = url;
    this.listeners = {};
    this.closed = false;
    this.onerror = null;
    FakeSource.all.push(this);
  }
  addEventListener(name, fn) {
    (this.listeners[name] ||= []).push(fn);
  }
  close() {
    this.closed = true;
  }
  emit(name, data) {
    for (const fn of this.listeners[name] || []) fn({ data: JSON.stringify(data) });
  }
  fail() {
    this.onerror && this.onerror(new Event('error'));
  }
}
const latest = () => FakeSource.all[FakeSource.all.length - 1];

function recorder() {
  const log = { notices: [], ends: [], statuses: [], progress: [] };
  const handlers = {
    notice: (t) => log.notices.push(t),
    end: (j) => log.ends.push(j),
    status: (j) => log.statuses.push(j.status),
    progress: (p) => log.progress.push(p.iteration),
  };
  return { log, handlers };
}

describe('job states', () => {
  it('expired is a finished state', () => {
    expect(FINISHED).toContain('expired');
    expect(isFinished('expired')).toBe(true);
    expect(isFinished('done')).toBe(true);
    expect(isFinished('running')).toBe(false);
    expect(isActive('queued')).toBe(true);
    expect(isActive('expired')).toBe(false);
  });
  it('error sentences for 410 and 507', () => {
    expect(describeError(410, 'gone')).toMatch(/removed to free space/);
    expect(describeError(507, 'storage full: …')).toMatch(/out of room/);
  });
});

describe('followJob', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSource.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it('ends on the final event, `expired` included', async () => {
    const { log, handlers } = recorder();
    followJob({ id: 'a' }, handlers, { EventSource: FakeSource, getJob: vi.fn() });
    latest().emit('status', { id: 'a', status: 'done' });
    latest().emit('expired', { id: 'a', status: 'expired' });
    await vi.runAllTimersAsync();
    expect(log.ends).toEqual([{ id: 'a', status: 'expired' }]);
    expect(latest().closed).toBe(true);
  });

  it('a shutdown event is a restart, not a failure: waits, then follows the job again', async () => {
    const { log, handlers } = recorder();
    let up = false;
    const getJob = vi.fn(async () => {
      if (!up) throw new ApiError('down', 0);
      return { id: 'b', status: 'queued' };
    });
    followJob({ id: 'b' }, handlers, { EventSource: FakeSource, getJob, restartDelay: 5000 });
    const first = latest();
    first.emit('progress', { iteration: 3, total: 10 });
    first.emit('shutdown', { reason: 'the server is restarting; reconnect shortly' });
    expect(first.closed).toBe(true);
    expect(log.ends).toEqual([]);
    expect(log.notices.at(-1)).toMatch(/restarting/);
    // Nothing happens before the retry delay.
    await vi.advanceTimersByTimeAsync(4000);
    expect(getJob).not.toHaveBeenCalled();
    // The server is still down for a while: polls back off, no failure.
    await vi.advanceTimersByTimeAsync(10000);
    expect(getJob.mock.calls.length).toBeGreaterThan(1);
    expect(log.ends).toEqual([]);
    expect(FakeSource.all.length).toBe(1);
    // Back: a new stream, the notice cleared, and the job ends normally.
    up = true;
    await vi.advanceTimersByTimeAsync(6000);
    expect(FakeSource.all.length).toBe(2);
    expect(log.notices.at(-1)).toBe(null);
    expect(log.statuses).toContain('queued');
    latest().emit('progress', { iteration: 1, total: 10 });
    latest().emit('done', { id: 'b', status: 'done' });
    await vi.runAllTimersAsync();
    expect(log.ends).toEqual([{ id: 'b', status: 'done' }]);
    expect(log.progress).toEqual([3, 1]);
  });

  it('a broken stream polls, and finds the outcome', async () => {
    const { log, handlers } = recorder();
    const getJob = vi.fn(async () => ({ id: 'c', status: 'failed', error: 'boom' }));
    followJob({ id: 'c' }, handlers, { EventSource: FakeSource, getJob });
    latest().fail();
    await vi.runAllTimersAsync();
    expect(log.ends).toEqual([{ id: 'c', status: 'failed', error: 'boom' }]);
    expect(log.notices).toEqual([]);
  });

  it('streams that keep failing at once fall back to polling, with pauses', async () => {
    const { log, handlers } = recorder();
    let n = 0;
    const getJob = vi.fn(async () => ({ id: 'd', status: ++n > 30 ? 'done' : 'running' }));
    followJob({ id: 'd' }, handlers, { EventSource: FakeSource, getJob, maxReopen: 3 });
    for (let i = 0; i < 10; i++) {
      const s = latest();
      if (!s.closed) s.fail();
      await vi.advanceTimersByTimeAsync(6000);
    }
    await vi.runAllTimersAsync();
    expect(FakeSource.all.length).toBe(3); // the first + 2 reopened, then polling only
    expect(log.ends.at(-1).status).toBe('done');
  });

  it('a heartbeating stream that goes silent is lost contact: said within 5 s, then recovered', async () => {
    const { log, handlers } = recorder();
    const conn = [];
    handlers.connection = (ok) => conn.push(ok);
    let up = true;
    const getJob = vi.fn(async () => {
      if (!up) throw new ApiError('down', 0);
      return { id: 'f', status: 'running', attempts: 1 };
    });
    followJob({ id: 'f', attempts: 1 }, handlers, { EventSource: FakeSource, getJob });
    const first = latest();
    first.emit('heartbeat', { at: 1 });
    await vi.advanceTimersByTimeAsync(2000);
    first.emit('progress', { iteration: 5, total: 10 });
    up = false;
    await vi.advanceTimersByTimeAsync(3900);
    expect(log.notices).toEqual([]);
    await vi.advanceTimersByTimeAsync(700); // 4.6 s of silence
    expect(first.closed).toBe(true);
    expect(log.notices.at(-1)).toMatch(/^Lost contact with the server/);
    expect(conn).toEqual([false]);
    // Still away: no failure, the notice stays.
    await vi.advanceTimersByTimeAsync(10000);
    expect(log.ends).toEqual([]);
    expect(log.notices.at(-1)).toMatch(/^Lost contact/);
    up = true;
    await vi.advanceTimersByTimeAsync(3100);
    expect(conn).toEqual([false, true]);
    expect(log.notices.at(-1)).toBe(null);
    expect(FakeSource.all.length).toBe(2);
  });

  it('a stream that keeps talking (heartbeats while idle) is never taken for a dead one', async () => {
    const { log, handlers } = recorder();
    followJob({ id: 'g' }, handlers, { EventSource: FakeSource, getJob: vi.fn() });
    latest().emit('status', { id: 'g', status: 'queued' });
    for (let i = 0; i < 15; i++) {
      await vi.advanceTimersByTimeAsync(2000);
      latest().emit('heartbeat', { at: i });
    }
    expect(FakeSource.all.length).toBe(1);
    expect(latest().closed).toBe(false);
    expect(log.notices).toEqual([]);
  });

  it('a broken stream and no answer: lost contact at once', async () => {
    const { log, handlers } = recorder();
    const getJob = vi.fn(async () => { throw new ApiError('down', 0); });
    followJob({ id: 'h' }, handlers, { EventSource: FakeSource, getJob });
    latest().emit('progress', { iteration: 1, total: 10 });
    latest().fail();
    await vi.advanceTimersByTimeAsync(10);
    expect(log.notices.at(-1)).toMatch(/^Lost contact/);
  });

  it('a job whose attempts grew, or that went back to the queue, is reported restarted', async () => {
    const { handlers } = recorder();
    const restarted = [];
    handlers.restarted = (j) => restarted.push(j.attempts);
    followJob({ id: 'i', status: 'running', attempts: 1 }, handlers, { EventSource: FakeSource, getJob: vi.fn() });
    latest().emit('status', { id: 'i', status: 'running', attempts: 1 });
    expect(restarted).toEqual([]);
    latest().emit('status', { id: 'i', status: 'running', attempts: 2 });
    expect(restarted).toEqual([2]);
    latest().emit('status', { id: 'i', status: 'queued', attempts: 2 });
    expect(restarted).toEqual([2, 2]);
  });

  it('stop() ends everything quietly', async () => {
    const { log, handlers } = recorder();
    const stop = followJob({ id: 'e' }, handlers, { EventSource: FakeSource, getJob: vi.fn() });
    const s = latest();
    stop();
    expect(s.closed).toBe(true);
    s.emit('done', { id: 'e', status: 'done' });
    await vi.runAllTimersAsync();
    expect(log.ends).toEqual([]);
  });
});

describe('image shape', () => {
  it('matches the server rules, with its defaults', () => {
    expect(shapeProblem(400, 300)).toBe('');
    expect(shapeProblem(160, 16)).toBe('');
    expect(shapeProblem(15, 400)).toMatch(/too small \(15×400 px\).*at least 16 px/);
    expect(shapeProblem(2000, 100)).toMatch(/too long and thin.*10 times/);
    expect(shapeProblem(2000, 100, { max_aspect_ratio: 25 })).toBe('');
    expect(shapeProblem(40, 40, { min_side: 64 })).toMatch(/at least 64 px/);
    expect(shapeProblem(0, 0)).toBe('');
    expect(shapeProblem(10, 10, {}, 'image')).toMatch(/^This image/);
  });
});
