// Thin client for the Pastiche HTTP API (docs/api.md). Same-origin requests carry the
// `pastiche_client` cookie, which is what scopes styles and history to this browser.
import { formatWait, plainFieldError } from './format.js';

// Job states after which nothing more happens to a job. `expired` is a finished job whose images
// the server's disk quota removed: its row stays in the history, its image URLs answer 410.
export const FINISHED = ['done', 'failed', 'cancelled', 'expired'];
export const ACTIVE = ['queued', 'running'];
export const isFinished = (status) => FINISHED.includes(status);
export const isActive = (status) => ACTIVE.includes(status);

export const EXPIRED_TEXT = 'Expired — the images were removed to free space on the server.';

// `field`: the form field a 400 answer is about (the server's "field"), for the form to mark.
export class ApiError extends Error {
  constructor(message, status, retryAfter = null, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
    this.field = field;
  }
}

// A sentence a person can act on, built from the status and the server's own `error` text.
// `field`: the field a 400 answer names, whose message is then put in the form's words.
export function describeError(status, serverText, retryAfter, field = null) {
  const text = (serverText || '').trim();
  const wait = retryAfter > 0 ? formatWait(retryAfter) : '';
  switch (status) {
    case 429: {
      // The server's estimate, from the running jobs' remaining time and the queued work.
      if (!text || /^queue\b/i.test(text)) {
        return wait ? `The queue is full; the server expects room in about ${wait}.` : 'The queue is full right now. Try again in a moment.';
      }
      if (/^client (job|work) cap/i.test(text)) {
        return `You already have as much painting waiting as one visitor may${wait ? `; room for another in about ${wait}` : ''}. ${text.replace(/^client (job|work) cap:\s*/i, '').replace(/^\w/, (c) => c.toUpperCase())}`;
      }
      // A per-visitor limit of one action ("rating: at most 60 votes per client an hour; …").
      const capped = /^(publish|rating): at most (\d+)/i.exec(text);
      if (capped) {
        const what = capped[1].toLowerCase() === 'publish' ? `publish at most ${capped[2]} works` : `vote at most ${capped[2]} times`;
        return `You can ${what} an hour${wait ? `; try again in about ${wait}` : '; try again later'}.`;
      }
      return `The server is busy${wait ? `; try again in about ${wait}` : '; try again in a moment'}.`;
    }
    case 400:
      if (field || /^[a-z_][a-z0-9_]*(\[\d+\])?( \([^)]*\))?:/.test(text)) return plainFieldError(field, text);
      break;
    case 413:
      if (field) return plainFieldError(field, text);
      return text ? `That file is too large: ${text}` : 'That file is too large for the server.';
    case 415:
      if (field) return plainFieldError(field, text);
      return text ? `That file isn’t an image we can read: ${text}` : 'That file isn’t an image we can read.';
    case 410:
      return 'These images were removed to free space on the server.';
    case 503:
      return 'The server is restarting or busy. Try again in a few seconds.';
    case 507:
      return 'The server is out of room for new paintings right now. Download or delete some of yours, or try again later.';
    case 0:
      return 'The server can’t be reached. Check your connection and try again.';
  }
  if (text) return text.charAt(0).toUpperCase() + text.slice(1);
  return `The server answered ${status}.`;
}

// init: more fetch options (keepalive: a DELETE that must outlive the page).
async function request(method, url, body, init = {}) {
  let res;
  try {
    res = await fetch(url, {
      method,
      body,
      credentials: 'same-origin',
      ...init,
      // A string body is JSON (share, publish, rating); FormData sets its own type.
      headers: typeof body === 'string' ? { Accept: 'application/json', 'Content-Type': 'application/json' } : { Accept: 'application/json' },
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
    const retry = data && Number.isFinite(data.retry_after_seconds)
      ? data.retry_after_seconds : parseInt(res.headers.get('retry-after') || '', 10);
    const retryAfter = Number.isFinite(retry) ? retry : null;
    // Servers before "field" still start such messages with it ("size: must be …").
    const named = [400, 413, 415].includes(res.status) && data && /^([a-z_][a-z0-9_]*)(\[\d+\])?( \([^)]*\))?:/.exec(data.error || '');
    const field = (data && typeof data.field === 'string' && data.field) || (named && named[1]) || null;
    throw new ApiError(describeError(res.status, data && data.error, retryAfter, field), res.status, retryAfter, field);
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
  deleteHistory: (id, init) => request('DELETE', `/api/history/${encodeURIComponent(id)}`, undefined, init),
  device: () => request('GET', '/api/device'),
  // Share links, the gallery and batches (docs/api.md).
  share: (id) => request('POST', `/api/jobs/${encodeURIComponent(id)}/share`),
  unshare: (id) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}/share`),
  publish: (id, caption) => request('POST', `/api/jobs/${encodeURIComponent(id)}/publish`, JSON.stringify(caption ? { caption } : {})),
  unpublish: (id) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}/publish`),
  gallery: (sort = 'newest', limit = 24, offset = 0) => request('GET', `/api/gallery?sort=${sort}&limit=${limit}&offset=${offset}`),
  rate: (token, stars) => request('PUT', `/api/gallery/${encodeURIComponent(token)}/rating`, JSON.stringify({ stars })),
  createBatch(files, params) {
    const fd = new FormData();
    for (const f of files) fd.append('content', f);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      fd.append(k, String(v));
    }
    return request('POST', '/api/batches', fd);
  },
  batch: (id) => request('GET', `/api/batches/${encodeURIComponent(id)}`),
  batchZipUrl: (id) => `/api/batches/${encodeURIComponent(id)}/zip`,
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
// handlers: { progress(p), preview({url, iteration}), status(job), end(job), notice(text|null),
// connection(ok), restarted(job) }.
// `notice` reports a passing interruption (the server restarting, or gone quiet) and null once it
// is over; `connection(false)` when the server stops answering, `connection(true)` when it is
// back; `restarted(job)` when the job started over (its `attempts` grew, or it went back to the
// queue), so its progress and loss curve so far belong to a run that is gone.
// Returns a function that stops following.
//
// A stream can end four ways before the job does:
// - a `shutdown` event: the server is draining for a restart. Jobs survive restarts (they are
//   queued again), so this is no failure: wait a few seconds (the stream's `retry: 5000`), then
//   poll until the server answers again and open a new stream;
// - silence: the server sends `heartbeat` every 2 s when nothing else happens, so a stream that
//   says nothing for `silenceMs` (4 s) is dead (a hung server, a cut network): "lost contact",
//   then as below;
// - a broken connection (`error`): poll until the job ends, reopening the stream now and then so
//   live previews come back;
// - the server refusing the stream (429: too many open streams): the same, by polling.
export function followJob(job, handlers, opts = {}) {
  const RESTART_DELAY = opts.restartDelay ?? 5000; // the server's `retry:` hint
  const POLL_MS = opts.pollMs ?? 1000;
  const SILENCE_MS = opts.silenceMs ?? 4000; // two heartbeats missed
  const MAX_REOPEN = opts.maxReopen ?? 8; // streams in a row that end before any event
  const EventSourceImpl = opts.EventSource ?? (typeof EventSource !== 'undefined' ? EventSource : null);
  const getJob = opts.getJob ?? api.job;
  const RESTARTING = 'The server is restarting — your painting will continue when it is back.';
  const LOST = 'Lost contact with the server — retrying…';

  let stopped = false;
  let es = null;
  let timer = null;
  let watchdog = null;
  let ended = false;
  let barren = 0; // consecutive streams that ended without delivering an event
  let noticeShown = false;
  let failures = 0;
  let restarting = false; // a `shutdown` event came: the server said it is restarting
  let connected = true;
  let lastHeard = 0;
  let attempts = job.attempts || 0;
  let lastStatus = job.status;

  const notice = (text) => {
    if (!text && !noticeShown) return;
    noticeShown = !!text;
    handlers.notice && handlers.notice(text || null);
  };
  const connection = (ok) => {
    if (ok === connected) return;
    connected = ok;
    handlers.connection && handlers.connection(ok);
  };
  const status = (j) => {
    const again = (j.attempts || 0) > attempts && attempts > 0;
    const requeued = j.status === 'queued' && lastStatus === 'running';
    if (j.attempts) attempts = Math.max(attempts, j.attempts);
    if (j.status) lastStatus = j.status;
    if ((again || requeued) && handlers.restarted) handlers.restarted(j);
    handlers.status && handlers.status(j);
  };

  const end = (j) => {
    if (ended || stopped) return;
    ended = true;
    notice(null);
    connection(true);
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
  const backoff = (n) => Math.min(3000, POLL_MS * 2 ** Math.min(n, 3));

  // One look at the job. Finished → end; still going → `next()` (a stream again, or another
  // poll); server away or refusing → look again, backing off to 3 s.
  const poll = async (next) => {
    if (stopped || ended) return;
    try {
      const j = await getJob(job.id);
      if (stopped || ended) return;
      failures = 0;
      restarting = false;
      connection(true);
      status(j);
      if (j.progress) handlers.progress && handlers.progress(j.progress);
      if (isFinished(j.status)) return end(j);
      next();
    } catch (e) {
      if (stopped || ended) return;
      if (e && e.status === 404) return end({ ...job, status: 'failed', error: 'This job no longer exists.' });
      failures++;
      // 0: no answer; 503: draining or busy — the server is (re)starting.
      if (e && (e.status === 0 || e.status === 503)) {
        connection(false);
        notice(restarting || e.status === 503 ? RESTARTING : LOST);
      }
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
    if (watchdog) clearInterval(watchdog);
    watchdog = null;
  };

  function open() {
    if (stopped || ended) return;
    closeStream();
    const source = new EventSourceImpl(jobUrls(job).events);
    es = source;
    let delivered = false;
    lastHeard = Date.now();
    const live = (fn) => (ev) => {
      if (es !== source) return; // a stream already replaced or closed
      lastHeard = Date.now();
      if (!delivered) {
        delivered = true;
        barren = 0;
        notice(null);
        connection(true);
      }
      fn(ev);
    };
    source.addEventListener('heartbeat', live(() => {}));
    source.addEventListener('progress', live((ev) => {
      const p = parse(ev);
      if (p) handlers.progress && handlers.progress(p.progress || p);
    }));
    source.addEventListener('status', live((ev) => {
      const j = parse(ev);
      if (j) status(j);
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
      restarting = true;
      connection(false);
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
    // A stream that has stopped talking: the server died without closing it, or the network did.
    // The server (the one this page came from) sends `heartbeat` whenever it has been quiet for
    // 2 s, so silence is never just a slow step or a long queue. silenceMs 0: no watchdog.
    if (SILENCE_MS > 0) watchdog = setInterval(() => {
      if (es !== source || Date.now() - lastHeard <= SILENCE_MS) return;
      closeStream();
      connection(false);
      notice(LOST);
      resume();
    }, Math.min(500, SILENCE_MS / 4));
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
