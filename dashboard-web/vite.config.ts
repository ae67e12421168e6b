/**
 * Builds the dashboard (dashboard-web/src) into dashboard-web/dist, which the cloud HTTP app serves
 * (gateways/http/dashboard/dashboard-static.ts). Vite 8 transforms TSX itself (oxc), so no React
 * plugin: the automatic JSX runtime is configured here. `npm run dev:dashboard` proxies /api to a
 * running cloud HTTP server (FARMIQ_DASHBOARD_API, default http://127.0.0.1:8090, the CLOUD_HTTP_PORT default).
 */
import path from 'node:path';
import { defineConfig } from 'vite';

const root = path.dirname(new URL(import.meta.url).pathname);

export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // One script file (plus CSS): no inline scripts, so the strict CSP holds.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      // React Query and React Router mark their modules "use client" (for server components): meaningless in this bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: { '/api': process.env.FARMIQ_DASHBOARD_API ?? 'http://127.0.0.1:8090' },
  },
});
