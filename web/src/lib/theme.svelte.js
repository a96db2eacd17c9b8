// Light/dark: follows prefers-color-scheme until the person picks one; the choice is kept in
// localStorage and applied as <html data-theme> (index.html applies it before first paint).
const KEY = 'pastiche-theme';

function systemTheme() {
  return typeof matchMedia !== 'undefined' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function saved() {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

class Theme {
  choice = $state(saved());
  system = $state(systemTheme());
  current = $derived(this.choice || this.system);

  constructor() {
    if (typeof matchMedia !== 'undefined') {
      matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (e) => {
        this.system = e.matches ? 'dark' : 'light';
      });
    }
  }

  toggle() {
    this.set(this.current === 'dark' ? 'light' : 'dark');
  }

  set(t) {
    // Picking the system's own theme goes back to following the system.
    this.choice = t === this.system ? null : t;
    try {
      if (this.choice) localStorage.setItem(KEY, this.choice);
      else localStorage.removeItem(KEY);
    } catch {}
    if (this.choice) document.documentElement.dataset.theme = this.choice;
    else delete document.documentElement.dataset.theme;
  }
}

export const theme = new Theme();
