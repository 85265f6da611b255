#!/usr/bin/env node
/**
 * CDN build (`npm run build:cdn`, part of `npm run build`): writes cdn/ for a `<script type="module">` embed.
 *
 *   cdn/ml-widgets.js     the CMS embed: <ml-classifier> and <ml-regressor>, Lit and the runtime in one
 *                         self-contained minified ES module, within the 33 KB gzip budget
 *   cdn/ml-widgets-all.js the same plus every other element (the image widgets), self-contained, no budget
 *   cdn/worker.js         the module Worker behind the `worker` attribute; the runtime starts it as
 *                         `new URL('./worker.js', import.meta.url)`, so it must sit next to the code above
 *   cdn/ml-<name>.js      one entry per element folder components/ml-<name>/ (found at build time), code
 *                         split so Lit, the runtime and the controllers are shared chunks (cdn/chunk-*.js)
 *                         instead of a copy per element
 *
 * Prints raw and gzip sizes and exits non-zero when cdn/ml-widgets.js is over its gzip budget, or when
 * anything in cdn/ would need Node (a node:* import means the compiler leaked into the browser bundle).
 */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { minify } from 'terser';

export const BUDGET_GZIP = 33 * 1024;
/** The elements in cdn/ml-widgets.js, the budgeted embed file: forms in, predictions out. */
export const CORE_TAGS = ['ml-classifier', 'ml-regressor'];

const root = new URL('../', import.meta.url);
const path = (p) => fileURLToPath(new URL(p, root));
// Overridable so a test can check the budget failure without touching cdn/.
const outdir = process.env.ML_WIDGETS_CDN_OUTDIR || path('cdn');
const budget = Number(process.env.ML_WIDGETS_CDN_BUDGET) || BUDGET_GZIP;

/** Element tags with a components/ml-<name>/ml-<name>.ts module, sorted. */
export async function elementEntries() {
  const dirs = await readdir(path('components'), { withFileTypes: true });
  const tags = [];
  for (const d of dirs) {
    if (!d.isDirectory() || !/^ml-[a-z0-9-]+$/.test(d.name)) continue;
    try {
      await stat(path(`components/${d.name}/${d.name}.ts`));
      tags.push(d.name);
    } catch {
      // a folder without its module (someone mid-way through adding one) is not an element yet
    }
  }
  return tags.sort();
}

/**
 * Lit's css`` and html`` literals are strings to esbuild, so it keeps their indentation and comments.
 * This squeezes only the static text of those two tags: CSS loses comments and the spaces around
 * punctuation; HTML loses line breaks with their indentation between tags (a run of whitespace with a
 * newline in it becomes one space, or nothing between `>` and `<`, where it never renders in our
 * templates). `${…}` expressions, other template literals and strings are left alone.
 */
export function minifyTemplates(source) {
  let out = '';
  let i = 0;
  const n = source.length;
  // Copies code from i up to the end (or, inside an expression, up to its closing brace).
  function code(stopAtBrace) {
    let depth = 0;
    while (i < n) {
      const c = source[i];
      if (c === '`') {
        const tag = /\b(css|html)\s*$/.exec(source.slice(Math.max(0, i - 8), i))?.[1];
        out += c;
        i++;
        template(tag);
      } else if (c === '"' || c === "'") {
        const start = i++;
        while (i < n && source[i] !== c) i += source[i] === '\\' ? 2 : 1;
        i++;
        out += source.slice(start, i);
      } else if (c === '/' && source[i + 1] === '/') {
        const end = source.indexOf('\n', i);
        i = end < 0 ? n : end;
      } else if (c === '/' && source[i + 1] === '*') {
        const end = source.indexOf('*/', i + 2);
        out += source.slice(i, end + 2);
        i = end + 2;
      } else {
        if (c === '{') depth++;
        if (c === '}') {
          if (stopAtBrace && depth === 0) return;
          depth--;
        }
        out += c;
        i++;
      }
    }
  }
  function template(tag) {
    let text = '';
    const flush = () => {
      out += tag === 'css' ? squeezeCss(text) : tag === 'html' ? squeezeHtml(text) : text;
      text = '';
    };
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        flush();
        out += c;
        i++;
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        flush();
        out += '${';
        i += 2;
        code(true);
        out += '}';
        i++;
      } else {
        text += c;
        i++;
      }
    }
  }
  code(false);
  return out;
}
const squeezeCss = (s) =>
  s
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/;}/g, '}')
    .replace(/:\s+/g, ':');
const squeezeHtml = (s) => s.replace(/>\s*\n\s*</g, '><').replace(/\s*\n\s*/g, ' ');

const minifyLitTemplates = {
  name: 'minify-lit-templates',
  setup(b) {
    b.onLoad({ filter: /\/components\/.*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!/\b(css|html)`/.test(source)) return undefined;
      const contents = minifyTemplates(source);
      // The scanner knows strings, comments and templates but not regex literals: a file it misread
      // would lose or gain expressions, so compare their count and fall back to the file as written.
      const holes = (s) => s.split('${').length;
      return { contents: holes(contents) === holes(source) ? contents : source, loader: 'ts' };
    });
  },
};

const common = {
  plugins: [minifyLitTemplates],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  // Private members (`_name`, our convention) get short names; Lit's own `_$…` names do not match.
  // Consistent inside one build, decorator keys included; worker messages use no `_` names, so the
  // worker (built with ml-widgets.js) and the split entries still speak the same protocol.
  mangleProps: /^_[a-zA-Z]/,
  // Module scripts are always decoded as UTF-8, so “quotes” in messages can stay one character, not \u201C.
  charset: 'utf8',
  tsconfig: path('tsconfig.json'),
  // Lit's production build (no dev-mode warnings); `node` would pick its SSR build.
  conditions: ['production'],
  logLevel: 'warning',
  metafile: true,
};

/** Fails the build when any bundled input or output import is a Node built-in. */
function checkNoNode(metafile, what) {
  const bad = [];
  for (const [file, out] of Object.entries(metafile.outputs)) {
    for (const imp of out.imports) if (imp.external || /^node:/.test(imp.path)) bad.push(`${file} imports ${imp.path}`);
  }
  for (const file of Object.keys(metafile.inputs))
    if (/(^|\/)compiler\//.test(file)) bad.push(`${file} (the compiler) is bundled`);
  if (bad.length) throw new Error(`${what} must run in a browser without Node, but:\n  ${bad.join('\n  ')}`);
}

export async function bundle() {
  await rm(outdir, { recursive: true, force: true });
  const tags = await elementEntries();
  if (!tags.length) throw new Error('no elements found under components/ml-*/');

  // 1. The self-contained embed files and the worker: no splitting, so each is one file.
  //    cdn/ml-widgets.js is the CMS embed and carries the 33 KB budget: the form and value widgets
  //    (CORE_TAGS) with Lit and the runtime. cdn/ml-widgets-all.js adds every other element folder found
  //    (the image widgets), for a page that wants them all from one file; it is reported, not budgeted —
  //    with the image widgets the whole set is ~34 KB gzip. The budget grew from 20 KB as the runtime took
  //    typed tensors (run(), stream(), int64/bool I/O, shape checks) and checks every field of a file it loads.
  //    It grew to 32 KB with threads (runtime/threads/: the pool, data-parallel batches, the shared-memory
  //    rewrite), about 4 KB gzip, and to 33 KB when the page's thread began leading shared-memory calls
  //    (the schedule, runtime/threads/schedule.ts, ships in the embed: ~0.6 KB); loading runtime/threads/
  //    only when a model asks for threads would win it back.
  const core = tags.filter((t) => CORE_TAGS.includes(t));
  const reexports = (list) => list.map((t) => `export * from './${t}/${t}.js';`);
  const allElements = {
    name: 'all-elements',
    setup(b) {
      b.onResolve({ filter: /^ml-widgets:(core|all)$/ }, (args) => ({
        path: args.path.slice(11),
        namespace: 'ml-widgets',
      }));
      b.onLoad({ filter: /.*/, namespace: 'ml-widgets' }, (args) => ({
        // Re-exports, not bare imports: package.json "sideEffects" names the dist/ files, so esbuild would
        // drop a bare import of a source module as side-effect free.
        contents: (args.path === 'all'
          ? [`export * from './index.js';`, ...reexports(tags)]
          : [
              ...reexports(core),
              `export { define } from './define.js';`,
              `export { loadModel, clearModelCache, ModelError } from '../runtime/index.js';`,
            ]
        ).join('\n'),
        resolveDir: path('components'),
        loader: 'ts',
      }));
    },
  };
  const single = await build({
    ...common,
    plugins: [...common.plugins, allElements],
    entryPoints: [
      { in: 'ml-widgets:core', out: 'ml-widgets' },
      { in: 'ml-widgets:all', out: 'ml-widgets-all' },
      { in: path('runtime/worker.ts'), out: 'worker' },
    ],
    outdir,
  });
  checkNoNode(single.metafile, 'cdn/ml-widgets.js');

  // 2. Per-element entries sharing chunks. Chunks go in cdn/ itself (not a subfolder), so the runtime's
  //    `new URL('./worker.js', import.meta.url)` resolves to cdn/worker.js from whichever chunk holds it.
  const split = await build({
    ...common,
    entryPoints: tags.map((tag) => ({ in: path(`components/${tag}/${tag}.ts`), out: tag })),
    outdir,
    splitting: true,
    chunkNames: 'chunk-[hash]',
  });
  checkNoNode(split.metafile, 'cdn/ml-*.js');

  const files = [...Object.keys(single.metafile.outputs), ...Object.keys(split.metafile.outputs)]
    .filter((f) => f.endsWith('.js'))
    .map((f) => basename(f));
  const report = [];
  for (const name of files) {
    // A second minifier pass: terser's compressor finds what esbuild's single pass leaves (about 3% of
    // the gzip size here), which is most of the headroom under the budget.
    const file = `${outdir}/${name}`;
    const squeezed = await minify(await readFile(file, 'utf8'), {
      module: true,
      ecma: 2022,
      compress: { passes: 2 },
      mangle: true,
      format: { comments: false },
    });
    await writeFile(file, squeezed.code);
    const bytes = await readFile(file);
    report.push({ name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  return { tags, report };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

export function formatReport(report) {
  const width = Math.max(...report.map((r) => r.name.length));
  const lines = report.map(
    (r) => `  cdn/${r.name.padEnd(width)}  ${kb(r.raw).padStart(9)} raw  ${kb(r.gzip).padStart(8)} gzip`,
  );
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { tags, report } = await bundle();
    console.log(`CDN bundle in ${outdir} (${tags.join(', ')}):\n${formatReport(report)}`);
    const main = report.find((r) => r.name === 'ml-widgets.js');
    if (main.gzip > budget) {
      console.error(
        `\nBudget exceeded: cdn/ml-widgets.js is ${main.gzip} bytes (${kb(main.gzip)}) gzipped, over the ${kb(budget)} budget by ${main.gzip - budget} bytes.`,
      );
      process.exit(1);
    }
    console.log(`  cdn/ml-widgets.js within budget: ${kb(main.gzip)} of ${kb(budget)} gzip`);
  } catch (err) {
    console.error(`CDN build failed: ${err.message}`);
    process.exit(1);
  }
}
