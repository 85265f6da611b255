// The embeds a user copies, in headless Chromium: the CMS snippet (demo/embed.html: cdn/ml-widgets.js +
// a form + one element), the React 19 and Vue 3 examples (demo/react/, demo/vue/, bundled with esbuild
// importing "ml-widgets" by name), and the `worker` attribute from the CDN layout (cdn/worker.js beside
// the bundle). Each must show the prediction PyTorch made for the same flower (test/fixtures/models/
// iris_mlp.json). Screenshots go to $TMPDIR/ml-widgets-screenshots/. Needs `npm run build`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { launchChromium, serve } from './browser.mjs';
import { ROOT, FIXTURES, readJSON } from './helpers.mjs';
import { buildReactDemo } from '../../demo/react/build.mjs';
import { buildVueDemo } from '../../demo/vue/build.mjs';

const SHOTS = path.join(tmpdir(), 'ml-widgets-screenshots');
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};
const ref = readJSON(path.join(FIXTURES, 'models/iris_mlp.json'));
const LABELS = ref.labels;
const FIXTURE_URL = '/test/fixtures/build/iris_mlp.wasm';
// The policy docs/embedding.md promises the CDN file works under.
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; require-trusted-types-for 'script'";

/** Reference row `i`: its features and PyTorch's probabilities. */
function row(i) {
  const n = ref.inputs.input.shape[1];
  const k = ref.outputs.output.shape[1];
  return {
    features: ref.inputs.input.data.slice(i * n, i * n + n),
    probs: ref.outputs.output.data.slice(i * k, i * k + k),
  };
}
/** Two held-out flowers of different species, for a first prediction and a changed one. */
function pickRows() {
  const best = (p) => p.indexOf(Math.max(...p));
  const first = row(0);
  for (let i = 1; i < ref.inputs.input.shape[0]; i++)
    if (best(row(i).probs) !== best(first.probs)) return [first, row(i)];
  throw new Error('the fixture has one class only');
}
const [ROW_A, ROW_B] = pickRows();

let server;
let origin;
let browser;
const requested = [];

before(async () => {
  for (const p of ['cdn/ml-widgets.js', 'cdn/worker.js', 'dist/components/index.js', FIXTURE_URL.slice(1)]) {
    if (!existsSync(path.join(ROOT, p)))
      throw new Error(`${p} is missing: run \`npm run build && npm run build:fixtures\` first`);
  }
  if (!existsSync(path.join(ROOT, 'demo/models/iris.wasm')))
    await promisify(execFile)(process.execPath, ['demo/build.mjs'], { cwd: ROOT });
  await Promise.all([buildReactDemo(), buildVueDemo()]);
  mkdirSync(SHOTS, { recursive: true });

  // A plain static server, like the CDN or CMS that would serve these files.
  ({ server, origin } = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    requested.push(url.pathname);
    if (url.pathname === '/__blank')
      return res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>blank</title><link rel="icon" href="data:,">');
    const file = path.join(ROOT, decodeURIComponent(url.pathname));
    if (!file.startsWith(ROOT + path.sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const headers = { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' };
      if (url.searchParams.has('csp')) headers['content-security-policy'] = CSP;
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** A page that fails the test on any uncaught error or console error. */
async function open(url) {
  const page = await browser.newPage();
  await page.setViewport({ width: 720, height: 720 });
  const problems = [];
  // CSP violations also land here (as console errors, and through this event).
  await page.exposeFunction('__violation', (v) => problems.push(`csp: ${v}`));
  await page.evaluateOnNewDocument(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__violation(`${e.violatedDirective} ${e.blockedURI}`),
    ),
  );
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await page.goto(origin + url, { waitUntil: 'load' });
  return { page, problems };
}

/** Waits until `selector`'s element shows the expected top class, then checks its scores against PyTorch. */
async function expectPrediction(page, expected, { selector = 'ml-classifier', text } = {}) {
  const best = expected.probs.indexOf(Math.max(...expected.probs));
  await page.waitForFunction(
    (sel, label, textSel, textLabel) => {
      const el = document.querySelector(sel);
      const ok = el?.predictions?.[0]?.label === label;
      return ok && (!textSel || document.querySelector(textSel)?.textContent.includes(textLabel));
    },
    { timeout: 15000 },
    selector,
    LABELS[best],
    text?.selector,
    text?.includes,
  );
  const predictions = await page.$eval(selector, (el) =>
    el.predictions.map((p) => ({ label: p.label, score: p.score })),
  );
  assert.equal(predictions.length, 3);
  for (const p of predictions) {
    const want = expected.probs[LABELS.indexOf(p.label)];
    assert.ok(Math.abs(p.score - want) <= 1e-4, `${p.label}: ${p.score} vs PyTorch ${want}`);
  }
  // And it is on screen, inside the element's shadow DOM.
  const shown = await page.$eval(selector, (el) => el.shadowRoot.querySelector('[part~="row-top"]')?.textContent ?? '');
  assert.match(shown, new RegExp(LABELS[best]));
  return LABELS[best];
}

/** Sets the framework app's range inputs the way a user drags them (input events). */
async function setSliders(page, values) {
  await page.evaluate((vals) => {
    const inputs = [...document.querySelectorAll('input[type="range"]')];
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    inputs.forEach((input, i) => {
      setter.call(input, String(vals[i]));
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }, values);
}

for (const [name, url, stateText] of [
  ['React 19', '/demo/react/index.html', 'React state says'],
  ['Vue 3', '/demo/vue/index.html', 'Vue state says'],
]) {
  test(`${name} example: input as a property, ml-prediction into framework state`, async () => {
    const { page, problems } = await open(`${url}?model=${FIXTURE_URL}`);
    try {
      // Property binding: the element got a real array, not an attribute string.
      await page.waitForFunction(() => Array.isArray(document.querySelector('ml-classifier')?.input), {
        timeout: 10000,
      });
      assert.equal(await page.$eval('ml-classifier', (el) => el.hasAttribute('input')), false);

      await setSliders(page, ROW_A.features);
      const a = await expectPrediction(page, ROW_A, { text: { selector: '#result', includes: `${stateText}: ` } });
      await page.waitForFunction(
        (l) => document.querySelector('#result').textContent.includes(l),
        { timeout: 5000 },
        a,
      );
      await setSliders(page, ROW_B.features);
      const b = await expectPrediction(page, ROW_B);
      await page.waitForFunction(
        (l) => document.querySelector('#result').textContent.includes(l),
        { timeout: 5000 },
        b,
      );
      assert.notEqual(a, b);
      await page.screenshot({ path: path.join(SHOTS, `${name.split(' ')[0].toLowerCase()}.png`) });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
}

test('CMS snippet under a strict CSP: one script from cdn/ + a form + one element predicts, and the worker attribute works from cdn/', async () => {
  const { page, problems } = await open('/demo/embed.html?csp');
  assert.equal((await page.goto(origin + '/demo/embed.html?csp')).headers()['content-security-policy'], CSP);
  try {
    await page.evaluate((vals) => {
      const inputs = document.querySelectorAll('#iris-form input');
      vals.forEach((v, i) => (inputs[i].value = String(v)));
      inputs[0].dispatchEvent(new Event('input', { bubbles: true }));
    }, ROW_A.features);
    await expectPrediction(page, ROW_A);
    // Only the CDN file (no chunks, no node_modules) was needed for the elements.
    assert.ok(requested.includes('/cdn/ml-widgets.js'));
    assert.ok(!requested.some((p) => p.startsWith('/node_modules/') || /\/cdn\/chunk-/.test(p)), requested.join(' '));
    await page.screenshot({ path: path.join(SHOTS, 'cms-snippet.png') });

    // An element with `worker`, defined by the CDN module: the runtime starts cdn/worker.js next to it.
    const before = requested.length;
    const predictions = await page.evaluate(
      (vals, src) =>
        new Promise((resolve, reject) => {
          const el = document.createElement('ml-classifier');
          el.setAttribute('worker', '');
          el.setAttribute('src', src);
          el.input = vals;
          el.addEventListener('ml-prediction', (e) =>
            resolve(e.detail.predictions.map((p) => ({ label: p.label, score: p.score }))),
          );
          el.addEventListener('ml-error', (e) => reject(new Error(`${e.detail.code}: ${e.detail.message}`)));
          document.body.append(el);
        }),
      ROW_B.features,
      FIXTURE_URL,
    );
    assert.ok(
      requested.slice(before).includes('/cdn/worker.js'),
      `worker not loaded from cdn/: ${requested.slice(before).join(' ')}`,
    );
    for (const p of predictions)
      assert.ok(Math.abs(p.score - ROW_B.probs[LABELS.indexOf(p.label)]) <= 1e-4, `${p.label} ${p.score}`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('per-element CDN entry (cdn/ml-classifier.js) works alone', async () => {
  const { page, problems } = await open('/__blank');
  try {
    // A fresh page importing only the per-element entry (plus its shared chunks), not ml-widgets.js.
    await page.setContent(`<!doctype html><form id="f"><input type="number" name="sepal_length"><input type="number" name="sepal_width"><input type="number" name="petal_length"><input type="number" name="petal_width"></form>
      <script type="module" src="${origin}/cdn/ml-classifier.js"></script>
      <ml-classifier src="${origin}${FIXTURE_URL}" for="f"></ml-classifier>`);
    await page.evaluate((vals) => {
      const inputs = document.querySelectorAll('#f input');
      vals.forEach((v, i) => (inputs[i].value = String(v)));
      inputs[0].dispatchEvent(new Event('input', { bubbles: true }));
    }, ROW_B.features);
    await expectPrediction(page, ROW_B);
    assert.equal(
      await page.evaluate(() => customElements.get('ml-regressor')),
      undefined,
      'only ml-classifier was loaded',
    );
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
