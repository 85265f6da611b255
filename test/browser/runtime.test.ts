// The runtime loader in Chromium: streaming with progress, wrong MIME types, every failure code,
// one fetch per URL, abort. Endpoints under /__test/ are served by web-test-runner.config.mjs.
import { expect } from '@open-wc/testing';
import { clearModelCache, loadModel, ModelError, type LoadProgress } from '../../runtime/index.js';
import { MODELS, reference, requestStats, row, sleep, uid, until } from './helpers.js';

async function expectModelError(promise: Promise<unknown>, code: string): Promise<ModelError> {
  try {
    await promise;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(ModelError);
    expect((err as ModelError).code, (err as Error).message).to.equal(code);
    expect((err as Error).message).to.be.a('string').and.not.be.empty;
    return err as ModelError;
  }
  throw new Error(`expected a ModelError "${code}", but the load succeeded`);
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    expect(d, `value ${i}: ${actual[i]} vs ${expected[i]}`).to.be.at.most(tol * Math.max(1, Math.abs(expected[i])));
  }
}

describe('runtime loadModel in Chromium', () => {
  afterEach(() => clearModelCache());

  it('streams a model with progress and predicts like PyTorch', async () => {
    const key = uid('progress');
    const events: LoadProgress[] = [];
    const size = (await (await fetch(`${MODELS}/digits_mlp.wasm`)).arrayBuffer()).byteLength;
    const model = await loadModel(`/__test/slow/${key}/400/digits_mlp.wasm`, {
      onProgress: (p) => events.push({ ...p }),
    });
    expect(events.length, 'progress events').to.be.at.least(3);
    for (let i = 1; i < events.length; i++) expect(events[i].loaded).to.be.at.least(events[i - 1].loaded);
    const last = events[events.length - 1];
    expect(last.loaded).to.equal(size);
    expect(last.total).to.equal(size);
    expect(
      events.some((e) => e.loaded > 0 && e.loaded < size),
      'partial progress while streaming',
    ).to.equal(true);

    const ref = await reference('digits_mlp');
    const out = model.predict(row(ref.inputs.input, 0));
    expectClose(out.output.data as Float32Array, row(ref.outputs.output, 0), 1e-4);
  });

  it('loads a model served as text/plain', async () => {
    const model = await loadModel('/__test/plain/iris_mlp.wasm');
    const ref = await reference('iris_mlp');
    expectClose(model.predict(row(ref.inputs.input, 3)).output.data as Float32Array, row(ref.outputs.output, 3), 1e-4);
    expect(model.meta.labels).to.deep.equal(['setosa', 'versicolor', 'virginica']);
  });

  it('reports http-error for a 404', async () => {
    const err = await expectModelError(loadModel(`${MODELS}/no-such-model.wasm`), 'http-error');
    expect(err.message).to.contain('404');
  });

  it('reports not-wasm for an HTML page', async () => {
    const err = await expectModelError(loadModel('/__test/html/model.wasm'), 'not-wasm');
    expect(err.message).to.contain('<!doctyp'); // the first 8 bytes
  });

  it('reports invalid-wasm for a truncated model', async () => {
    await expectModelError(loadModel('/__test/truncated/iris_mlp.wasm'), 'invalid-wasm');
  });

  it('reports not-a-model for WebAssembly without ml.meta', async () => {
    await expectModelError(loadModel('/__test/empty-module.wasm'), 'not-a-model');
  });

  it('fetches a URL once for concurrent and later loads', async () => {
    const key = uid('count');
    const url = `/__test/count/${key}/iris_mlp.wasm`;
    const [a, b] = await Promise.all([loadModel(url), loadModel(url)]);
    const c = await loadModel(new URL(url, location.href).href);
    expect(a).to.equal(b);
    expect(c).to.equal(a);
    expect((await requestStats(key)).requests).to.equal(1);
  });

  it('fetches again after a failed load', async () => {
    await expectModelError(loadModel(`${MODELS}/missing-then-missing.wasm`), 'http-error');
    await expectModelError(loadModel(`${MODELS}/missing-then-missing.wasm`), 'http-error');
  });

  it('aborts mid-load and stops the download', async () => {
    const key = uid('abort');
    const controller = new AbortController();
    let sawProgress = false;
    const pending = loadModel(`/__test/slow/${key}/3000/digits_mlp.wasm`, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loaded > 0) sawProgress = true;
      },
    });
    await until(() => sawProgress, 5000, 'first bytes');
    controller.abort();
    await expectModelError(pending, 'aborted');
    await until(async () => (await requestStats(key)).aborted === 1, 5000, 'the server to see the abort');
    expect((await requestStats(key)).completed).to.equal(0);
  });

  it('keeps a shared download going while another caller still waits', async () => {
    const key = uid('shared-abort');
    const url = `/__test/slow/${key}/300/iris_mlp.wasm`;
    const controller = new AbortController();
    const aborted = loadModel(url, { signal: controller.signal });
    const kept = loadModel(url);
    await sleep(50);
    controller.abort();
    await expectModelError(aborted, 'aborted');
    const model = await kept;
    expect(model.meta.labels).to.deep.equal(['setosa', 'versicolor', 'virginica']);
    expect((await requestStats(key)).requests).to.equal(1);
  });

  it('rejects at once with an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expectModelError(loadModel(`${MODELS}/iris_mlp.wasm`, { signal: controller.signal }), 'aborted');
  });
});
