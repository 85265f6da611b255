// Threads on a page that is not cross-origin isolated (the test page): a model loaded with `threads` runs big
// batches over the page's thread and workers, each with its own instance of the one compiled module, and gives the one-thread
// results in order; a worker that ends mid-call fails that call with thread-failed and the next call runs on
// one thread; releasing the model ends its workers; elements take a `threads` attribute. (Shared memory on
// an isolated page under a strict CSP: test/node/threads-page.test.mjs.)
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { clearModelCache, loadModel, releaseModel, ThreadedModel, type Outputs } from '../../runtime/index.js';
import type { Model } from '../../runtime/model.js';
import '../../components/ml-classifier/ml-classifier.js';
import type { MlClassifier } from '../../components/ml-classifier/ml-classifier.js';

const DIGITS = '/test/fixtures/build/digits_mlp.wasm';
const FOREST = '/test/fixtures/build/cancer_rf.wasm';
const cores = Math.max(1, navigator.hardwareConcurrency || 1);

/** `rows` rows of seeded values in [0, 16) (digits pixels; the forest takes any floats). */
function rowsOf(rows: number, width: number, seed = 7): Float32Array {
  const out = new Float32Array(rows * width);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s >>> 8) / (1 << 24)) * 16;
  }
  return out;
}

const width = (m: { meta: Model['meta'] }) =>
  m.meta.inputs[0].shape.slice(1).reduce<number>((a, d) => a * Number(d), 1);

/** The pool's workers (private: only a test ends one on purpose). */
const workersOf = (m: ThreadedModel) =>
  (m as unknown as { box: { pool?: { workers: Worker[] } } }).box.pool?.workers ?? [];

function expectSame(a: Outputs, b: Outputs): void {
  expect(Object.keys(b)).to.deep.equal(Object.keys(a));
  for (const name of Object.keys(a)) {
    expect(b[name].shape, name).to.deep.equal(a[name].shape);
    expect(Array.from(b[name].data as ArrayLike<unknown>), name).to.deep.equal(
      Array.from(a[name].data as ArrayLike<unknown>),
    );
  }
}

describe('threads on a page without cross-origin isolation: workers', () => {
  afterEach(() => clearModelCache());

  for (const [name, url] of [
    ['digits MLP', DIGITS],
    ['100-tree forest', FOREST],
  ]) {
    it(`${name}: a batch over the page's thread and a worker gives the one-thread results, in order`, async () => {
      expect(crossOriginIsolated).to.equal(false);
      const plain = await loadModel(url);
      const threaded = await loadModel(url, { threads: 2, threadsAlways: true });
      if (cores < 2) {
        expect(threaded).to.equal(plain); // one core: no threads to use
        return;
      }
      expect(threaded).to.be.instanceOf(ThreadedModel);
      const t = threaded as ThreadedModel;
      expect(t.threads.mode).to.equal('workers');
      expect(t.threads.threads).to.equal(2);
      expect(t.threads.memoryBytes).to.equal(2 * t.meta.memoryBytes); // the page's instance and one worker's
      const input = rowsOf(1003, width(t));
      const pending = t.predict(input, 1003);
      expect(pending).to.be.instanceOf(Promise);
      const got = await pending;
      expectSame((plain as Model).predict(input, 1003), got);
      expect(workersOf(t).length).to.equal(1); // the page's thread runs the first part itself
      releaseModel(t);
    });
  }

  it('a worker ended mid-call fails that call with thread-failed; the next call succeeds on one thread', async function () {
    if (cores < 2) this.skip();
    const plain = (await loadModel(DIGITS)) as Model;
    const t = (await loadModel(DIGITS, { threads: 2, threadsAlways: true })) as ThreadedModel;
    const input = rowsOf(20000, width(t));
    await t.predict(input.slice(0, 640), 10); // the pool is up
    // The page's thread takes a tenth of the rows (its share adapts to both sides' speed; private, as the
    // workers are), so the call returns while the worker is still well inside its part.
    (t as unknown as { pageShare: number }).pageShare = 0.1;
    const call = t.predict(input, 20000) as Promise<Outputs>;
    workersOf(t)[0].terminate();
    let error: { code?: string; message?: string } | undefined;
    await call.catch((e) => (error = e));
    expect(error?.code).to.equal('thread-failed');
    expect(error?.message).to.match(/one thread from now on/);
    expect(t.threads.mode).to.equal('none');
    const next = t.predict(input, 20000);
    expectSame(plain.predict(input, 20000), await next);
  });

  it('a small call with threads "auto" runs on the page at once (no Promise, no workers)', async () => {
    const t = await loadModel(DIGITS, { threads: 'auto' });
    const one = t.predict(rowsOf(1, width(t)), 1);
    expect(one).not.to.be.instanceOf(Promise);
    if (t instanceof ThreadedModel) expect(workersOf(t).length).to.equal(0);
  });

  it('releasing the model ends its workers', async function () {
    if (cores < 2) this.skip();
    const t = (await loadModel(FOREST, { threads: 2, threadsAlways: true })) as ThreadedModel;
    await t.predict(rowsOf(100, width(t)), 100);
    const pool = (t as unknown as { box: { pool?: { closed: Promise<void> } } }).box.pool!;
    releaseModel(t);
    await pool.closed; // every worker's lock came back: they have ended
    expect((t as unknown as { box: { pool?: unknown } }).box.pool).to.equal(undefined);
  });
});

describe('the threads attribute', () => {
  afterEach(() => clearModelCache());

  it('defaults to auto and takes numbers; a big batch on threads="2" runs on workers and ranks what one thread does', async () => {
    const auto = await fixture<MlClassifier>(html`<ml-classifier src=${DIGITS}></ml-classifier>`);
    expect(auto.threads).to.equal('auto');
    const one = await fixture<MlClassifier>(html`<ml-classifier threads="1" src=${DIGITS}></ml-classifier>`);
    const two = await fixture<MlClassifier>(html`<ml-classifier threads="2" src=${DIGITS}></ml-classifier>`);
    expect(one.threads).to.equal(1);
    expect(two.threads).to.equal(2);
    const batch = rowsOf(20000, 64, 11);
    const [a, b] = await Promise.all([one.predict(batch, 20000), two.predict(batch, 20000)]);
    expect(one.model).not.to.be.instanceOf(ThreadedModel);
    if (cores >= 2) expect((two.model as ThreadedModel).threads.mode).to.equal('workers');
    expectSame(a.outputs, b.outputs);
    expect(b.predictions).to.deep.equal(a.predictions);
    // A change reloads: one thread is a plain Model again.
    const reloaded = oneEvent(two, 'ml-load');
    two.threads = 1;
    await reloaded;
    expect(two.model).not.to.be.instanceOf(ThreadedModel);
  });
});
