#!/usr/bin/env node
// Bundles the React 19 example (demo/react/app.jsx → demo/react/dist/app.js) with esbuild, importing
// ml-widgets by its package name as an app would (resolved through package.json "exports" to dist/).
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function buildReactDemo() {
  const here = (p) => fileURLToPath(new URL(p, import.meta.url));
  await build({
    entryPoints: [here('app.jsx')],
    outfile: here('dist/app.js'),
    bundle: true,
    format: 'esm',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildReactDemo();
