import { defineConfig } from 'vite';

/**
 * The admin web app's bundle: `vite build web` writes web/dist/, which the router serves at `/`
 * (router/web.ts). No plugin: Vite compiles TSX itself (React's automatic JSX runtime). The output
 * has no inline script or style, so the router's strict Content-Security-Policy holds.
 * `vite web` serves it for development, with /graphql (HTTP and WebSocket) passed to a router on
 * port 4000 (`npm start`).
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // react-router marks its modules "use client" (for React Server Components); in a plain
      // browser bundle the directive means nothing.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } } },
});
