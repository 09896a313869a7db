import { defineConfig } from 'vite';

/**
 * The portal's front end. `vite build` writes `dist/web`, which the Fastify server serves in
 * production; in `pnpm dev` the server runs Vite in middleware mode instead.
 *
 * No React plugin: Vite's own transform (Oxc) compiles TSX with the automatic JSX runtime.
 * The output has no inline scripts or styles, so it runs under `script-src 'self'; style-src 'self'`.
 */
export default defineConfig({
  root: 'web',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'react' },
  },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: true,
    reportCompressedSize: true,
    // Inlined assets would become data: URLs; keep every asset a file for a strict CSP.
    assetsInlineLimit: 0,
    // No `<link rel="modulepreload">` polyfill (it is an inline-free module, but not needed).
    modulePreload: { polyfill: false },
  },
});
