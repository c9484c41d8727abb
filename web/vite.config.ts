import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API and tracking to a running `sampan serve` (or `sampan demo`);
// point it elsewhere with SAMPAN_API_URL=http://127.0.0.1:8765 npm run dev.
const api = process.env.SAMPAN_API_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/',
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '/v1': { target: api, changeOrigin: false },
    },
  },
  build: {
    // Served by the Python app (src/sampan/api/console.py) at /.
    outDir: '../src/sampan/webui',
    emptyOutDir: true,
    // Fonts are bundled files, never inlined or fetched from a CDN.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        // Libraries change less often than the console: cached apart from it.
        manualChunks(id) {
          if (!id.includes('node_modules')) return undefined;
          if (/node_modules\/(recharts|d3-|victory-vendor|@mantine\/charts|lodash|react-smooth|recharts-scale|decimal\.js-light|eventemitter3|fast-equals|tiny-invariant)/.test(id)) {
            return 'charts';
          }
          if (/node_modules\/@mantine\//.test(id)) return 'mantine';
          if (/node_modules\/(i18next|react-i18next)\//.test(id)) return 'i18n';
          if (/node_modules\/(react|react-dom|react-router|scheduler|cookie|set-cookie-parser)\//.test(id)) return 'react';
          return undefined;
        },
      },
    },
  },
});
