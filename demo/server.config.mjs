// `npm start`: the demo at http://localhost:8000/demo/, TypeScript compiled on the fly.
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { serveTsAsJs } from './serve-ts-as-js.mjs';

export default {
  rootDir: fileURLToPath(new URL('..', import.meta.url)),
  port: 8000,
  open: '/demo/',
  nodeResolve: true,
  middleware: [serveTsAsJs(new URL('../', import.meta.url))],
  plugins: [esbuildPlugin({ ts: true, tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) })],
};
