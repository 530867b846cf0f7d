import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { defineConfig, type Plugin } from 'vite';

// The dashboard is built into src/web/dist and served by the API at `/`.
// Everything (socket.io-client included) is bundled: control rooms may have no internet.
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * PNG renderings of public/icon.svg, the one drawing of the icon: iOS takes only a PNG for the Home Screen
 * (apple-touch-icon), and Android's launchers want 192 and 512 px ones in the manifest.
 */
function pngIcons(sizes: Record<string, number>): Plugin {
  return {
    name: 'maskwatch-png-icons',
    apply: 'build',
    async generateBundle() {
      const svg = await readFile(`${root}public/icon.svg`);
      for (const [fileName, size] of Object.entries(sizes)) {
        // Rendered at twice the size, then scaled down: smooth edges. The corners get the icon's own background.
        const png = await sharp(svg, { density: (72 * 2 * size) / 512 }).resize(size, size).flatten({ background: '#0b1118' }).png({ palette: true }).toBuffer();
        this.emitFile({ type: 'asset', fileName, source: png });
      }
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  // manifest.webmanifest and icon.svg, served unhashed at the root
  publicDir: 'public',
  plugins: [pngIcons({ 'apple-touch-icon.png': 180, 'icon-192.png': 192, 'icon-512.png': 512 })],
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
