// The elements under a strict Content-Security-Policy, in headless Chromium (puppeteer-core):
//   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; require-trusted-types-for 'script'
// A plain static server (no dev-server transforms, which could inject inline scripts) sends that header
// on every response — the page, the bundled elements, the worker script — and collects the browser's
// violation reports (report-uri) next to the page's own `securitypolicyviolation` events. The elements
// must load a compiled model and predict, on the main thread and in the worker, with zero violations;
// a canary page with an inline script proves that violations are enforced and do get reported.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import puppeteer from 'puppeteer-core';

const root = new URL('../../', import.meta.url);
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; require-trusted-types-for 'script'; report-uri /csp-report";

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

const canaryHtml = `<!doctype html><meta charset="utf-8"><title>canary</title>
<script src="/violations.js"></script>
<script>window.__inlineRan = true;</script>`;

let server;
let origin;
let browser;
let outDir;
const reports = [];

before(async () => {
  // The elements as a page would get them: one ES module bundle (lit included) with the worker
  // script beside it, where `new URL('./worker.js', import.meta.url)` looks for it.
  outDir = await mkdtemp(join(tmpdir(), 'ml-csp-'));
  await esbuild.build({
    entryPoints: { 'ml-widgets': fileURLToPath(new URL('components/index.ts', root)), worker: fileURLToPath(new URL('runtime/worker.ts', root)) },
    bundle: true,
    format: 'esm',
    outdir: outDir,
    tsconfig: fileURLToPath(new URL('tsconfig.json', root)),
    logLevel: 'error',
  });
  const files = {
    '/': ['text/html', pageHtml],
    '/canary.html': ['text/html', canaryHtml],
    '/violations.js': ['text/javascript', violationsJs],
    '/page.js': ['text/javascript', pageJs],
    '/ml-widgets.js': ['text/javascript', await readFile(join(outDir, 'ml-widgets.js'))],
    '/worker.js': ['text/javascript', await readFile(join(outDir, 'worker.js'))],
    '/models/iris_mlp.wasm': ['application/wasm', await readFile(new URL('test/fixtures/build/iris_mlp.wasm', root))],
    '/models/iris_mlp.json': ['application/json', await readFile(new URL('test/fixtures/models/iris_mlp.json', root))],
  };
  server = createServer((req, res) => {
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
    const file = files[path];
    if (!file) return res.writeHead(404, { 'content-security-policy': CSP }).end();
    res.writeHead(200, { 'content-type': file[0], 'content-security-policy': CSP, 'cache-control': 'no-store' });
    res.end(file[1]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await puppeteer.launch({
    executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** Wait until the server has every report the browser sent (they arrive asynchronously). */
async function settleReports(ms = 1500) {
  await new Promise((r) => setTimeout(r, ms));
  return reports.splice(0);
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
    assert.ok(sent.some((r) => /script-src/.test(r['csp-report']?.['violated-directive'] ?? '')), JSON.stringify(sent));
  } finally {
    await page.close();
  }
});

test('elements load and predict under the strict CSP, on the main thread and in a worker, with no violations', async () => {
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  try {
    const response = await page.goto(`${origin}/`);
    assert.equal(response.headers()['content-security-policy'], CSP);
    await page.waitForFunction(() => window.__results, { timeout: 30000 }).catch((e) => {
      throw new Error(`${e.message}\n${console.join('\n')}`);
    });
    const results = await page.evaluate(() => window.__results);
    const violations = await page.evaluate(() => window.__violations);
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

    assert.deepEqual(violations, [], 'securitypolicyviolation events in the page');
    const sent = await settleReports();
    assert.deepEqual(sent, [], 'violation reports (page and worker)');
    assert.deepEqual(console.filter((l) => /error|refused|violat/i.test(l)), []);
  } finally {
    await page.close();
  }
});
