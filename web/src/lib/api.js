// Thin client for the Pastiche HTTP API (docs/api.md). Same-origin requests carry the
// `pastiche_client` cookie, which is what scopes styles and history to this browser.

// Job states after which nothing more happens to a job. `expired` is a finished job whose images
// the server's disk quota removed: its row stays in the history, its image URLs answer 410.
export const FINISHED = ['done', 'failed', 'cancelled', 'expired'];
export const ACTIVE = ['queued', 'running'];
export const isFinished = (status) => FINISHED.includes(status);
export const isActive = (status) => ACTIVE.includes(status);

export const EXPIRED_TEXT = 'Expired — the images were removed to free space on the server.';

export class ApiError extends Error {
  constructor(message, status, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// A sentence a person can act on, built from the status and the server's own `error` text.
export function describeError(status, serverText, retryAfter) {
  const text = (serverText || '').trim();
  switch (status) {
    case 429: {
      const wait = retryAfter ? ` Try again in about ${retryAfter} s.` : ' Try again in a moment.';
      return `The queue is full right now.${wait}`;
    }
    case 413:
      return text ? `That file is too large: ${text}` : 'That file is too large for the server.';
    case 415:
      return text ? `That file isn’t an image we can read: ${text}` : 'That file isn’t an image we can read.';
    case 410:
      return 'These images were removed to free space on the server.';
    case 503:
      return 'The server is restarting or busy. Try again in a few seconds.';
    case 507:
      return 'The server is out of room for new paintings right now. Download or delete some of yours, or try again later.';
    case 0:
      return 'The server can’t be reached. Check your connection and try again.';
    default:
      if (text) return text.charAt(0).toUpperCase() + text.slice(1);
      return `The server answered ${status}.`;
  }
}

async function request(method, url, body) {
  let res;
  try {
    res = await fetch(url, {
      method,
      body,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
  } catch (e) {
    throw new ApiError(describeError(0), 0);
  }
  if (res.status === 204) return null;
  let data = null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const retry = parseInt(res.headers.get('retry-after') || '', 10);
    const retryAfter = Number.isFinite(retry) ? retry : null;
    throw new ApiError(describeError(res.status, data && data.error, retryAfter), res.status, retryAfter);
  }
  return data;
}

export const api = {
  styles: () => request('GET', '/api/styles').then((d) => (d && d.styles) || []),
  uploadStyle(file, title) {
    const fd = new FormData();
    fd.append('image', file);
    if (title) fd.append('title', title);
    return request('POST', '/api/styles', fd);
  },
  deleteStyle: (id) => request('DELETE', `/api/styles/${encodeURIComponent(id)}`),
  createJob(file, params) {
    const fd = new FormData();
    fd.append('content', file);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      fd.append(k, String(v));
    }
    return request('POST', '/api/jobs', fd);
  },
  job: (id) => request('GET', `/api/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  history: (limit = 24, offset = 0) => request('GET', `/api/history?limit=${limit}&offset=${offset}`),
  deleteHistory: (id) => request('DELETE', `/api/history/${encodeURIComponent(id)}`),
  device: () => request('GET', '/api/device'),
};

// URLs of a job, falling back to the documented paths if the server leaves one out.
export function jobUrls(job) {
  const base = `/api/jobs/${encodeURIComponent(job.id)}`;
  const u = job.urls || {};
  return {
    self: u.self || base,
    events: u.events || `${base}/events`,
    result: u.result || `${base}/result`,
    preview: u.preview || `${base}/preview`,
    thumbnail: u.thumbnail || `${base}/thumbnail`,
    content: u.content || `${base}/content`,
    download: u.download || `${u.result || `${base}/result`}?download=1`,
  };
}

// Follows a job until it ends: server-sent events first, polling if the stream breaks.
// handlers: { progress(p), preview({url, iteration}), status(job), end(job), notice(text|null) }.
// `notice` reports a passing interruption (the server restarting) and null once it is over.
// Returns a function that stops following.
//
// A stream can end three ways before the job does:
// - a `shutdown` event: the server is draining for a restart. Jobs survive restarts (they are
//   queued again), so this is no failure: wait a few seconds (the stream's `retry: 5000`), then
//   poll until the server answers again and open a new stream;
// - a broken connection (`error`): poll until the job ends, reopening the stream now and then so
//   live previews come back;
// - the server refusing the stream (429: too many open streams): the same, by polling.
export function followJob(job, handlers, opts = {}) {
  const RESTART_DELAY = opts.restartDelay ?? 5000; // the server's `retry:` hint
  const POLL_MS = opts.pollMs ?? 1000;
  const MAX_REOPEN = opts.maxReopen ?? 8; // streams in a row that end before any event
  const EventSourceImpl = opts.EventSource ?? (typeof EventSource !== 'undefined' ? EventSource : null);
  const getJob = opts.getJob ?? api.job;
  const RESTARTING = 'The server is restarting — your painting will continue when it is back.';

  let stopped = false;
  let es = null;
  let timer = null;
  let ended = false;
  let barren = 0; // consecutive streams that ended without delivering an event
  let noticeShown = false;
  let failures = 0;

  const notice = (text) => {
    if (!text && !noticeShown) return;
    noticeShown = !!text;
    handlers.notice && handlers.notice(text || null);
  };

  const end = (j) => {
    if (ended || stopped) return;
    ended = true;
    notice(null);
    stop();
    handlers.end && handlers.end(j);
  };

  const schedule = (fn, ms) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  const backoff = (n) => Math.min(5000, POLL_MS * 2 ** Math.min(n, 3));

  // One look at the job. Finished → end; still going → `next()` (a stream again, or another
  // poll); server away or refusing → look again, backing off to 5 s.
  const poll = async (next) => {
    if (stopped || ended) return;
    try {
      const j = await getJob(job.id);
      if (stopped || ended) return;
      failures = 0;
      handlers.status && handlers.status(j);
      if (j.progress) handlers.progress && handlers.progress(j.progress);
      if (isFinished(j.status)) return end(j);
      next();
    } catch (e) {
      if (stopped || ended) return;
      if (e && e.status === 404) return end({ ...job, status: 'failed', error: 'This job no longer exists.' });
      failures++;
      // 0: no answer; 503: draining or busy — the server is (re)starting.
      if (failures >= 2 && e && (e.status === 0 || e.status === 503)) notice(RESTARTING);
      schedule(() => poll(next), backoff(failures));
    }
  };

  // Polling only, until the job ends (streams keep failing, or no EventSource at all).
  const pollLoop = () => poll(() => schedule(pollLoop, POLL_MS));

  // After an interruption: learn the job's state at once; while it is still going, open a new
  // stream after a pause that grows while streams end empty-handed (e.g. 429, too many
  // streams), and settle for polling after MAX_REOPEN of those in a row.
  const resume = () =>
    poll(() => {
      notice(null);
      if (EventSourceImpl && barren < MAX_REOPEN) schedule(open, barren ? backoff(barren) : 0);
      else schedule(pollLoop, POLL_MS);
    });

  const parse = (ev) => {
    try {
      return JSON.parse(ev.data);
    } catch {
      return null;
    }
  };

  const finalFrom = async (status, data) => {
    // `done` carries the job; `failed`/`cancelled`/`expired` may carry the job or just {error}.
    if (data && data.id && data.status) return end(data);
    try {
      const j = await getJob(job.id);
      return end(j);
    } catch {
      return end({ ...job, status, error: data && data.error });
    }
  };

  const closeStream = () => {
    if (es) es.close();
    es = null;
  };

  function open() {
    if (stopped || ended) return;
    closeStream();
    const source = new EventSourceImpl(jobUrls(job).events);
    es = source;
    let delivered = false;
    const live = (fn) => (ev) => {
      if (es !== source) return; // a stream already replaced or closed
      if (!delivered) {
        delivered = true;
        barren = 0;
        notice(null);
      }
      fn(ev);
    };
    source.addEventListener('progress', live((ev) => {
      const p = parse(ev);
      if (p) handlers.progress && handlers.progress(p.progress || p);
    }));
    source.addEventListener('status', live((ev) => {
      const j = parse(ev);
      if (j) handlers.status && handlers.status(j);
    }));
    source.addEventListener('preview', live((ev) => {
      const p = parse(ev);
      if (p) handlers.preview && handlers.preview(p);
    }));
    // The final event is named after the job's status (`expired` too, for an expired job).
    for (const name of FINISHED) {
      source.addEventListener(name, (ev) => {
        if (es !== source) return;
        closeStream(); // the server ends the stream now; that is no error
        finalFrom(name, parse(ev));
      });
    }
    // The server is going down for a restart (the stream's last event, after `retry: 5000`).
    // Queued and running jobs are picked up again when it is back: wait, then look again.
    source.addEventListener('shutdown', () => {
      if (es !== source) return;
      closeStream();
      notice(RESTARTING);
      schedule(resume, RESTART_DELAY);
    });
    source.onerror = () => {
      if (es !== source) return;
      // The stream broke or was refused. EventSource would reconnect on its own; decide here.
      closeStream();
      if (!delivered) barren++;
      if (!ended && !stopped) resume();
    };
  }

  if (EventSourceImpl) open();
  else pollLoop();

  function stop() {
    stopped = true;
    closeStream();
    if (timer) clearTimeout(timer);
    timer = null;
  }
  return stop;
}
