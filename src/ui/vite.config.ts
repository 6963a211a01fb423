// Builds the browser app in client/ into dist/ui, where ui-routes.ts serves it.
// `npm run build:ui` runs this, and so does `npm install` (the prepare script).
import path from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: path.join(import.meta.dirname, 'client'),
  base: '/',
  // The app is served at the UI's paths, its files under /assets/ (see ui-routes.ts).
  build: {
    outDir: path.resolve(import.meta.dirname, '../../dist/ui'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: true,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npm run dev:ui`: the app with live reload, the API from a hookd on port 8000.
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
});
