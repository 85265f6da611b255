// The demo pages as `npm start` serves them (@web/dev-server with demo/server.config.mjs), in headless
// Chromium: each page has no axe violations once its elements have loaded and predicted, links back to the
// index, and shows its values whole (a unit never covers the number, at three widths). The React and Vue
// sliders have accessible names; the wine classes have names, not class_0…2; the 8×8 digits grid draws
// strokes that start on a gap between cells and fast strokes without holes, and Clear leaves no prediction.
// Needs `npm run build` (cdn/ for the CMS page) and builds the demo models and bundles when missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { startDevServer } from '@web/dev-server';
import { launchChromium } from './browser.mjs';
import { ROOT } from './helpers.mjs';
import config from '../../demo/server.config.mjs';
import { buildReactDemo } from '../../demo/react/build.mjs';
import { buildVueDemo } from '../../demo/vue/build.mjs';

const PAGES = ['index.html', 'classic.html', 'vision.html', 'embed.html', 'react/index.html', 'vue/index.html'];

let server;
let origin;
let browser;
let axe;

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  if (!existsSync(path.join(ROOT, 'cdn/ml-widgets.js'))) throw new Error('cdn/ is missing: run `npm run build` first');
  if (!existsSync(path.join(ROOT, 'demo/models/classic-samples.json')))
    await promisify(execFile)(process.execPath, ['demo/build.mjs'], { cwd: ROOT });
  await Promise.all([buildReactDemo(), buildVueDemo()]);
  axe = await readFile(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  const port = await freePort();
  server = await startDevServer({
    config: { ...config, port, hostname: '127.0.0.1', open: false },
    readCliArgs: false,
    readFileConfig: false,
    logStartMessage: false,
  });
  origin = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Open a demo page and wait until every element with a model has loaded it (lazy ones scrolled to). */
async function open(page, width = 1000) {
  const tab = await browser.newPage();
  await tab.setViewport({ width, height: 900 });
  const problems = [];
  tab.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  tab.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await tab.goto(`${origin}/demo/${page}`, { waitUntil: 'load' });
  await tab.waitForFunction(() => customElements.get('ml-classifier') !== undefined, { timeout: 20000 });
  for (let i = 0; ; i++) {
    const pending = await tab.evaluate(() => {
      const waiting = [...document.querySelectorAll('[src]')].filter(
        (el) => el.localName.startsWith('ml-') && !el.model && !el.error,
      );
      waiting[0]?.scrollIntoView();
      return waiting.map((el) => el.id || el.localName);
    });
    if (!pending.length) break;
    if (i > 200) throw new Error(`${page}: still loading ${pending.join(', ')}\n${problems.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Elements with an input (forms, framework state, a sample digit) have predicted.
  await tab.waitForFunction(
    () =>
      [...document.querySelectorAll('ml-classifier, ml-regressor')].every(
        (el) => el.error || el.predictions?.length || el.values?.length || (!el.input && !el.for),
      ),
    { timeout: 10000 },
  );
  await tab.evaluate(() => window.scrollTo(0, 0));
  return { tab, problems };
}

for (const page of PAGES) {
  test(`${page}: no axe violations once loaded, no errors, a link back to the index`, async () => {
    const { tab, problems } = await open(page);
    try {
      const errors = await tab.evaluate(() =>
        [...document.querySelectorAll('[src]')].filter((el) => el.error).map((el) => `${el.id}: ${el.error.message}`),
      );
      assert.deepEqual(errors, [], 'element errors');
      await tab.addScriptTag({ content: axe });
      const violations = await tab.evaluate(async () => {
        const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
        return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
      });
      assert.deepEqual(violations, [], `axe on ${page}`);
      if (page !== 'index.html') {
        const back = await tab.evaluate(() =>
          [...document.querySelectorAll('a[href]')].some((a) => new URL(a.href).pathname === '/demo/index.html'),
        );
        assert.ok(back, `${page} links back to the index`);
      }
      assert.deepEqual(problems, []);
    } finally {
      await tab.close();
    }
  });
}

test('values are never covered by their unit (index and classic, three widths)', async () => {
  for (const page of ['index.html', 'classic.html']) {
    for (const width of [360, 760, 1000]) {
      const { tab } = await open(page, width);
      try {
        const clipped = await tab.evaluate(() =>
          [...document.querySelectorAll('.unit-input input')]
            .filter((input) => input.scrollWidth > input.clientWidth)
            .map((input) => `${input.id}="${input.value}" (${input.clientWidth}px for ${input.scrollWidth}px)`),
        );
        assert.deepEqual(clipped, [], `${page} at ${width}px`);
      } finally {
        await tab.close();
      }
    }
  }
});

test('the wine cultivars have names, in the element and on the example buttons', async () => {
  const { tab } = await open('classic.html');
  try {
    const { shown, presets } = await tab.evaluate(() => ({
      shown: [...document.querySelector('#wine').shadowRoot.querySelectorAll('[part="label"]')].map(
        (l) => l.textContent,
      ),
      presets: [...document.querySelectorAll('#wine-presets button')].map((b) => b.textContent),
    }));
    assert.ok(shown.length > 0);
    for (const name of [...shown, ...presets]) assert.match(name, /^Cultivar [123]$/);
  } finally {
    await tab.close();
  }
});

for (const page of ['react/index.html', 'vue/index.html']) {
  test(`${page}: every slider is named by its feature`, async () => {
    const { tab } = await open(page);
    try {
      const names = [];
      for (const slider of await tab.$$('input[type="range"]')) {
        const node = await tab.accessibility.snapshot({ root: slider, interestingOnly: false });
        names.push(node?.name ?? '');
      }
      assert.deepEqual(names, ['Sepal length', 'Sepal width', 'Petal length', 'Petal width']);
    } finally {
      await tab.close();
    }
  });
}

test('the 8×8 digits grid: a stroke from a gap and a fast stroke ink every cell they cross; Clear leaves no prediction', async () => {
  const { tab } = await open('index.html');
  try {
    await tab.evaluate(() => document.querySelector('#clear').click());
    await tab.waitForFunction(() => document.querySelector('#digits').predictions.length === 0, { timeout: 5000 });
    const geometry = await tab.evaluate(() => {
      document.querySelector('#pad').scrollIntoView({ block: 'center' });
      const cells = [...document.querySelectorAll('#pad .cell')].map((c) => c.getBoundingClientRect());
      return cells.map((r) => ({ x: r.left, y: r.top, w: r.width, h: r.height }));
    });
    const center = (i) => [geometry[i].x + geometry[i].w / 2, geometry[i].y + geometry[i].h / 2];
    // The gap between cells 9 and 10 (row 1), then one jump straight to cell 14: cells 10…14 in between.
    const gap = [(geometry[9].x + geometry[9].w + geometry[10].x) / 2, center(9)[1]];
    await tab.mouse.move(...gap);
    await tab.mouse.down();
    await tab.mouse.move(...center(14), { steps: 1 });
    await tab.mouse.up();
    const inked = await tab.evaluate(() =>
      [...document.querySelectorAll('#pad .cell')].map((c) => /ink 16 of 16/.test(c.getAttribute('aria-label'))),
    );
    for (const i of [9, 10, 11, 12, 13, 14]) assert.equal(inked[i], true, `cell ${i} inked`);
    await tab.waitForFunction(() => document.querySelector('#digits').predictions.length > 0, { timeout: 5000 });
    await tab.evaluate(() => document.querySelector('#clear').click());
    await tab.waitForFunction(() => document.querySelector('#digits').predictions.length === 0, { timeout: 5000 });
    const rows = await tab.evaluate(
      () => document.querySelector('#digits').shadowRoot.querySelectorAll('[part~="row"]').length,
    );
    assert.equal(rows, 0, 'no prediction shown for a blank grid');
  } finally {
    await tab.close();
  }
});
