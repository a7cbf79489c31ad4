import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm start` listens, for the dev server's proxy. */
const api = process.env.EVENTLOOM_URL ?? 'http://127.0.0.1:3000';

// The server serves dist/web (its WEB_ROOT default); `npm run build` writes it.
export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite --config web/vite.config.ts` beside `npm start`: the dev server proxies the
    // API (keeping the Host header), so pages and API share one origin: the API's CSRF
    // guard accepts them without ALLOWED_ORIGINS.
    proxy: Object.fromEntries(
      ['/api', '/health', '/metrics'].map((path) => [path, { target: api, changeOrigin: false }]),
    ),
  },
});
