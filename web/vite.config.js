import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The C++ service serves web/dist at `/`; in development `npm run dev` proxies the API to a
// running `pastiche serve` (or tests/e2e/mock-server.mjs) on PASTICHE_API (default :8080).
const api = process.env.PASTICHE_API || 'http://127.0.0.1:8080';

// The server sends `Content-Security-Policy: … script-src 'self' …` (docs/api.md, "Browser
// security"): the browser runs no inline <script>, no inline event handler attribute, no eval.
// Fail the build rather than ship a page that breaks under it (code that must run before first
// paint goes in public/*.js, loaded with <script src>).
function cspGuard() {
  return {
    name: 'pastiche-csp-guard',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const [name, out] of Object.entries(bundle)) {
        if (out.type === 'asset' && name.endsWith('.html')) {
          const html = String(out.source);
          for (const [, attrs, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
            const data = /\btype=["']?application\/(ld\+)?json/i.test(attrs);
            if (!data && (!/\bsrc=/i.test(attrs) || body.trim())) {
              this.error(`${name}: inline <script> (blocked by the server's CSP script-src 'self'); move it to public/*.js`);
            }
          }
          const handler = /<[a-z][^>]*\son[a-z]+\s*=/i.exec(html);
          if (handler) this.error(`${name}: inline event handler (blocked by CSP): ${handler[0].slice(0, 80)}`);
          if (/(?:href|src)\s*=\s*["']?\s*javascript:/i.test(html)) this.error(`${name}: javascript: URL (blocked by CSP)`);
        } else if (out.type === 'chunk' && /(?<![\w$.])(?:eval\(|new Function\()/.test(out.code)) {
          this.error(`${name}: eval or new Function (blocked by CSP script-src without 'unsafe-eval')`);
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [svelte(), cspGuard()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 8192,
    target: 'es2020',
  },
  server: {
    proxy: { '/api': api, '/healthz': api },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.js'],
  },
});
