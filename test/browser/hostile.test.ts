// Hostile model files (built with binaryen by test/hostile.mjs, served at /__test/hostile/<kind>.wasm):
// the right exports and iris' own ml.meta, misbehaving in one way each. A file whose exports disagree
// with its metadata is refused at load; a model that traps fails under `trap`; a model that never
// returns, in the worker, is stopped by the watchdog (`timeout`) while the page's other worker elements
// go on in a fresh worker.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import { clearModelCache, loadModel, ModelError, type MlClassifier } from '../../components/index.js';
import { loadModelInWorker } from '../../runtime/index.js';
import {
  MODELS,
  expectShortAndLogged,
  failOnUnhandledRejections,
  sleep,
  uid,
  until,
  watchWarnings,
} from './helpers.js';

const IRIS = `${MODELS}/iris_mlp.wasm`;
const SETOSA = [5.1, 3.5, 1.4, 0.2];
const hostile = (kind: string) => `/__test/hostile/${kind}/${uid()}.wasm`;

async function failure(el: MlClassifier): Promise<{ code: string; message: string }> {
  if (el.error) return el.error;
  return (await oneEvent(el, 'ml-error')).detail;
}

async function rejection(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (err) {
    return err as ModelError;
  }
  throw new Error('expected a rejection');
}

describe('hostile model files', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));
  let warnings: ReturnType<typeof watchWarnings>;
  beforeEach(() => (warnings = watchWarnings()));
  afterEach(() => {
    warnings.stop();
    clearModelCache();
  });

  it('the builder makes a loadable model when nothing is wrong (the control: it predicts zeros)', async () => {
    const model = await loadModel(hostile('sane'));
    expect(Array.from(model.predict(SETOSA).output.data as Float32Array)).to.deep.equal([0, 0, 0]);
  });

  for (const worker of [false, true]) {
    const mode = worker ? 'worker' : 'main thread';
    for (const [kind, says] of [
      ['zero-batch', /maxBatch\(\) returns 0/],
      ['other-batch', /maxBatch\(\) returns 1025, but the metadata declares 1024/],
      ['input-outside', /inputPtr\(0\) is \d+, which leaves no room/],
      ['unaligned', /outputPtr\(0\) is \d+, not a multiple of 4/],
    ] as const) {
      it(`${kind}: refused at load as not-a-model (${mode}), and the element recovers`, async () => {
        const el = await fixture<MlClassifier>(
          html`<ml-classifier ?worker=${worker} .input=${SETOSA} src=${hostile(kind)}></ml-classifier>`,
        );
        const detail = await failure(el);
        expect(detail.code, detail.message).to.equal('not-a-model');
        expect(detail.message).to.match(says);
        const next = oneEvent(el, 'ml-prediction');
        el.src = IRIS;
        expect((await next).detail.predictions[0].label).to.equal('setosa');
      });
    }

    it(`a run that traps fails under trap, not bad-input (${mode})`, async () => {
      const el = await fixture<MlClassifier>(
        html`<ml-classifier ?worker=${worker} .input=${SETOSA} src=${hostile('trap')}></ml-classifier>`,
      );
      const detail = await failure(el);
      expect(detail.code, detail.message).to.equal('trap');
      await el.updateComplete;
      expectShortAndLogged(el, detail.message, warnings.logged);
      expect((await rejection(el.predict(SETOSA))).code).to.equal('trap');
    });
  }

  it('predict(null) on the main thread rejects with bad-input like every other bad input', async () => {
    const model = await loadModel(IRIS);
    let thrown: unknown;
    try {
      model.predict(null as unknown as number[]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(ModelError);
    expect((thrown as ModelError).code).to.equal('bad-input');
    const remote = await loadModelInWorker(IRIS);
    expect((await rejection(remote.predict(null as unknown as number[]))).code).to.equal('bad-input');
  });

  it('a run that never returns, in the worker: its element gets timeout, the other worker elements answer from a fresh worker', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div>
      <ml-classifier id="stuck" worker timeout="1000" src=${hostile('loop')}></ml-classifier>
      <ml-classifier id="same" worker timeout="1000"></ml-classifier>
      <ml-classifier id="other" worker src=${IRIS}></ml-classifier>
      <ml-classifier id="main" src=${IRIS}></ml-classifier>
    </div>`);
    const [stuck, same, other, main] = Array.from(wrapper.querySelectorAll('ml-classifier'));
    same.src = stuck.src; // a second element on the hanging model
    await until(() => [stuck, same, other, main].every((el) => el.model), 5000, 'all four models');
    const otherErrors: string[] = [];
    for (const el of [other, main]) el.addEventListener('ml-error', (e) => otherErrors.push(e.detail.code));
    const first = oneEvent(other, 'ml-prediction');
    other.input = SETOSA;
    await first; // `other` has its model in the worker that is about to hang

    const started = performance.now();
    const timedOut = [failure(stuck), failure(same)];
    stuck.input = SETOSA; // the worker is stuck from here
    await sleep(50);
    same.input = SETOSA;
    const answer = oneEvent(other, 'ml-prediction');
    other.input = [6.7, 3.0, 5.2, 2.3]; // queued behind the stuck run
    // The main thread is free all along: a main-thread element answers at once.
    const mainAnswer = oneEvent(main, 'ml-prediction');
    main.input = SETOSA;
    expect((await mainAnswer).detail.predictions[0].label).to.equal('setosa');

    const [a, b] = await Promise.all(timedOut);
    const deadline = performance.now();
    expect(a.code, a.message).to.equal('timeout');
    expect(b.code, b.message).to.equal('timeout');
    expect(a.message).to.match(/did not answer within 1000 ms/);
    const { detail } = await answer;
    const after = performance.now() - deadline;
    console.log(
      `watchdog: timeout after ${Math.round(deadline - started)} ms; the other worker element answered ${Math.round(after)} ms after it`,
    );
    // The bound is "within a second of the deadline" (measured here: 60–110 ms). Reported, not
    // asserted: a shared machine's timings are no test. That the answer comes at all, from a fresh worker,
    // and is right, is what is checked.
    expect(detail.predictions[0].label).to.equal('virginica');
    expect(otherErrors, 'the other elements never failed').to.deep.equal([]);
    // The hanging model stays failed; the healthy one keeps working in the new worker.
    expect((await rejection(stuck.predict(SETOSA))).code).to.equal('timeout');
    const again = oneEvent(other, 'ml-prediction');
    other.input = SETOSA;
    expect((await again).detail.predictions[0].label).to.equal('setosa');
  });
});
