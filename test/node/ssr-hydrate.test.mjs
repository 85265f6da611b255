// Server-rendered, then hydrated: @lit-labs/ssr renders a page fragment with <ml-classifier> (one fed by a
// property binding, one by a form) and <ml-regressor> in Node, a plain static server sends it with
// @lit-labs/ssr-client's lit-element-hydrate-support loaded before the elements, and headless Chromium
// (puppeteer-core) hydrates it. The declarative shadow DOM must be there before any script runs, each
// element must adopt it (one shadow root, the server's nodes kept, nothing rendered twice), load its
// model and show what PyTorch / scikit-learn predicted for the row (test/fixtures/models/*.json), and
// nothing may be logged as an error (Lit reports hydration mismatches by throwing).
// Runs against dist/ (npm run build) and test/fixtures/build/ (npm run build:fixtures).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { launchChromium, serve } from './browser.mjs';

const root = new URL('../../', import.meta.url);
const readJson = async (path) => JSON.parse(await readFile(new URL(path, root), 'utf8'));

/** Row `r` of a [rows, ...] reference tensor. */
const rowOf = (t, r) => {
  const per = t.data.length / t.shape[0];
  return t.data.slice(r * per, (r + 1) * per);
};
const argmax = (xs) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

// The page's top-level template. The browser must hydrate the very same template (same strings, so the
// same digest as the server's lit-part markers): page.js gets this function's source text.
const page = (html, rows) => html`<form id="iris">
    <input type="number" value=${rows.form[0]}><input type="number" value=${rows.form[1]}>
    <input type="number" value=${rows.form[2]}><input type="number" value=${rows.form[3]}>
  </form>
  <ml-classifier id="bound" src="/models/iris_mlp.wasm" .input=${rows.iris}></ml-classifier>
  <ml-classifier id="form" for="iris" src="/models/iris_mlp.wasm"></ml-classifier>
  <ml-regressor id="regressor" src="/models/diabetes_sklearn_mlpreg.wasm" label="Disease progression" digits="1" locale="en-US"
    .input=${rows.diabetes}></ml-regressor>`;

// Runs as a classic script at the end of <body>: after parsing, before any module script, so it sees
// what the browser made of the server's HTML alone. Marks each element's server-rendered wrapper so
// the test can tell adopted nodes from re-rendered ones.
const beforeJs = `window.__before = Array.from(document.querySelectorAll('#app ml-classifier, #app ml-regressor'), (el) => {
  const base = el.shadowRoot?.querySelector('[part="base"]');
  if (base) base.__fromServer = true;
  return {
    id: el.id,
    defined: customElements.get(el.localName) !== undefined,
    shadowRoot: el.shadowRoot !== null,
    bases: el.shadowRoot?.querySelectorAll('[part="base"]').length ?? 0,
    statuses: el.shadowRoot?.querySelectorAll('[role="status"]').length ?? 0,
  };
});
window.__roots = new Map(Array.from(document.querySelectorAll('#app ml-classifier, #app ml-regressor'), (el) => [el, el.shadowRoot]));`;

let server;
let origin;
let browser;
let ssrHtml;
let rows;

before(async () => {
  const iris = await readJson('test/fixtures/models/iris_mlp.json');
  const diabetes = await readJson('test/fixtures/models/diabetes_sklearn_mlpreg.json');
  // Two rows PyTorch puts in different classes, so the two classifiers cannot pass by showing each other's answer.
  const classOf = (r) => argmax(rowOf(iris.outputs.output, r));
  const formRow = Array.from({ length: iris.inputs.input.shape[0] }, (_, r) => r).find(
    (r) => classOf(r) !== classOf(0),
  );
  rows = {
    iris: rowOf(iris.inputs.input, 0),
    irisLabel: iris.labels[classOf(0)],
    form: rowOf(iris.inputs.input, formRow),
    formLabel: iris.labels[classOf(formRow)],
    diabetes: rowOf(diabetes.inputs.X, 0),
    diabetesValue: rowOf(diabetes.outputs.variable, 0)[0],
  };

  // Server side, as ssr.test.mjs renders: the package from dist/ in Node, no DOM.
  await import('../../dist/components/index.js');
  const { render } = await import('@lit-labs/ssr');
  const { collectResult } = await import('@lit-labs/ssr/lib/render-result.js');
  const { html } = await import('lit');
  ssrHtml = await collectResult(render(page(html, rows)));

  // Client side: hydrate support, the elements (the same dist/ the server rendered with) and the page
  // script as ES modules sharing one copy of lit (code splitting), so the patch reaches the LitElement
  // the elements extend. Module scripts run in document order: hydrate support first.
  const pageJs = `import { html } from 'lit';
import { hydrate } from '@lit-labs/ssr-client';
const page = ${page.toString()};
hydrate(page(html, ${JSON.stringify(rows)}), document.getElementById('app'));
window.__hydrated = true;`;
  const built = await esbuild.build({
    entryPoints: {
      'hydrate-support': '@lit-labs/ssr-client/lit-element-hydrate-support.js',
      'ml-widgets': fileURLToPath(new URL('dist/components/index.js', root)),
      page: 'virtual:page',
    },
    plugins: [
      {
        name: 'page',
        setup(build) {
          build.onResolve({ filter: /^virtual:page$/ }, () => ({ path: 'page', namespace: 'page' }));
          build.onLoad({ filter: /.*/, namespace: 'page' }, () => ({
            contents: pageJs,
            loader: 'js',
            resolveDir: fileURLToPath(root),
          }));
        },
      },
    ],
    absWorkingDir: fileURLToPath(root),
    bundle: true,
    splitting: true,
    format: 'esm',
    outdir: '/', // with write: false nothing lands on disk; paths below are relative to it
    write: false,
    logLevel: 'error',
  });
  const files = {
    '/': [
      'text/html',
      `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ml-widgets, server-rendered and hydrated</title>
<link rel="icon" href="data:,">
<script type="module" src="/hydrate-support.js"></script>
<script type="module" src="/ml-widgets.js"></script>
<script type="module" src="/page.js"></script>
</head>
<body>
<div id="app">${ssrHtml}</div>
<script src="/before.js"></script>
</body>
</html>`,
    ],
    '/before.js': ['text/javascript', beforeJs],
    '/models/iris_mlp.wasm': ['application/wasm', await readFile(new URL('test/fixtures/build/iris_mlp.wasm', root))],
    '/models/diabetes_sklearn_mlpreg.wasm': [
      'application/wasm',
      await readFile(new URL('test/fixtures/build/diabetes_sklearn_mlpreg.wasm', root)),
    ],
  };
  for (const out of built.outputFiles) files[out.path] = ['text/javascript', out.contents];
  ({ server, origin } = await serve((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' });
    res.end(file[1]);
  }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("the served page carries each element's shadow DOM as a declarative <template shadowrootmode>", async () => {
  const served = await (await fetch(`${origin}/`)).text();
  for (const [tag, id] of [
    ['ml-classifier', 'bound'],
    ['ml-classifier', 'form'],
    ['ml-regressor', 'regressor'],
  ]) {
    const el = new RegExp(`<${tag} [^>]*id="${id}"[^>]*>([\\s\\S]*?)</${tag}>`).exec(served);
    assert.ok(el, `${tag}#${id} in the served page`);
    const templates = el[1].match(/<template shadowroot(mode)?="open"[^>]*>/g) ?? [];
    assert.equal(templates.length, 1, `${tag}#${id}: one declarative shadow root`);
    // Chromium only knows the standard attribute; the legacy `shadowroot` alone would stay an inert template.
    assert.match(templates[0], /shadowrootmode="open"/);
    assert.equal(el[1].match(/part="base"/g)?.length, 1, `${tag}#${id}: the element's own markup, once`);
    // Nothing was loaded on the server, so nothing is predicted in the served HTML.
    assert.doesNotMatch(el[1], /part="(list|values)"/);
  }
});

test("hydrated in Chromium: one shadow root each, the server's nodes adopted, predictions as the source libraries made them, no errors", async () => {
  const tab = await browser.newPage();
  const errors = [];
  const log = [];
  tab.on('console', (m) => {
    log.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  tab.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Chromium now and then reports a model fetch whose bytes were all streamed into the compiler as
  // ERR_ABORTED; that is not a failure the page sees (a model that did not load fails the checks below).
  tab.on(
    'requestfailed',
    (r) =>
      r.failure()?.errorText === 'net::ERR_ABORTED' ||
      errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`),
  );
  // A wait that times out says what each element got to, and what the page logged.
  const fail = async (e) => {
    const where = await tab
      .evaluate(() =>
        Array.from(
          document.querySelectorAll('ml-classifier, ml-regressor'),
          (el) =>
            `${el.localName}#${el.id}: input ${JSON.stringify(el.input ?? null)}, error ${JSON.stringify(el.error ?? null)}, shown ${(el.predictions ?? el.values)?.length}`,
        ).join('\n'),
      )
      .catch(() => '');
    throw new Error(`${e.message}\n${where}\n${log.join('\n')}\n${errors.join('\n')}`);
  };
  try {
    await tab.goto(`${origin}/`);

    // Before any module ran: the browser had already attached the server's shadow roots.
    const beforeScripts = await tab.evaluate(() => window.__before);
    assert.deepEqual(
      beforeScripts,
      ['bound', 'form', 'regressor'].map((id) => ({ id, defined: false, shadowRoot: true, bases: 1, statuses: 1 })),
    );

    await tab.waitForFunction(() => window.__hydrated === true, { timeout: 20000 }).catch(fail);
    await tab
      .waitForFunction(
        () =>
          Array.from(
            document.querySelectorAll('#app ml-classifier, #app ml-regressor'),
            (el) => el.error || (el.predictions ?? el.values).length > 0,
          ).every(Boolean),
        { timeout: 20000 },
      )
      .catch(fail);
    const state = await tab.evaluate(async () => {
      const els = Array.from(document.querySelectorAll('#app ml-classifier, #app ml-regressor'));
      await Promise.all(els.map((el) => el.updateComplete));
      const count = (el, selector) => el.shadowRoot.querySelectorAll(selector).length;
      return {
        page: {
          classifiers: document.querySelectorAll('ml-classifier').length,
          regressors: document.querySelectorAll('ml-regressor').length,
          forms: document.querySelectorAll('form').length,
        },
        elements: Object.fromEntries(
          els.map((el) => [
            el.id,
            {
              error: el.error ?? null,
              sameRoot: el.shadowRoot === window.__roots.get(el),
              adopted: el.shadowRoot.querySelector('[part="base"]')?.__fromServer === true,
              lightTemplates: el.querySelectorAll('template').length,
              counts: {
                base: count(el, '[part="base"]'),
                status: count(el, '[role="status"]'),
                loading: count(el, '[part="loading"]'),
                error: count(el, '[part="error"]'),
                list: count(el, '[part="list"]'),
                values: count(el, '[part="values"]'),
              },
              top: el.predictions?.[0]?.label ?? null,
              renderedTop: el.shadowRoot.querySelector('[part~="row-top"] [part="label"]')?.textContent ?? null,
              value: el.values?.[0] ?? null,
              renderedValues: Array.from(el.shadowRoot.querySelectorAll('[part="value"]'), (v) => v.textContent.trim()),
              status: el.shadowRoot.querySelector('[role="status"]')?.textContent.trim() ?? null,
              statusHtml: el.shadowRoot.querySelector('[role="status"]')?.innerHTML ?? null,
            },
          ]),
        ),
      };
    });
    const { bound, form, regressor } = state.elements;

    // Lit throws on a hydration mismatch (an uncaught error in an update): the cause of most else below.
    const shapes = Object.entries(state.elements).map(([id, el]) => `${id}: ${JSON.stringify(el.counts)}`);
    assert.deepEqual(errors, [], [...log, ...shapes].join('\n'));

    // The top-level hydrate() adopted the page instead of rendering a second copy next to it.
    assert.deepEqual(state.page, { classifiers: 2, regressors: 1, forms: 1 });
    for (const [id, el] of Object.entries(state.elements)) {
      assert.equal(el.error, null, `${id}: ${JSON.stringify(el.error)}`);
      assert.equal(el.sameRoot, true, `${id}: the declarative shadow root is the one the element renders into`);
      assert.equal(el.adopted, true, `${id}: the server-rendered wrapper was hydrated, not replaced`);
      assert.equal(el.lightTemplates, 0, `${id}: no <template> left in the light DOM`);
      const { list, values, ...once } = el.counts;
      assert.deepEqual(once, { base: 1, status: 1, loading: 0, error: 0 }, `${id}: rendered once`);
      assert.equal(list + values, 1, `${id}: one results region`);
    }

    // PyTorch's class for each row, shown as the top row and announced.
    assert.equal(bound.top, rows.irisLabel, 'property-bound classifier');
    assert.equal(bound.renderedTop, rows.irisLabel);
    // textContent skips comments: text written into a lit-part marker reads as empty, hence the markup.
    const region = (el) => `status ${JSON.stringify(el.status)}, live region markup: ${el.statusHtml}`;
    assert.match(bound.status, new RegExp(`^Prediction: ${rows.irisLabel},`), region(bound));
    assert.equal(form.top, rows.formLabel, 'form-bound classifier');
    assert.equal(form.renderedTop, rows.formLabel);
    assert.match(form.status, new RegExp(`^Prediction: ${rows.formLabel},`), region(form));

    // scikit-learn's value, within 1e-4 relative, and its en-US one-decimal form on screen.
    const want = rows.diabetesValue;
    assert.ok(
      Math.abs(regressor.value - want) <= 1e-4 * Math.max(1, Math.abs(want)),
      `regressor: ${regressor.value} vs scikit-learn ${want}`,
    );
    const shown = await tab.evaluate(
      (v) => new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v),
      want,
    );
    assert.deepEqual(regressor.renderedValues, [shown]);
    assert.equal(regressor.status, `Disease progression: ${shown}`, region(regressor));
  } finally {
    await tab.close();
  }
});
