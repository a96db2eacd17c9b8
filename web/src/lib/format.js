// Small formatting helpers shared by the views (unit-tested in format.test.js).

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 1) return 'under a second';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  if (m < 60) return r ? `${m} min ${r} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '';
  const t = typeof iso === 'number' ? (iso < 1e12 ? iso * 1000 : iso) : Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const d = Math.max(0, (now - t) / 1000);
  if (d < 45) return 'just now';
  if (d < 90) return 'a minute ago';
  if (d < 3600) return `${Math.round(d / 60)} minutes ago`;
  if (d < 5400) return 'an hour ago';
  if (d < 86400) return `${Math.round(d / 3600)} hours ago`;
  if (d < 172800) return 'yesterday';
  if (d < 7 * 86400) return `${Math.round(d / 86400)} days ago`;
  return new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

// "a=0.5,b=0.5" from {a: 0.5, b: 0.5}, dropping zero weights.
export function styleMixString(weights) {
  return Object.entries(weights)
    .filter(([, w]) => w > 0)
    .map(([k, w]) => `${k}=${+(+w).toFixed(3)}`)
    .join(',');
}

export function parseStyleMix(s) {
  const out = {};
  if (!s) return out;
  for (const part of String(s).split(',')) {
    const [k, v] = part.split('=');
    if (k && v !== undefined && Number.isFinite(+v)) out[k.trim()] = +v;
  }
  return out;
}

// A one-line summary of a job's parameters for history cards.
export function paramsSummary(job) {
  const p = job.params || {};
  const bits = [];
  bits.push({ gatys: 'Best quality', arbitrary: 'Instant' }[job.method] || 'Fast');
  const w = job.width, h = job.height;
  if (w && h) bits.push(`${w}×${h}`);
  else if (p.size) bits.push(`${p.size} px`);
  if (job.method === 'gatys' && p.steps) bits.push(`${p.steps} steps`);
  if (p.original_colors === true || p.original_colors === 'true') bits.push('original colours');
  if (p.blend !== undefined && p.blend !== null && +p.blend < 1) bits.push(`blend ${Math.round(+p.blend * 100)}%`);
  if (job.method !== 'gatys' && p.stroke_scale !== undefined && +p.stroke_scale !== 1) bits.push(`brush ${+p.stroke_scale}×`);
  if (job.method !== 'gatys' && p.strength !== undefined && +p.strength < 1) bits.push(`strength ${Math.round(+p.strength * 100)}%`);
  return bits.join(' · ');
}

// Brush size (stroke_scale) as the slider shows it: "1× (the style's own)", "2× larger strokes".
export function brushLabel(scale) {
  const s = +scale;
  if (s === 1) return '1× (the style’s own)';
  return `${s}× ${s > 1 ? 'larger' : 'finer'} strokes`;
}

// Fast styles' strength slider (0..100 %) as the label beside it.
export function fastStrengthLabel(pos) {
  const p = Math.round(+pos);
  if (p >= 100) return 'Full (100%)';
  if (p <= 0) return 'None: the photo';
  return `${p}%`;
}

// Style strength slider position (0..100) <-> style_weight on a log scale around the default.
// The engine's default style weight (losses are normalised, see GatysOptions).
export const STRENGTH_DEFAULT_WEIGHT = 20;
export function strengthToWeight(pos) {
  // 0 → 0.632, 50 → 20 (default), 100 → 632: three decades around the default
  return +(STRENGTH_DEFAULT_WEIGHT * 10 ** ((3 * (pos - 50)) / 100)).toPrecision(3);
}
export function weightToStrength(w) {
  if (!(w > 0)) return 50;
  const pos = 50 + (Math.log10(w / STRENGTH_DEFAULT_WEIGHT) * 100) / 3;
  return Math.min(100, Math.max(0, Math.round(pos)));
}

export function strengthLabel(pos) {
  if (pos < 20) return 'Subtle';
  if (pos < 42) return 'Light';
  if (pos <= 58) return 'Balanced';
  if (pos < 80) return 'Strong';
  return 'Very strong';
}

// A wait as a person says it: "40 s", "2 min", "1 h 5 min" (rounded; "about" is the caller's).
export function formatWait(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(+seconds) || +seconds < 0) return '';
  const s = +seconds;
  if (s < 5) return 'a few seconds';
  if (s < 60) return `${Math.round(s / 5) * 5} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

// Bytes as megabytes the way upload limits are meant (MiB, "MB" to people): 20, 22.9.
export function megabytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  return `${+(n / 1048576).toFixed(1)} MB`;
}

// "1000000000" → "1 000 000 000" (a narrow no-break space between groups of three).
export function groupDigits(text) {
  return String(text).replace(/\d{5,}/g, (d) => d.replace(/\B(?=(\d{3})+$)/g, '\u202f'));
}

// The form's names for the fields the server names in 400 answers ("field": "tv_weight").
export const FIELD_LABELS = {
  content: 'The photo',
  image: 'The painting',
  style: 'The painting',
  size: 'Size',
  steps: 'Steps',
  style_weight: 'Style strength',
  strength: 'Style strength',
  stroke_scale: 'Brush size',
  blend: 'Blend with photo',
  tv_weight: 'Smoothness',
  seed: 'Seed',
  style_mix: 'Style mix',
  original_colors: 'Keep original colours',
  title: 'Title',
  caption: 'Caption',
};

// The server's "<field>: <problem>" in plain words, named as the form names the control:
// "tv_weight: must be between 0 and 1000000000" → "Smoothness must be between 0 and 1 000 000 000";
// "content: cannot load image: not an image (detected: …); use JPEG, …" → "The photo could not
// be read: it is not an image. Use JPEG, …".
export function plainFieldError(field, text) {
  let rest = String(text || '').trim();
  const m = /^([a-z_][a-z0-9_]*)(\[\d+\])?(\s*\(([^)]*)\))?:\s*/.exec(rest);
  if (m && (!field || m[1] === field)) {
    field = m[1];
    rest = rest.slice(m[0].length);
  }
  if (!field) return rest ? rest.charAt(0).toUpperCase() + rest.slice(1) : '';
  let label = FIELD_LABELS[field] || field.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase());
  if (m && m[4]) label = `${label} ${m[4]}`;
  const load = /^cannot load [^:]*:\s*(.*)$/s.exec(rest);
  if (load) {
    let why = load[1]
      .replace(/^not an image \(detected:[^)]*\)/, 'it is not an image')
      .replace(/;\s*(\w)/, (_, c) => `. ${c.toUpperCase()}`);
    if (!/[.!?]$/.test(why)) why += '.';
    return groupDigits(`${label} could not be read: ${why}`);
  }
  rest = rest.replace(/\.$/, '');
  return groupDigits(`${label} ${/^(must|is|are|has|cannot|can|should|needs?)\b/.test(rest) ? rest : `: ${rest}`}`).replace(' : ', ': ');
}
