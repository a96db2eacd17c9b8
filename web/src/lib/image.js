// Client-side checks of an image's shape, mirroring the server's (docs/api.md, "Image shape"):
// at least `min_side` px on the short side, at most `max_aspect_ratio` times as long as wide.
// The server checks again; this only saves an upload and explains the problem sooner.

export const MIN_SIDE_DEFAULT = 16;
export const MAX_ASPECT_DEFAULT = 10;

// '' when the shape is fine (or unknown), else a sentence saying what is wrong and what to do.
// `what` names the picture: 'photo', 'image', …
export function shapeProblem(width, height, limits = {}, what = 'photo') {
  const w = Math.round(+width);
  const h = Math.round(+height);
  if (!(w > 0 && h > 0)) return '';
  const minSide = +limits.min_side > 0 ? +limits.min_side : MIN_SIDE_DEFAULT;
  const maxAspect = +limits.max_aspect_ratio > 0 ? +limits.max_aspect_ratio : MAX_ASPECT_DEFAULT;
  const short = Math.min(w, h);
  const long = Math.max(w, h);
  if (short < minSide) {
    return `This ${what} is too small (${w}×${h} px): it needs at least ${minSide} px on each side.`;
  }
  if (long > maxAspect * short) {
    return `This ${what} is too long and thin (${w}×${h} px): the long side may be at most ${+maxAspect.toFixed(2)} times the short side. Crop it and try again.`;
  }
  return '';
}

// The pixel size of an image file as the browser decodes it, or null when it can't.
export function imageSize(file) {
  return new Promise((resolve) => {
    if (!file || typeof Image === 'undefined' || typeof URL === 'undefined') return resolve(null);
    const url = URL.createObjectURL(file);
    const img = new Image();
    const done = (v) => {
      URL.revokeObjectURL(url);
      resolve(v);
    };
    img.onload = () => done(img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null);
    img.onerror = () => done(null);
    img.src = url;
  });
}
