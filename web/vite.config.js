import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The C++ service serves web/dist at `/`; in development `npm run dev` proxies the API to a
// running `pastiche serve` (or tests/e2e/mock-server.mjs) on PASTICHE_API (default :8080).
const api = process.env.PASTICHE_API || 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [svelte()],
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
