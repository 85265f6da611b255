// `npm pack` output installs into an empty project and works there: the runtime predicts with a compiled
// fixture as PyTorch did, the compiler compiles, the CDN file is present and within budget, the CLI runs,
// types resolve through the exports map. Needs `npm run build` (dist/ and cdn/) and the npm registry (or
// a warm npm cache) for the package's dependencies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROOT, FIXTURES, readJSON } from './helpers.mjs';

const run = promisify(execFile);
const pkg = readJSON(path.join(ROOT, 'package.json'));
const BUDGET_GZIP = 33 * 1024;
let dir;
let app;
let installed;

const npm = (args, cwd) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 64 << 20, timeout: 240_000 });
/** Runs an ES module inside the app (so bare specifiers resolve through the installed package's exports). */
async function inApp(name, source) {
  writeFileSync(path.join(app, name), source);
  const { stdout } = await run(process.execPath, [name], { cwd: app, maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}

before(async () => {
  for (const p of ['dist/components/index.js', 'dist/compiler/cli.js', 'cdn/ml-widgets.js']) {
    if (!existsSync(path.join(ROOT, p))) throw new Error(`${p} is missing: run \`npm run build\` first`);
  }
  dir = mkdtempSync(path.join(tmpdir(), 'ml-widgets-pack-'));
  // --ignore-scripts: pack what `npm run build` made instead of rebuilding (prepare) under other tests.
  const { stdout } = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT);
  const [packed] = JSON.parse(stdout);
  app = path.join(dir, 'app');
  await run('mkdir', [app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await npm(['install', '--prefer-offline', path.join(dir, packed.filename)], app);
  installed = path.join(app, 'node_modules', pkg.name);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds dist, cdn, the manifest and the README, and nothing of the sources or tests', () => {
  // npm adds LICENSE files by itself when the project has one.
  const top = readdirSync(installed)
    .filter((f) => !/^licen[cs]e/i.test(f))
    .sort();
  assert.deepEqual(top, ['README.md', 'cdn', 'custom-elements.json', 'dist', 'package.json']);
  assert.ok(existsSync(path.join(installed, 'dist/kernels.wasm')), 'the compiler needs its kernels');
  assert.ok(existsSync(path.join(installed, 'cdn/worker.js')), 'the worker sits beside the CDN bundle');
  assert.ok(existsSync(path.join(app, 'node_modules/lit/package.json')), 'lit is installed as a dependency');
});

test('ml-widgets/runtime predicts with a compiled fixture as PyTorch did', async () => {
  const ref = readJSON(path.join(FIXTURES, 'models/iris_mlp.json'));
  const wasm = path.join(FIXTURES, 'build/iris_mlp.wasm');
  const out = await inApp(
    'runtime.mjs',
    `import { readFile } from 'node:fs/promises';
     import { loadModel, VERSION } from 'ml-widgets/runtime';
     const ref = JSON.parse(await readFile(${JSON.stringify(path.join(FIXTURES, 'models/iris_mlp.json'))}, 'utf8'));
     const model = await loadModel(await readFile(${JSON.stringify(wasm)}));
     const input = ref.inputs.input;
     const outputs = model.predict(new Float32Array(input.data), input.shape[0]);
     console.log(JSON.stringify({ version: VERSION, meta: JSON.stringify(model.meta), output: Array.from(outputs.output.data), shape: outputs.output.shape }));`,
  );
  assert.equal(out.version, pkg.version);
  assert.deepEqual(out.shape, ref.outputs.output.shape);
  assert.ok(out.meta.includes('"versicolor"'), out.meta);
  const expected = ref.outputs.output.data;
  assert.equal(out.output.length, expected.length);
  const worst = Math.max(...expected.map((v, i) => Math.abs(v - out.output[i])));
  assert.ok(worst <= 1e-4, `max |diff| vs PyTorch ${worst}`);
});

test('ml-widgets/compiler compiles the ONNX file into a model the runtime loads', async () => {
  const ref = readJSON(path.join(FIXTURES, 'models/iris_mlp.json'));
  const out = await inApp(
    'compile.mjs',
    `import { readFile } from 'node:fs/promises';
     import { compile, CompileError } from 'ml-widgets/compiler';
     import { loadModel } from 'ml-widgets/runtime';
     const { wasm, meta } = await compile(new Uint8Array(await readFile(${JSON.stringify(path.join(FIXTURES, 'models/iris_mlp.onnx'))})));
     const model = await loadModel(wasm);
     const input = ${JSON.stringify(ref.inputs.input)};
     const outputs = model.predict(new Float32Array(input.data), input.shape[0]);
     let refused = '';
     try { await compile(new Uint8Array([1, 2, 3])); } catch (e) { refused = e instanceof CompileError ? e.message : 'not a CompileError: ' + e; }
     console.log(JSON.stringify({ bytes: wasm.length, ops: meta.ops, output: Array.from(outputs.output.data), refused }));`,
  );
  assert.ok(out.bytes > 1000, `${out.bytes} bytes`);
  const expected = ref.outputs.output.data;
  const worst = Math.max(...expected.map((v, i) => Math.abs(v - out.output[i])));
  assert.ok(worst <= 1e-4, `max |diff| vs PyTorch ${worst}`);
  assert.ok(out.refused.length > 0 && !out.refused.startsWith('not a'), out.refused);
});

test('the elements entry and per-element entries import in Node without a DOM; package.json and the manifest are exported', async () => {
  const out = await inApp(
    'elements.mjs',
    `import { createRequire } from 'node:module';
     import * as all from 'ml-widgets';
     import { MlClassifier } from 'ml-widgets/ml-classifier';
     const require = createRequire(import.meta.url);
     const manifest = require('ml-widgets/custom-elements.json');
     const tags = manifest.modules.flatMap((m) => (m.exports ?? []).filter((e) => e.kind === 'custom-element-definition').map((e) => e.name));
     console.log(JSON.stringify({
       same: all.MlClassifier === MlClassifier,
       defined: globalThis.customElements?.get('ml-classifier') === MlClassifier,
       document: typeof document,
       version: require('ml-widgets/package.json').version,
       tags,
       cdn: require.resolve('ml-widgets/cdn/ml-widgets.js'),
     }));`,
  );
  assert.equal(out.same, true);
  assert.equal(out.defined, true);
  assert.equal(out.document, 'undefined');
  assert.equal(out.version, pkg.version);
  assert.ok(out.tags.includes('ml-classifier'), `manifest tags: ${out.tags}`);
  assert.equal(out.cdn, path.join(installed, 'cdn/ml-widgets.js'));
});

test('the installed cdn/ml-widgets.js is one self-contained module within the gzip budget', () => {
  const bytes = readFileSync(path.join(installed, 'cdn/ml-widgets.js'));
  const gzip = gzipSync(bytes, { level: 9 }).length;
  assert.ok(gzip <= BUDGET_GZIP, `cdn/ml-widgets.js is ${gzip} bytes gzipped, over ${BUDGET_GZIP}`);
  const text = bytes.toString('utf8');
  // No import of anything (lit is inside) and nothing of Node.
  assert.doesNotMatch(text, /\bfrom\s*["']|\bimport\s*\(\s*["']|\bimport\s*["']/);
  assert.doesNotMatch(text, /node:/);
  assert.match(text, /customElements\.define\(\s*"ml-classifier"/);
  assert.match(text, /new URL\("\.\/worker\.js",import\.meta\.url\)/);
});

test('the CLI bin runs from the installed package (npx ml-widgets inspect)', async () => {
  const { stdout } = await run(
    'npx',
    ['--no-install', 'ml-widgets', 'inspect', path.join(FIXTURES, 'build/iris_mlp.wasm')],
    { cwd: app },
  );
  const meta = JSON.parse(stdout);
  assert.deepEqual(meta.inputs[0].shape.slice(1), [4]);
  assert.ok(JSON.stringify(meta).includes('virginica'));
});

test('TypeScript resolves the types of every export condition, and each element types its events', async () => {
  writeFileSync(
    path.join(app, 'check.ts'),
    `import { MlClassifier, type Prediction } from 'ml-widgets';
     import { MlRegressor } from 'ml-widgets/ml-regressor';
     import { loadModel, type ModelMeta } from 'ml-widgets/runtime';
     import { compile } from 'ml-widgets/compiler';
     const el: MlClassifier = document.createElement('ml-classifier');
     const p: Prediction[] = el.predictions as Prediction[];
     const r: typeof MlRegressor = MlRegressor;
     const m: Promise<ModelMeta> = loadModel('x.wasm').then((x) => x.meta);
     const c: typeof compile = compile;
     // Each element's events carry its own detail types; a listener on the document hears either.
     el.addEventListener('ml-prediction', (e) => e.detail.predictions[0].label.toUpperCase());
     document.createElement('ml-regressor').addEventListener('ml-prediction', (e) => e.detail.value.toFixed(1));
     // @ts-expect-error a classifier's prediction has no value
     el.addEventListener('ml-prediction', (e) => e.detail.value);
     el.addEventListener('ml-error', (e) => e.detail.code.length);
     document.addEventListener('ml-prediction', (e) => ('value' in e.detail ? e.detail.value : e.detail.predictions));
     export { p, r, m, c };`,
  );
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const compilerOptions = {
    noEmit: true,
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: [],
    skipLibCheck: true,
  };
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
  const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((e) => e);
  assert.equal(result.code ?? 0, 0, `${result.stdout}${result.stderr}`);
});

test('sideEffects lists every dist module that defines an element, and no other source module', () => {
  const listed = pkg.sideEffects.filter((p) => p.startsWith('./dist/'));
  const definers = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js') && /customElements\.define\(\s*'/.test(readFileSync(p, 'utf8')))
        definers.push('./' + path.relative(installed, p));
    }
  };
  walk(path.join(installed, 'dist/components'));
  assert.ok(definers.length >= 2, definers.join());
  for (const d of definers)
    assert.ok(listed.includes(d), `${d} defines an element but is not in package.json sideEffects`);
  // The rest of the list is the entry that imports them all, or elements being added (absent until built).
  for (const l of listed)
    assert.ok(
      definers.includes(l) || l === './dist/components/index.js' || !existsSync(path.join(installed, l)),
      `${l} is listed but defines nothing`,
    );
  assert.ok(pkg.sideEffects.includes('./cdn/*'));
});
