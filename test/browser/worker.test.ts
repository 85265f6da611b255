// Models in a module Worker: same results as on the main thread, progress, errors with codes.
import { expect } from '@open-wc/testing';
import { clearModelCache, loadModel, loadModelInWorker } from '../../runtime/index.js';

const MODEL = '/test/fixtures/build/iris_mlp.wasm';

describe('loadModelInWorker', () => {
  afterEach(() => clearModelCache());

  it('predicts exactly what the main-thread model predicts, with progress', async () => {
    const seen: number[] = [];
    const remote = await loadModelInWorker(MODEL, { onProgress: (p) => seen.push(p.loaded) });
    const local = await loadModel(MODEL);
    expect(remote.meta).to.deep.equal(local.meta);
    expect(seen.length).to.be.greaterThan(0);
    const rows = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
    const a = await remote.predict(Float32Array.from(rows), 2);
    const b = local.predict(Float32Array.from(rows), 2);
    expect(Array.from(a.output.data as Float32Array)).to.deep.equal(Array.from(b.output.data as Float32Array));
    expect(a.output.shape).to.deep.equal([2, 3]);
  });

  it('rejects a missing model and bad input with the runtime error codes', async () => {
    let error: { code?: string } | undefined;
    await loadModelInWorker('/test/fixtures/build/no-such-model.wasm').catch((e) => (error = e));
    expect(error?.code).to.equal('http-error');
    const remote = await loadModelInWorker(MODEL);
    let predictError: { code?: string } | undefined;
    await remote.predict([1, 2, 3]).catch((e) => (predictError = e));
    expect(predictError?.code).to.equal('bad-input');
  });
});
