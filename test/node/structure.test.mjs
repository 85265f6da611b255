// The shape of the source tree: no import cycles among compiler/, runtime/, components/ and assembly/
// (type-only imports aside: they vanish at build time), and no source file over 500 lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FOLDERS = ['compiler', 'runtime', 'components', 'assembly'];

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'generated' || name === 'node_modules') return [];
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|mjs)$/.test(name) ? [full] : [];
  });
}

const files = FOLDERS.flatMap((f) => sources(path.join(ROOT, f)));

/** Run-time imports of a file (static `import … from`, `export … from`, `import '…'`), resolved to files. */
function runtimeImports(file) {
  const text = readFileSync(file, 'utf8');
  const specs = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*(?:from\s*)?['"](\.[^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    if (m[2]) continue; // import type / export type
    // `import { type A, type B }` with only type specifiers is type-only too.
    const names = /\{([^}]*)\}/.exec(m[3])?.[1];
    if (names && names.split(',').every((n) => !n.trim() || n.trim().startsWith('type '))) continue;
    specs.push(m[4]);
  }
  return specs
    .map((s) => path.resolve(path.dirname(file), s))
    .map((p) => [p, p.replace(/\.js$/, '.ts'), `${p}.ts`].find((c) => files.includes(c)))
    .filter(Boolean);
}

test('no import cycle among compiler/, runtime/, components/, assembly/ (type-only imports aside)', () => {
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
  // Tarjan's strongly connected components: any component of more than one file is a cycle.
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(path.relative(ROOT, w));
      } while (w !== v);
      if (component.length > 1 || graph.get(v).includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.map((c) => c.join(' ⇄ ')).join('\n')}`);
});

test('no source file over 500 lines in compiler/, runtime/, components/, assembly/', () => {
  const long = files
    .map((f) => ({ file: path.relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
    .filter((f) => f.lines > 500);
  assert.deepEqual(long, [], `split these by concern:\n${long.map((f) => `${f.file}: ${f.lines} lines`).join('\n')}`);
});
