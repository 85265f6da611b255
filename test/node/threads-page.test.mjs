// Threads on a cross-origin-isolated page under a strict CSP, in headless Chromium (puppeteer-core): a plain
// static server sends COOP/COEP and
//   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; require-trusted-types-for 'script'
// on every response (the page, dist/runtime/, the worker script, the models). The page loads fixture models
// with `threads: 2` (every step that can be split is split), so the threads share the model's memory: the
// page's thread leads each call and a helper worker takes slices of each step beside it. Results must equal
// one thread's bit for bit, with no CSP violation; a helper that ends leaves the page to finish the calls,
// and the model goes on with one thread. (A helper that dies holding a slice: test/node/threads.test.mjs.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchChromium, serve } from './browser.mjs';

const root = new URL('../../', import.meta.url);
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; require-trusted-types-for 'script'";
const TYPES = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
  '.json': 'application/json',
};

const pageHtml = `<!doctype html><meta charset="utf-8"><title>threads</title>
<script src="/violations.js"></script><script type="module" src="/page.js"></script>`;
const violationsJs = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));`;
// Runs in the page: one-thread and threaded results of each model, then a worker ended mid-call.
const pageJs = `import { loadModel, ThreadedModel, clearModelCache } from '/dist/runtime/index.js';
const rows = (n, width, seed) => {
  const x = new Float32Array(n * width);
  let s = seed;
  for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; x[i] = (s >>> 8) / (1 << 24) * 4 - 1; }
  return x;
};
const width = (m) => m.meta.inputs[0].shape.slice(1).reduce((a, d) => a * Number(d), 1);
const bits = (outputs) => Object.fromEntries(Object.entries(outputs).map(([k, t]) =>
  [k, Array.from(t.data instanceof Float32Array ? new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length) : t.data, Number)]));
async function compare(name, n) {
  const url = '/test/fixtures/build/' + name + '.wasm';
  const plain = await loadModel(url);
  const threaded = await loadModel(url, { threads: 2, threadsAlways: true });
  const input = rows(n, width(plain), 3);
  const want = bits(plain.predict(input, n));
  const calls = [];
  for (let i = 0; i < 5; i++) calls.push(bits(await threaded.predict(input, n)));
  return {
    name, threaded: threaded instanceof ThreadedModel, info: threaded.threads,
    steps: plain.meta.threads.steps, same: calls.every((c) => JSON.stringify(c) === JSON.stringify(want)),
  };
}
async function killed() {
  const url = '/test/fixtures/build/digits_cnn.wasm';
  const plain = await loadModel(url);
  const t = await loadModel(url, { threads: 2, threadsAlways: true });
  const input = rows(200, width(t), 5);
  const want = JSON.stringify(bits(plain.predict(input, 200)));
  const first = t.predict(input, 200);
  const waitedForHelpers = first instanceof Promise;
  await first;
  const led = t.predict(input, 200);
  const synchronous = !(led instanceof Promise);
  t.box.pool.workers[0].terminate();
  // The page's thread takes every slice the helper does not: the call right after still succeeds.
  const during = JSON.stringify(bits(await t.predict(input, 200))) === want;
  const deadline = performance.now() + 10000;
  while (t.threads.mode !== 'none' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const next = await t.predict(input, 200);
  return { waitedForHelpers, synchronous, during, mode: t.threads.mode, nextSame: JSON.stringify(bits(next)) === want };
}
window.__result = (async () => {
  const out = { isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, models: [] };
  for (const [name, n] of [['digits_mlp', 64], ['digits_cnn', 16], ['colors_cnn', 8], ['conv1d_net', 8], ['cancer_rf', 100]])
    out.models.push(await compare(name, n));
  clearModelCache();
  out.killed = await killed();
  return out;
})().catch((e) => ({ failed: String(e && e.stack || e) }));`;

let server;
let origin;
let browser;
before(async () => {
  for (const f of ['dist/runtime/index.js', 'dist/runtime/worker.js', 'test/fixtures/build/digits_cnn.wasm'])
    assert.ok(existsSync(new URL(f, root)), `${f} is missing: run npm run build and npm run build:fixtures`);
  ({ server, origin } = await serve(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const headers = {
      'Content-Security-Policy': CSP,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    const fixed = { '/': [pageHtml, '.html'], '/page.js': [pageJs, '.js'], '/violations.js': [violationsJs, '.js'] };
    try {
      const [body, ext] = fixed[path] ?? [
        await readFile(fileURLToPath(new URL(`.${path}`, root))),
        path.slice(path.lastIndexOf('.')),
      ];
      if (!/^\/(dist\/runtime|test\/fixtures\/build)\//.test(path) && !fixed[path]) throw new Error('not served');
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[ext] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end();
    }
  }));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test('an isolated page under a strict CSP (worker-src self): shared-memory threads give one-thread results bit for bit; an ended helper leaves one thread', async () => {
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => console.push(m.text()));
  await page.goto(`${origin}/`);
  const result = await page.evaluate(() => window.__result);
  const violations = await page.evaluate(() => window.__violations);
  assert.equal(result.failed, undefined, `${result.failed}\n${console.join('\n')}`);
  assert.equal(result.isolated, true, 'the page is cross-origin isolated');
  assert.deepEqual(violations, [], 'no CSP violation');
  assert.ok(result.cores >= 2, `this test needs two cores (navigator.hardwareConcurrency is ${result.cores})`);
  for (const m of result.models) {
    assert.ok(m.steps > 0, `${m.name} has steps to split`);
    assert.equal(m.threaded, true, `${m.name} is a ThreadedModel`);
    assert.deepEqual(m.info, { mode: 'shared-memory', threads: 2, memoryBytes: m.info.memoryBytes }, m.name);
    assert.equal(m.same, true, `${m.name}: five threaded calls equal the one-thread call bit for bit`);
  }
  const k = result.killed;
  assert.equal(k.waitedForHelpers, true, 'the first call waits for the helper to start (a Promise)');
  assert.equal(k.synchronous, true, 'once it has, calls run at once on the page, which leads them');
  assert.equal(k.during, true, 'with the helper gone the page takes every slice: the right answer');
  assert.equal(k.mode, 'none', 'the pool learns of the end and the model goes on with one thread');
  assert.equal(k.nextSame, true, 'the next call, on one thread, gives the right answer');
  await page.close();
});
