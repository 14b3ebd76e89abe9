import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console is served by callguard at /console (src/api/console-route.ts). Everything it needs is in
 * the bundle: no fonts, images or scripts from anywhere else. `npm run dev:console` proxies /v1 to a
 * local callguard on the default port.
 */
export default defineConfig({
  root,
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Inline nothing as data: URLs; the content security policy allows only 'self'.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/v1': 'http://127.0.0.1:7780', '/openapi.json': 'http://127.0.0.1:7780' },
  },
});
