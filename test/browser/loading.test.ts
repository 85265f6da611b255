// Loading options through the runtime and the element: integrity, persistent cache, offline.
import { expect, fixture, html } from '@open-wc/testing';
import { clearModelCache, loadModel, MODEL_CACHE } from '../../runtime/index.js';
import '../../components/index.js';
import type { MlClassifier } from '../../components/ml-classifier/ml-classifier.js';

const MODEL = '/test/fixtures/build/iris_mlp.wasm';

async function sri(url: string): Promise<string> {
  const bytes = await (await fetch(url)).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-384', bytes));
  return `sha384-${btoa(String.fromCharCode(...digest))}`;
}

function nextEvent(el: Element, type: string): Promise<CustomEvent> {
  return new Promise((resolve) => el.addEventListener(type, (e) => resolve(e as CustomEvent), { once: true }));
}

describe('loading options', () => {
  afterEach(() => clearModelCache());

  it('cache="persist" keeps the model in the Cache API and loads it offline', async () => {
    const url = new URL(`${MODEL}?persist=${Math.random()}`, location.href).href;
    await loadModel(url, { cache: 'persist' });
    const stored = await (await caches.open(MODEL_CACHE)).match(url);
    expect(stored, 'cached response').to.exist;
    const size = (await (await fetch(MODEL)).arrayBuffer()).byteLength;
    expect((await stored!.arrayBuffer()).byteLength).to.equal(size);

    clearModelCache();
    const realFetch = window.fetch;
    window.fetch = () => Promise.reject(new TypeError('offline'));
    try {
      const model = await loadModel(url, { cache: 'persist' });
      expect(model.predict([5.1, 3.5, 1.4, 0.2]).output.data.length).to.equal(3);
      // Without persist the same URL needs the network.
      clearModelCache();
      let failed: unknown;
      await loadModel(url).catch((e) => (failed = e));
      expect((failed as { code?: string }).code).to.equal('fetch-failed');
    } finally {
      window.fetch = realFetch;
      await (await caches.open(MODEL_CACHE)).delete(url);
    }
  });

  it('<ml-classifier integrity> loads with the right hash and shows an integrity error with a wrong one', async () => {
    const good = await sri(MODEL);
    const el = await fixture<MlClassifier>(html`<ml-classifier></ml-classifier>`);
    const loadedEvent = nextEvent(el, 'ml-load');
    el.integrity = good;
    el.src = `${MODEL}?sri-good`;
    await loadedEvent;
    expect(el.model).to.exist;

    const failure = nextEvent(el, 'ml-error');
    el.integrity = 'sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    el.src = `${MODEL}?sri-bad`;
    const e = await failure;
    expect(e.detail.code).to.equal('integrity');
    await el.updateComplete;
    // The visitor is told the file changed; the hash and the URL are for the developer (ml-error, console).
    expect(el.shadowRoot!.querySelector('[part="error"]')!.textContent).to.match(/has changed/);
    expect(e.detail.message).to.match(/integrity/);

    // Fixing the attribute recovers.
    const again = nextEvent(el, 'ml-load');
    el.integrity = good;
    await again;
    expect(el.model).to.exist;
  });
});
