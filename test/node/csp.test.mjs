// The elements under a strict Content-Security-Policy, in headless Chromium (puppeteer-core):
//   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; require-trusted-types-for 'script'
// A plain static server (no dev-server transforms, which could inject inline scripts) sends that header
// on every response — the page, the bundled elements, the worker script — and collects the browser's
// violation reports (report-uri) next to the page's own `securitypolicyviolation` events. The elements
// must load a compiled model and predict, on the main thread and in the worker (<ml-classifier>; in the
// worker also <ml-regressor> and <ml-image-classifier>, the latter reading same-origin <img>s), with zero
// violations; a canary page with an inline script proves that violations are enforced and do get
// reported. The demo page runs under the same policy, and so does the service-worker recipe of
// docs/loading-and-security.md (its code blocks are what this test serves), which must make models load
// with their server unreachable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { launchChromium, serve } from './browser.mjs';

const root = new URL('../../', import.meta.url);
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; require-trusted-types-for 'script'; report-uri /csp-report";

// The same policy without 'wasm-unsafe-eval': WebAssembly may not compile, and the elements must say so.
const CSP_WITHOUT_WASM = CSP.replace(" 'wasm-unsafe-eval'", '');
/** Paths served under CSP_WITHOUT_WASM (the page, its elements and their worker). */
const withoutWasm = (path) => path.startsWith('/no-wasm/');

// Recorded before anything else runs (a classic script: it blocks parsing until it has run).
const violationsJs = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push({
  directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample,
}));`;

// The page's own script: feed both elements the reference rows and report what they showed.
const pageJs = `const reference = await (await fetch('/models/iris_mlp.json')).json();
const rows = reference.inputs.input.shape[0];
const per = reference.inputs.input.shape[1];
const results = {};
for (const id of ['main', 'off']) {
  const el = document.getElementById(id);
  if (!el.model) await new Promise((resolve, reject) => {
    el.addEventListener('ml-load', resolve, { once: true });
    el.addEventListener('ml-error', (e) => reject(new Error(e.detail.code + ': ' + e.detail.message)), { once: true });
  });
  results[id] = [];
  for (let r = 0; r < rows; r++) {
    const next = new Promise((resolve) => el.addEventListener('ml-prediction', (e) => resolve(e.detail), { once: true }));
    el.input = reference.inputs.input.data.slice(r * per, (r + 1) * per);
    const detail = await next;
    results[id].push(Array.from(detail.outputs.output.data));
  }
  await el.updateComplete;
  results[id + 'Label'] = el.shadowRoot.querySelector('[part="label"]').textContent;
  results[id + 'Remote'] = !('maxBatch' in el.model);
}
const form = document.querySelector('ml-classifier[for]');
if (!form.predictions.length) await new Promise((resolve) => form.addEventListener('ml-prediction', resolve, { once: true }));
results.form = form.predictions[0].label;
results.reference = reference.outputs.output.data;
results.labels = reference.labels;
window.__results = results;`;

const pageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ml-widgets under a strict CSP</title>
<script src="/violations.js"></script>
<script type="module" src="/ml-widgets.js"></script>
<script type="module" src="/page.js"></script>
</head>
<body>
<ml-classifier id="main" src="/models/iris_mlp.wasm"></ml-classifier>
<ml-classifier id="off" worker src="/models/iris_mlp.wasm"></ml-classifier>
<form id="iris"><input type="number" value="5.1"><input type="number" value="3.5"><input type="number" value="1.4"><input type="number" value="0.2"></form>
<ml-classifier for="iris" src="/models/iris_mlp.wasm"></ml-classifier>
</body>
</html>`;

// The other elements in the worker: the regressor on every reference row, the image classifier on a
// child <img> and on an <img> named by `for`.
const workersPageJs = `const settle = (el) => new Promise((resolve, reject) => {
  el.addEventListener('ml-prediction', resolve, { once: true });
  el.addEventListener('ml-error', (e) => reject(new Error(el.id + ' ' + e.detail.code + ': ' + e.detail.message)), { once: true });
});
const reg = document.getElementById('reg');
const reference = await (await fetch('/models/diabetes_sklearn_mlpreg.json')).json();
const x = Object.values(reference.inputs)[0];
const per = x.shape[1];
if (!reg.model) await new Promise((resolve, reject) => {
  reg.addEventListener('ml-load', resolve, { once: true });
  reg.addEventListener('ml-error', (e) => reject(new Error(e.detail.code + ': ' + e.detail.message)), { once: true });
});
const results = { regressor: [], regressorRemote: !('maxBatch' in reg.model) };
for (let r = 0; r < x.shape[0]; r++) {
  const next = settle(reg);
  reg.input = x.data.slice(r * per, (r + 1) * per);
  const { detail } = await next;
  await reg.updateComplete;
  const shown = (part) => Array.from(reg.shadowRoot.querySelectorAll('[part="' + part + '"]'), (e) => e.textContent.trim());
  results.regressor.push({ values: detail.values, shown: shown('value'), names: shown('label') });
}
for (const id of ['child', 'named']) {
  const el = document.getElementById(id);
  if (!el.predictions.length) await settle(el);
  await el.updateComplete;
  results[id] = {
    predictions: el.predictions.map((p) => ({ label: p.label, score: p.score, index: p.index })),
    top: el.shadowRoot.querySelector('[part~="row-top"] [part="label"]')?.textContent.trim(),
    remote: !('maxBatch' in el.model),
  };
}
window.__results = results;`;

// The images are same-origin PNGs: default-src 'self' leaves data: and blob: URLs out.
const workersHtml = (samples) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ml-widgets workers under a strict CSP</title>
<script src="/violations.js"></script>
<script type="module" src="/ml-widgets.js"></script>
<script type="module" src="/workers.js"></script>
</head>
<body>
<ml-regressor id="reg" worker src="/models/diabetes_sklearn_mlpreg.wasm" label="Disease progression" digits="1" locale="en-US"></ml-regressor>
<ml-image-classifier id="child" worker top-k="4" src="/models/colors_cnn.wasm"><img src="/images/colors-${samples[0]}.png" alt="A coloured square"></ml-image-classifier>
<img id="pic" src="/images/colors-${samples[1]}.png" alt="Another coloured square">
<ml-image-classifier id="named" worker top-k="4" for="pic" src="/models/colors_cnn.wasm"></ml-image-classifier>
</body>
</html>`;

// Both elements fail to compile their model; the page reports what they said.
const noWasmPageJs = `const failed = (el) => el.error ?? new Promise((resolve) => el.addEventListener('ml-error', (e) => resolve(e.detail), { once: true }));
const results = {};
for (const id of ['main', 'off']) {
  const el = document.getElementById(id);
  results[id] = { ...(await failed(el)) };
  await el.updateComplete;
  results[id].shown = el.shadowRoot.querySelector('[part="error"]')?.textContent.replace(/\\s+/g, ' ').trim();
}
window.__results = results;`;

const noWasmHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ml-widgets without 'wasm-unsafe-eval'</title>
<script type="module" src="/no-wasm/ml-widgets.js"></script>
<script type="module" src="/no-wasm/page.js"></script>
</head>
<body>
<ml-classifier id="main" src="/models/iris_mlp.wasm"></ml-classifier>
<ml-classifier id="off" worker src="/models/iris_mlp.wasm"></ml-classifier>
</body>
</html>`;

const canaryHtml = `<!doctype html><meta charset="utf-8"><title>canary</title>
<script src="/violations.js"></script>
<script>window.__inlineRan = true;</script>`;

/** The service-worker recipe exactly as docs/loading-and-security.md gives it, for this server's model. */
async function serviceWorkerRecipe() {
  const doc = await readFile(new URL('docs/loading-and-security.md', root), 'utf8');
  const block = /<!-- service-worker recipe[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'the recipe block in docs/loading-and-security.md');
  const code = block[1].replace("const MODELS = ['/models/iris.wasm'];", "const MODELS = ['/models/iris_mlp.wasm'];");
  assert.notEqual(code, block[1], 'the recipe names its models in one MODELS line');
  return code;
}

/** The page side: the documented registration, then a flag once the worker is active. */
async function serviceWorkerRegistration() {
  const doc = await readFile(new URL('docs/loading-and-security.md', root), 'utf8');
  const block = /<!-- service-worker registration[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'the registration block in docs/loading-and-security.md');
  return `${block[1]}\nawait navigator.serviceWorker.ready;\nwindow.__swReady = true;`;
}

const offlinePageJs = `for (const el of document.querySelectorAll('ml-classifier')) el.input = [5.1, 3.5, 1.4, 0.2];
await Promise.all(Array.from(document.querySelectorAll('ml-classifier'), (el) => new Promise((resolve) => {
  const done = () => resolve();
  if (el.predictions.length || el.error) return done();
  el.addEventListener('ml-prediction', done, { once: true });
  el.addEventListener('ml-error', done, { once: true });
})));
window.__offline = Array.from(document.querySelectorAll('ml-classifier'), (el) => ({
  id: el.id, top: el.predictions?.[0]?.label ?? null, error: el.error ?? null, controlled: navigator.serviceWorker.controller !== null,
}));`;

/** colors_cnn's reference (PyTorch's pixels and logits for its held-out images, test/fixtures/make_image.py). */
async function colorsReference() {
  return JSON.parse(await readFile(new URL('test/fixtures/models/colors_cnn.json', root), 'utf8'));
}

/** Row `r` of a [rows, ...] reference tensor, flattened. */
function refRow(t, r) {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return t.data.slice(r * per, (r + 1) * per);
}

/** The first held-out image, and the first one PyTorch puts in another class (so a stale or swapped answer fails). */
function colorsSamples(ref) {
  const top = (i) => {
    const logits = refRow(ref.outputs.output, i);
    return logits.indexOf(Math.max(...logits));
  };
  const other = Array.from({ length: ref.outputs.output.shape[0] }, (_, i) => i).find((i) => top(i) !== top(0));
  return [0, other];
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
  return n >>> 0;
});

/** Held-out image `i` as a PNG with exactly its 8-bit RGB pixels (lossless, no colour profile). */
function colorsPng(ref, i) {
  const [, h, w] = ref.pixels.shape;
  const px = refRow(ref.pixels, i);
  const raw = Buffer.alloc(h * (1 + w * 3)); // each scanline: filter type 0, then RGB
  for (let y = 0; y < h; y++) raw.set(px.slice(y * w * 3, (y + 1) * w * 3), y * (1 + w * 3) + 1);
  const crc = (buf) => (buf.reduce((c, b) => crcTable[(c ^ b) & 0xff] ^ (c >>> 8), 0xffffffff) ^ 0xffffffff) >>> 0;
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, no filter, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Model requests that reached the server, and whether it pretends to be unreachable. */
const modelTraffic = { hits: 0, down: false };

let server;
let origin;
let browser;
let outDir;
/** The two held-out colors_cnn images the worker page shows (indices into the reference). */
let imageSamples;
const reports = [];

before(async () => {
  // The elements as a page would get them: one ES module bundle (lit included) with the worker
  // script beside it, where `new URL('./worker.js', import.meta.url)` looks for it.
  outDir = await mkdtemp(join(tmpdir(), 'ml-csp-'));
  await esbuild.build({
    entryPoints: {
      'ml-widgets': fileURLToPath(new URL('components/index.ts', root)),
      worker: fileURLToPath(new URL('runtime/worker.ts', root)),
      // The demo page's script with the elements inside it, and its worker beside it.
      'demo/demo': fileURLToPath(new URL('demo/demo.ts', root)),
      'demo/worker': fileURLToPath(new URL('runtime/worker.ts', root)),
    },
    bundle: true,
    format: 'esm',
    outdir: outDir,
    tsconfig: fileURLToPath(new URL('tsconfig.json', root)),
    logLevel: 'error',
  });
  const colors = await colorsReference();
  imageSamples = colorsSamples(colors);
  const files = {
    '/': ['text/html', pageHtml],
    '/canary.html': ['text/html', canaryHtml],
    '/no-wasm/index.html': ['text/html', noWasmHtml],
    '/no-wasm/page.js': ['text/javascript', noWasmPageJs],
    '/no-wasm/ml-widgets.js': ['text/javascript', await readFile(join(outDir, 'ml-widgets.js'))],
    '/no-wasm/worker.js': ['text/javascript', await readFile(join(outDir, 'worker.js'))],
    '/violations.js': ['text/javascript', violationsJs],
    '/page.js': ['text/javascript', pageJs],
    '/ml-widgets.js': ['text/javascript', await readFile(join(outDir, 'ml-widgets.js'))],
    '/worker.js': ['text/javascript', await readFile(join(outDir, 'worker.js'))],
    '/models/iris_mlp.wasm': ['application/wasm', await readFile(new URL('test/fixtures/build/iris_mlp.wasm', root))],
    '/sw.js': ['text/javascript', await serviceWorkerRecipe()],
    '/sw.html': [
      'text/html',
      '<!doctype html><meta charset="utf-8"><title>sw</title><script type="module" src="/sw-page.js"></script>',
    ],
    '/sw-page.js': ['text/javascript', await serviceWorkerRegistration()],
    '/offline.html': [
      'text/html',
      `<!doctype html><meta charset="utf-8"><title>offline</title><script src="/violations.js"></script>
<script type="module" src="/ml-widgets.js"></script><script type="module" src="/offline.js"></script>
<ml-classifier id="persist" cache="persist" src="/models/iris_mlp.wasm"></ml-classifier>
<ml-classifier id="plain" src="/models/iris_mlp.wasm"></ml-classifier>`,
    ],
    '/offline.js': ['text/javascript', offlinePageJs],
    '/models/iris_mlp.json': ['application/json', await readFile(new URL('test/fixtures/models/iris_mlp.json', root))],
    '/workers.html': ['text/html', workersHtml(imageSamples)],
    '/workers.js': ['text/javascript', workersPageJs],
    '/models/diabetes_sklearn_mlpreg.wasm': [
      'application/wasm',
      await readFile(new URL('test/fixtures/build/diabetes_sklearn_mlpreg.wasm', root)),
    ],
    '/models/diabetes_sklearn_mlpreg.json': [
      'application/json',
      await readFile(new URL('test/fixtures/models/diabetes_sklearn_mlpreg.json', root)),
    ],
    '/models/colors_cnn.wasm': [
      'application/wasm',
      await readFile(new URL('test/fixtures/build/colors_cnn.wasm', root)),
    ],
    ...Object.fromEntries(imageSamples.map((i) => [`/images/colors-${i}.png`, ['image/png', colorsPng(colors, i)]])),
    // The demo as `npm start` serves it, but its TypeScript bundled (a dev server's transforms stay out).
    '/demo/index.html': [
      'text/html',
      (await readFile(new URL('demo/index.html', root), 'utf8')).replace('src="./demo.ts"', 'src="./demo.js"'),
    ],
    '/demo/demo.css': ['text/css', await readFile(new URL('demo/demo.css', root))],
    '/demo/favicon.svg': ['image/svg+xml', await readFile(new URL('demo/favicon.svg', root))],
    '/demo/demo.js': ['text/javascript', await readFile(join(outDir, 'demo/demo.js'))],
    '/demo/worker.js': ['text/javascript', await readFile(join(outDir, 'demo/worker.js'))],
    ...(await demoModels()),
  };
  ({ server, origin } = await serve((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'POST' && path === '/csp-report') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        reports.push(JSON.parse(body || '{}'));
        res.writeHead(204).end();
      });
      return;
    }
    if (path.startsWith('/models/') && path.endsWith('.wasm')) {
      if (modelTraffic.down) return res.writeHead(503, { 'content-security-policy': CSP }).end();
      modelTraffic.hits++;
    }
    const file = files[path];
    const policy = withoutWasm(path) ? CSP_WITHOUT_WASM : CSP;
    if (!file) return res.writeHead(404, { 'content-security-policy': policy }).end();
    res.writeHead(200, { 'content-type': file[0], 'content-security-policy': policy, 'cache-control': 'no-store' });
    res.end(file[1]);
  }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** demo/models as `npm run build:demo` writes them; compiled here from the same fixtures when absent (fresh clone). */
async function demoModels() {
  const dir = new URL('demo/models/', root);
  const names = ['iris.wasm', 'digits.wasm', 'digit-samples.json'];
  if (!names.every((n) => existsSync(new URL(n, dir)))) {
    const { compile } = await import('../../dist/compiler/index.js');
    const fixtures = new URL('test/fixtures/models/', root);
    const out = join(outDir, 'demo-models');
    await mkdir(out, { recursive: true });
    for (const [onnx, wasm, labels] of [
      ['iris_mlp.onnx', 'iris.wasm', ['setosa', 'versicolor', 'virginica']],
      ['digits_mlp.onnx', 'digits.wasm', ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']],
    ]) {
      const compiled = await compile(new Uint8Array(await readFile(new URL(onnx, fixtures))), { labels });
      await writeFile(join(out, wasm), compiled.wasm);
    }
    const ref = JSON.parse(await readFile(new URL('digits_mlp.json', fixtures), 'utf8'));
    const samples = {};
    for (let r = 0; r < ref.inputs.input.shape[0]; r++) {
      const logits = ref.outputs.output.data.slice(r * 10, r * 10 + 10);
      samples[logits.indexOf(Math.max(...logits))] ??= ref.inputs.input.data
        .slice(r * 64, r * 64 + 64)
        .map((v) => Math.round(v * 16));
    }
    await writeFile(join(out, 'digit-samples.json'), JSON.stringify(samples));
    return Object.fromEntries(
      await Promise.all(
        names.map(async (n) => [
          `/demo/models/${n}`,
          [n.endsWith('.json') ? 'application/json' : 'application/wasm', await readFile(join(out, n))],
        ]),
      ),
    );
  }
  return Object.fromEntries(
    await Promise.all(
      names.map(async (n) => [
        `/demo/models/${n}`,
        [n.endsWith('.json') ? 'application/json' : 'application/wasm', await readFile(new URL(n, dir))],
      ]),
    ),
  );
}

/** Wait until the server has every report the browser sent (they arrive asynchronously). */
async function settleReports(ms = 1500) {
  await new Promise((r) => setTimeout(r, ms));
  return reports.splice(0);
}

/**
 * Open `path` under the policy, wait for the page script's `window.__results`, hand them to `check`, then
 * require no violation of any kind: securitypolicyviolation events, reports (page and worker), console errors.
 */
async function underPolicy(path, check) {
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  try {
    const response = await page.goto(`${origin}${path}`);
    assert.equal(response.headers()['content-security-policy'], CSP);
    await page
      .waitForFunction(() => window.__results, { timeout: 30000 })
      .catch((e) => {
        throw new Error(`${e.message}\n${console.join('\n')}`);
      });
    await check(await page.evaluate(() => window.__results), page);
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'securitypolicyviolation events in the page');
    const sent = await settleReports();
    assert.deepEqual(sent, [], 'violation reports (page and worker)');
    assert.deepEqual(
      console.filter((l) => /error|refused|violat/i.test(l)),
      [],
    );
  } finally {
    await page.close();
  }
}

test('the canary: an inline script is blocked and reported (the policy is enforced and violations are seen)', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/canary.html`);
    assert.equal(await page.evaluate(() => window.__inlineRan ?? false), false, 'inline script ran');
    const events = await page.evaluate(() => window.__violations);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.match(events[0].directive, /^script-src/);
    const sent = await settleReports();
    assert.ok(
      sent.some((r) => /script-src/.test(r['csp-report']?.['violated-directive'] ?? '')),
      JSON.stringify(sent),
    );
  } finally {
    await page.close();
  }
});

test('elements load and predict under the strict CSP, on the main thread and in a worker, with no violations', async () => {
  await underPolicy('/', async (results, page) => {
    assert.equal(await page.evaluate(() => typeof window.trustedTypes), 'object');

    // Same numbers as PyTorch on every reference row, in both modes.
    const classes = results.labels.length;
    for (const id of ['main', 'off']) {
      results[id].forEach((out, r) => {
        out.forEach((v, c) => {
          const expected = results.reference[r * classes + c];
          assert.ok(Math.abs(v - expected) <= 1e-4, `${id} row ${r} class ${c}: ${v} vs PyTorch ${expected}`);
        });
      });
    }
    assert.equal(results.mainRemote, false);
    assert.equal(results.offRemote, true, 'the worker element runs a RemoteModel');
    assert.ok(results.labels.includes(results.mainLabel));
    assert.equal(results.offLabel, results.mainLabel);
    assert.equal(results.form, 'setosa');
  });
});

test("without 'wasm-unsafe-eval' the elements report csp, naming the directive to add, on the main thread and in a worker", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/no-wasm/index.html`);
    await page.waitForFunction(() => window.__results, { timeout: 20000 });
    const results = await page.evaluate(() => window.__results);
    for (const id of ['main', 'off']) {
      const { code, message, shown } = results[id];
      assert.equal(code, 'csp', `${id}: ${code}: ${message}`);
      assert.match(message, /'wasm-unsafe-eval'/, `${id}: the directive to add`);
      assert.match(message, /script-src/, `${id}: where to add it`);
      assert.doesNotMatch(message, /empty|damaged/, `${id}: no blame on the file`);
      assert.ok(shown, `${id}: the error is shown in the element`);
    }
    await settleReports(500); // the refused compiles were reported: expected here
  } finally {
    await page.close();
  }
});

test('<ml-regressor> and <ml-image-classifier> predict in a worker under the strict CSP, with no violations', async () => {
  await underPolicy('/workers.html', async (results) => {
    // scikit-learn's MLPRegressor predictions on every reference row, shown as Intl.NumberFormat puts them.
    const reg = JSON.parse(await readFile(new URL('test/fixtures/models/diabetes_sklearn_mlpreg.json', root), 'utf8'));
    const expected = Object.values(reg.outputs)[0];
    const format = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    assert.equal(results.regressorRemote, true, 'the worker regressor runs a RemoteModel');
    assert.equal(results.regressor.length, expected.shape[0]);
    results.regressor.forEach(({ values, shown, names }, r) => {
      const theirs = expected.data[r];
      assert.equal(values.length, 1);
      assert.ok(
        Math.abs(values[0] - theirs) <= 1e-4 * Math.max(1, Math.abs(theirs)),
        `row ${r}: ${values[0]} vs scikit-learn ${theirs}`,
      );
      assert.deepEqual(shown, [format.format(theirs)], `row ${r} shown`);
      assert.deepEqual(names, ['Disease progression']);
    });

    // PyTorch's class for each image, and its probabilities (softmax of its logits) for every class.
    const colors = await colorsReference();
    for (const [id, i] of [
      ['child', imageSamples[0]],
      ['named', imageSamples[1]],
    ]) {
      const logits = refRow(colors.outputs.output, i);
      const m = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - m));
      const probs = e.map((v) => v / e.reduce((a, b) => a + b, 0));
      const label = colors.labels[logits.indexOf(m)];
      const { predictions, top, remote } = results[id];
      assert.equal(remote, true, `${id}: the worker image classifier runs a RemoteModel`);
      assert.equal(predictions[0].label, label, `${id} (image ${i}): top label`);
      assert.equal(top, label, `${id}: the top row shows PyTorch's class`);
      assert.equal(predictions.length, colors.labels.length);
      for (const p of predictions)
        assert.ok(
          Math.abs(p.score - probs[p.index]) <= 1e-4,
          `${id} ${p.label}: ${p.score} vs PyTorch ${probs[p.index]}`,
        );
    }
  });
});

test('the demo page runs under the strict CSP with no violations', async () => {
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  try {
    await page.evaluateOnNewDocument(violationsJs); // the demo has no listener of its own; DevTools adds ours
    await page.goto(`${origin}/demo/index.html`);
    // The iris form predicts at load; the lazy digits element loads once scrolled to and predicts when drawn on.
    const state = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll('ml-classifier'), (el) => ({
          id: el.id,
          error: el.error ?? null,
          top: el.predictions?.[0]?.label ?? null,
          bars: Array.from(el.shadowRoot?.querySelectorAll(`[part="bar-fill"]`) ?? [], (f) => f.style.transform),
        })),
      );
    await page
      .waitForFunction(() => document.querySelector('#iris')?.predictions?.length > 0, { timeout: 20000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\n${JSON.stringify(await state())}\n${console.join('\n')}`);
      });
    await page.evaluate(() => document.querySelector('#digits').scrollIntoView());
    await page.waitForFunction(() => document.querySelector('#digits')?.model !== undefined, { timeout: 20000 });
    const elements = await state();
    assert.ok(elements.length >= 2, JSON.stringify(elements));
    for (const el of elements) assert.equal(el.error, null, `${el.id}: ${JSON.stringify(el.error)}`);
    const iris = elements.find((e) => e.id === 'iris');
    assert.equal(iris.top, 'versicolor', 'the demo form holds a versicolor-like flower');
    assert.ok(
      iris.bars.every((t) => /^scaleX\(/.test(t)),
      `bars sized: ${iris.bars}`,
    );

    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'securitypolicyviolation events');
    const sent = await settleReports();
    assert.deepEqual(sent, [], 'violation reports');
    assert.deepEqual(
      console.filter((l) => /refused|violat|blocked/i.test(l)),
      [],
    );
  } finally {
    await page.close();
  }
});

test('the documented service worker pre-fills the model cache: models load with the server unreachable', async () => {
  const context = await browser.createBrowserContext(); // a fresh profile: no cache, no service worker yet
  const page = await context.newPage();
  const log = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  const fail = (e) => {
    throw new Error(`${e.message}\n${log.join('\n')}`);
  };
  try {
    const before = modelTraffic.hits;
    await page.goto(`${origin}/sw.html`);
    await page.waitForFunction(() => window.__swReady === true, { timeout: 15000 }).catch(fail);
    assert.equal(modelTraffic.hits - before, 1, 'the service worker fetched the model once, at install');

    modelTraffic.down = true; // from now on the model URL answers 503
    await page.goto(`${origin}/offline.html`);
    await page.waitForFunction(() => window.__offline, { timeout: 15000 }).catch(fail);
    const results = await page.evaluate(() => window.__offline);
    for (const r of results) {
      assert.equal(r.error, null, `${r.id}: ${JSON.stringify(r.error)}`);
      assert.equal(r.top, 'setosa', r.id);
      assert.equal(r.controlled, true);
    }
    assert.equal(results.length, 2);
    assert.equal(modelTraffic.hits - before, 1, 'no model request reached the server');
    assert.deepEqual(await page.evaluate(() => window.__violations), []);
    assert.deepEqual(await settleReports(500), []);
  } finally {
    modelTraffic.down = false;
    await context.close();
  }
});
