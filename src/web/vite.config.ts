import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is built into src/web/dist and served by the API at `/`.
// Everything (socket.io-client included) is bundled: control rooms may have no internet.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  // manifest.webmanifest and icon.svg, served unhashed at the root
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    assetsInlineLimit: 0,
    rollupOptions: {
      // The service worker (notification clicks) must be served at /sw.js, unhashed, to control the whole site.
      input: { index: `${root}index.html`, sw: `${root}sw.ts` },
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
  server: {
    // `vite --config src/web/vite.config.ts` during development: proxy the API.
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
