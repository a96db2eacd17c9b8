// Style blends: several paintings mixed in one job (`style=a,b` + `style_mix=a=0.7,b=0.3` for
// gatys and arbitrary; a multi-style fast model's `style_mix` over its own styles). Unit-tested
// in blend.test.js.

// "starry_night" → "Starry Night": a readable name when no title is known.
export function prettyName(id) {
  return String(id).replace(/[_-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()).trim();
}

function weightsOf(job) {
  const m = job && job.params && job.params.style_mix;
  if (!m) return {};
  if (typeof m === 'object') return m;
  const out = {};
  for (const part of String(m).split(',')) {
    const [k, v] = part.split('=');
    if (k && v !== undefined && Number.isFinite(+v)) out[k.trim()] = +v;
  }
  return out;
}

// The paintings of a blended job with their shares in percent ([] for a single painting).
// titleOf(id): the catalog's title for a style id (falls back to the id).
export function blendParts(job, titleOf = (id) => id) {
  if (!job) return [];
  const ids = String(job.style || '').split(',').map((s) => s.trim()).filter(Boolean);
  const weights = weightsOf(job);
  let names = ids;
  let titles;
  if (ids.length > 1) {
    // The server joins the titles with " + " in the order of the ids.
    const fromServer = String(job.style_title || '').split(' + ');
    titles = fromServer.length === ids.length ? fromServer : ids.map((id) => titleOf(id));
  } else {
    // A multi-style fast model: its style_mix names the model's own styles.
    names = Object.keys(weights).filter((k) => weights[k] > 0);
    if (names.length < 2) return [];
    titles = names.map((n) => {
      const t = titleOf(n);
      return t && t !== n ? t : prettyName(n);
    });
  }
  const w = names.map((n) => (Object.keys(weights).length ? Math.max(0, +weights[n] || 0) : 1));
  const total = w.reduce((a, b) => a + b, 0) || 1;
  return names.map((id, i) => ({ id, title: titles[i], pct: Math.round((100 * w[i]) / total) }));
}

// "The Starry Night 70% + The Great Wave 30%", or '' when the job is not a blend.
export function blendLabel(job, titleOf) {
  return blendParts(job, titleOf).map((p) => `${p.title} ${p.pct}%`).join(' + ');
}

// The request fields of a blend of several paintings: {style: 'a,b', style_mix: 'a=0.7,b=0.3'},
// weights normalised to sum 1 (the sliders' scale does not matter).
export function blendFields(ids, weights) {
  const w = ids.map((id) => Math.max(0, +(weights[id] ?? 1) || 0));
  const total = w.reduce((a, b) => a + b, 0);
  const norm = w.map((x) => (total > 0 ? x / total : 1 / ids.length));
  return {
    style: ids.join(','),
    style_mix: ids.map((id, i) => `${id}=${+norm[i].toFixed(3)}`).join(','),
  };
}
