// Thin client for the Pastiche HTTP API (docs/api.md). Same-origin requests carry the
// `pastiche_client` cookie, which is what scopes styles and history to this browser.

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
// handlers: { progress(p), preview({url, iteration}), status(job), end(job) }.
// Returns a function that stops following.
export function followJob(job, handlers) {
  let stopped = false;
  let es = null;
  let pollTimer = null;
  let ended = false;

  const end = (j) => {
    if (ended || stopped) return;
    ended = true;
    stop();
    handlers.end && handlers.end(j);
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const j = await api.job(job.id);
      if (stopped) return;
      handlers.status && handlers.status(j);
      if (j.progress) handlers.progress && handlers.progress(j.progress);
      if (['done', 'failed', 'cancelled'].includes(j.status)) return end(j);
    } catch (e) {
      if (e.status === 404) return end({ ...job, status: 'failed', error: 'This job no longer exists.' });
    }
    pollTimer = setTimeout(poll, 1000);
  };

  const parse = (ev) => {
    try {
      return JSON.parse(ev.data);
    } catch {
      return null;
    }
  };

  const finalFrom = async (status, data) => {
    // `done` carries the job; `failed`/`cancelled` may carry the job or just {error}.
    if (data && data.id && data.status) return end(data);
    try {
      const j = await api.job(job.id);
      return end(j);
    } catch {
      return end({ ...job, status, error: data && data.error });
    }
  };

  if (typeof EventSource !== 'undefined') {
    es = new EventSource(jobUrls(job).events);
    es.addEventListener('progress', (ev) => {
      const p = parse(ev);
      if (p) handlers.progress && handlers.progress(p.progress || p);
    });
    es.addEventListener('status', (ev) => {
      const j = parse(ev);
      if (j) handlers.status && handlers.status(j);
    });
    es.addEventListener('preview', (ev) => {
      const p = parse(ev);
      if (p) handlers.preview && handlers.preview(p);
    });
    es.addEventListener('done', (ev) => finalFrom('done', parse(ev)));
    es.addEventListener('failed', (ev) => finalFrom('failed', parse(ev)));
    es.addEventListener('cancelled', (ev) => finalFrom('cancelled', parse(ev)));
    es.onerror = () => {
      // The stream closed or broke; learn the outcome by polling instead of reconnecting.
      if (es) es.close();
      es = null;
      if (!ended && !stopped && !pollTimer) poll();
    };
  } else {
    poll();
  }

  function stop() {
    stopped = true;
    if (es) es.close();
    es = null;
    if (pollTimer) clearTimeout(pollTimer);
  }
  return stop;
}
