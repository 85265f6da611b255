// predict()'s check of the numbers it is given: every non-finite one is refused with its position,
// whether the model checks them in its memory (the firstNonFinite export, in SIMD) or, for a model
// compiled before that export existed, the runtime does in JavaScript.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import binaryen from 'binaryen';
import { compile } from '../../dist/compiler/index.js';
import { loadModel, ModelError } from '../../dist/runtime/index.js';

const fixture = (name) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const IRIS = fixture('models/iris_mlp.onnx'); // 4 features, no missing values
const ROWS = 40; // 160 numbers: ten 16-number SIMD blocks and, with maxBatch 7, six chunks

/** The kernel library without first_non_finite: what models were compiled with before it existed. */
function kernelsBeforeTheCheck() {
  const mod = binaryen.readBinary(readFileSync(new URL('../../dist/kernels.wasm', import.meta.url)));
  mod.setFeatures(binaryen.Features.All);
  mod.removeExport('first_non_finite');
  const bytes = mod.emitBinary();
  mod.dispose();
  return bytes;
}

const exportsOf = (wasm) => WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);

async function models() {
  const current = (await compile(IRIS)).wasm;
  const older = (await compile(IRIS, { maxBatch: 7, kernels: kernelsBeforeTheCheck() })).wasm;
  assert.ok(exportsOf(current).includes('firstNonFinite'), 'compiled models export firstNonFinite');
  assert.ok(!exportsOf(older).includes('firstNonFinite'), 'the older model has no firstNonFinite');
  return {
    whole: await loadModel(current),
    chunked: await loadModel((await compile(IRIS, { maxBatch: 7 })).wasm),
    older: await loadModel(older),
  };
}

const refusal = (at, value) => (e) =>
  e instanceof ModelError &&
  e.code === 'bad-input' &&
  e.message === `Input "input" value ${at} is ${value}: every feature must be a finite number.`;

describe('predict refuses non-finite numbers and says where', () => {
  for (const at of [0, 3, 15, 16, 17, 31, 63, 64, 100, 159]) {
    test(`at value ${at}: NaN, +Infinity, -Infinity and a double too big for float32, as typed and plain arrays`, async () => {
      const all = await models();
      for (const [value, shown] of [
        [NaN, 'NaN'],
        [Infinity, 'Infinity'],
        [-Infinity, '-Infinity'],
        [1e39, 'Infinity'],
      ]) {
        const plain = Array.from({ length: ROWS * 4 }, (_, i) => 1 + (i % 4) * 0.5);
        plain[at] = value;
        for (const [kind, m] of Object.entries(all)) {
          assert.throws(
            () => m.predict(Float32Array.from(plain), ROWS),
            refusal(at, shown),
            `${kind}, Float32Array, ${shown}`,
          );
          assert.throws(() => m.predict(plain, ROWS), refusal(at, shown), `${kind}, array, ${shown}`);
        }
      }
    });
  }

  test('after a refusal the same model predicts the same numbers as before', async () => {
    const all = await models();
    const x = Float32Array.from({ length: ROWS * 4 }, (_, i) => 1 + (i % 4) * 0.5 + i / 100);
    for (const [kind, m] of Object.entries(all)) {
      const before = m.predict(x, ROWS).output.data.slice();
      const bad = x.slice();
      bad[77] = NaN;
      assert.throws(() => m.predict(bad, ROWS), refusal(77, 'NaN'), kind);
      assert.deepEqual(m.predict(x, ROWS).output.data, before, kind);
    }
    assert.deepEqual(all.chunked.predict(x, ROWS).output.data, all.whole.predict(x, ROWS).output.data);
  });

  test('a model that takes missing values (imputer + trees) is given NaN and ±Infinity, not refused', async () => {
    const m = await loadModel(readFileSync(new URL('../fixtures/build/diabetes_imputer_gbr.wasm', import.meta.url)));
    const F = m.meta.inputs[0].shape[1];
    const x = new Float32Array(3 * F).fill(0.01);
    x[1] = NaN;
    x[F + 2] = Infinity;
    x[2 * F] = -Infinity;
    const y = Object.values(m.predict(x, 3))[0].data;
    assert.equal(y.length, 3);
    assert.ok([...y].every(Number.isFinite), `finite predictions: ${[...y]}`);
  });
});
