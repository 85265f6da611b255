// Models are released when no element uses them. Every WebAssembly memory reserves address space, and
// Chromium refuses a new one once about 124 are alive in a renderer process (its address-space budget for
// wasm memories, shared by the page and its worker): "Out of memory: Cannot allocate Wasm memory for new
// instance". So the measure here is the engine's own: one element going through 200 distinct model URLs,
// then a 201st model in a new element, can only all load if the models before were freed — on the main
// thread and in the worker, one after the other in one page. Where gc() is exposed (Chromium, see
// web-test-runner.config.mjs), the main-thread test also counts the 200 Model objects still alive after
// collection (WeakRefs): no more than the grace pool keeps, plus the one on show.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import { clearModelCache, loadModel, type MlClassifier } from '../../components/index.js';
import { IDLE_LIMIT, RELEASE_GRACE_MS } from '../../runtime/shared-loads.js';
import { MODELS, requestStats, sleep, uid } from './helpers.js';

const SETOSA = [5.1, 3.5, 1.4, 0.2];
const MODELS_IN_A_ROW = 200;
const gc = (window as { gc?: () => void }).gc;

/** Set `src` and wait for the element's prediction (or fail with its error). */
async function show(el: MlClassifier, src: string): Promise<string> {
  const settled = new Promise<string>((resolve, reject) => {
    const ok = (e: Event) => {
      el.removeEventListener('ml-error', bad);
      resolve((e as CustomEvent).detail.predictions[0].label);
    };
    const bad = (e: Event) => {
      el.removeEventListener('ml-prediction', ok);
      const { code, message } = (e as CustomEvent).detail;
      reject(new Error(`${src}: ${code}: ${message}`));
    };
    el.addEventListener('ml-prediction', ok, { once: true });
    el.addEventListener('ml-error', bad, { once: true });
  });
  el.src = src;
  return settled;
}

async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await sleep(30);
  }
}

describe('models are released', function () {
  this.timeout(180_000);
  afterEach(() => clearModelCache());

  for (const worker of [false, true]) {
    it(`${MODELS_IN_A_ROW} distinct models through one element, then a ${MODELS_IN_A_ROW + 1}st in a new one (${worker ? 'worker' : 'main thread'})`, async () => {
      const key = uid('many');
      const el = await fixture<MlClassifier>(html`<ml-classifier ?worker=${worker} .input=${SETOSA}></ml-classifier>`);
      const alive: WeakRef<object>[] = [];
      for (let i = 0; i < MODELS_IN_A_ROW; i++) {
        expect(await show(el, `${MODELS}/iris_mlp.wasm?${key}-${i}`), `model ${i}`).to.equal('setosa');
        alive.push(new WeakRef(el.model!));
      }
      const fresh = await fixture<MlClassifier>(
        html`<ml-classifier ?worker=${worker} .input=${SETOSA}></ml-classifier>`,
      );
      expect(await show(fresh, `${MODELS}/iris_mlp.wasm?${key}-new`)).to.equal('setosa');
      if (!worker && gc) {
        await sleep(RELEASE_GRACE_MS + 200);
        await collect();
        const left = alive.filter((r) => r.deref() !== undefined).length;
        console.log(`${MODELS_IN_A_ROW} models shown one after another: ${left} still alive after gc()`);
        expect(left, 'Model objects alive').to.be.at.most(IDLE_LIMIT + 1);
      }
    });
  }

  it('an engine out of memory is out-of-memory (not a damaged file), and letting go of the models frees the page', async function () {
    // Chromium's budget of wasm memories is the measure (gc() is exposed there to free them afterwards).
    if (!gc) this.skip();
    const key = uid('held');
    const held: unknown[] = [];
    let failure: { code?: string; message?: string } | undefined;
    for (let i = 0; i < 400 && !failure; i++) {
      try {
        held.push(await loadModel(`${MODELS}/iris_mlp.wasm?${key}-${i}`));
      } catch (err) {
        failure = err as typeof failure;
      }
    }
    const count = held.length;
    held.length = 0;
    expect(failure, 'the engine refused a memory at some point').to.not.equal(undefined);
    expect(failure!.code, failure!.message).to.equal('out-of-memory');
    expect(failure!.message).to.match(/no memory left/);
    console.log(`out-of-memory after ${count} models held at once`);
    await collect();
    const model = await loadModel(`${MODELS}/iris_mlp.wasm?${key}-after`);
    expect(model.predict(SETOSA).output.data.length).to.equal(3);
  });

  it('a re-render within the grace period reuses the instance: removed and put back, no second fetch', async () => {
    const key = uid('rerender');
    const url = `/__test/count/${key}/iris_mlp.wasm`;
    const wrapper = await fixture<HTMLElement>(html`<div></div>`);
    const el = document.createElement('ml-classifier');
    el.input = SETOSA;
    wrapper.append(el);
    expect(await show(el, url)).to.equal('setosa');
    const model = el.model;
    el.remove();
    await sleep(50);
    const again = oneEvent(el, 'ml-prediction');
    wrapper.append(el);
    el.input = [...SETOSA];
    await again;
    expect(el.model).to.equal(model);
    // A second element on the same URL, and a switch away and back, share it too.
    const other = document.createElement('ml-classifier');
    other.input = SETOSA;
    wrapper.append(other);
    expect(await show(other, url)).to.equal('setosa');
    expect(await show(el, `${MODELS}/iris_mlp.wasm?${key}-other`)).to.equal('setosa');
    expect(await show(el, url)).to.equal('setosa');
    expect(el.model).to.equal(model);
    expect((await requestStats(key)).requests, 'fetches').to.equal(1);
  });

  it('an element out of the page past the grace period lets its model go, and loads it again when it comes back', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div></div>`);
    const el = document.createElement('ml-classifier');
    el.input = SETOSA;
    wrapper.append(el);
    expect(await show(el, `${MODELS}/iris_mlp.wasm?${uid('away')}`)).to.equal('setosa');
    el.remove();
    await sleep(RELEASE_GRACE_MS + 200);
    expect(el.model, 'released while away').to.equal(undefined);
    const back = oneEvent(el, 'ml-prediction');
    wrapper.append(el);
    expect((await back).detail.predictions[0].label).to.equal('setosa');
    expect(el.model).to.not.equal(undefined);
  });
});
