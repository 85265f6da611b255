// Module workers start from a URL (`new URL('./worker.js', import.meta.url)`), which no import
// resolution rewrites. In the repo only worker.ts exists, so the dev servers (npm start, web test
// runner) answer a request for a missing .js file with its .ts twin, which esbuild then compiles.
import { existsSync } from 'node:fs';

export function serveTsAsJs(root) {
  return (ctx, next) => {
    if (ctx.path.endsWith('.js')) {
      const rel = decodeURIComponent(ctx.path).replace(/^\/+/, '');
      if (!existsSync(new URL(rel, root)) && existsSync(new URL(rel.replace(/\.js$/, '.ts'), root))) {
        ctx.url = ctx.url.replace(/\.js(?=$|\?)/, '.ts');
      }
    }
    return next();
  };
}
