// Applies the saved theme before first paint (no flash of the wrong colours). A classic,
// render-blocking script file rather than inline code: the server's Content-Security-Policy
// (script-src 'self') refuses inline scripts. Keep in step with src/lib/theme.svelte.js.
try {
  var t = localStorage.getItem('pastiche-theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) {}
