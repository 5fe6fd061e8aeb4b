import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The admin console, built into dist/console-ui and served by the app at /. No React plugin: Vite 8 compiles
 * TSX itself (Oxc, automatic runtime), and the plugin's only gain, Fast Refresh, is for a dev server we do not
 * ship. Everything the page loads comes from this build: no CDN, no web font.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // A blank publicDir: nothing is copied besides what the build emits.
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('../dist/console-ui', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inline nothing: the Content-Security-Policy allows no data: scripts or styles.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // Mantine marks its modules "use client" for React Server Components; meaningless in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    // `npx vite --config console/vite.config.ts` for console work, with the API on :5000.
    proxy: { '/api': 'http://localhost:5000' },
  },
});
