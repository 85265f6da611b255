// Old opsets (1–6): every model in test/fixtures/old-opsets/manifest.json (made by make_old_opsets.py), at
// its exact shapes, against onnxruntime-node:
//  - where onnxruntime runs the old file, against its outputs for that file;
//  - where it refuses it (it has no kernels for Add-6, BatchNormalization-6, Gemm-6, opset-1 Relu…), the
//    test first checks that it does refuse, then compares with onnxruntime on the reference: the same
//    graph at opset 7+, by ONNX's version converter or spelled out from the old spec (manifest "refBy");
//  - "compile-error" entries (training-mode nodes): our compiler refuses them with unsupported-ops, and so
//    does onnxruntime.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, readJSON, loadApi, rng, seedOf, randomFloats, product, mismatch } from './helpers.mjs';
import { OrtRefused, ortRun } from '../conformance/ort.mjs';

const DIR = path.join(FIXTURES, 'old-opsets');
const manifest = readJSON(path.join(DIR, 'manifest.json'));
const bytesOf = (file) => new Uint8Array(readFileSync(path.join(DIR, file)));
const TOL = { atol: 1e-5, rtol: 1e-4 };

/** Seeded inputs at the entry's shapes: { name, dtype, shape, data }. */
function inputsOf(e) {
  const random = rng(seedOf(e.name));
  return e.inputs.map((i) => {
    const n = product(i.shape);
    const [lo, hi] = i.range ?? [-3, 3];
    const data =
      i.dtype === 'bool'
        ? Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0))
        : i.dtype === 'int64'
          ? BigInt64Array.from({ length: n }, () => BigInt(Math.floor(lo + (hi - lo) * random())))
          : randomFloats(n, random, lo, hi);
    return { name: i.name, dtype: i.dtype, shape: i.shape, data };
  });
}

async function ortRefuses(bytes, inputs) {
  try {
    await ortRun(bytes, inputs);
    return false;
  } catch (err) {
    if (err instanceof OrtRefused) return true;
    throw err;
  }
}

describe('old opsets (1–6) against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  for (const e of manifest) {
    const title = `${e.name} (opset ${e.opset}): ${e.note}`;
    if (e.expect === 'compile-error') {
      test(title, async () => {
        assert.ok(await ortRefuses(bytesOf(e.file), inputsOf(e)), 'onnxruntime-node runs it: it should not be refused');
        await assert.rejects(
          () => api.compile(bytesOf(e.file)),
          (err) => {
            assert.equal(err.name, 'CompileError', `${err.name}: ${err.message}`);
            assert.equal(err.code, 'unsupported-ops', err.message);
            assert.match(err.problems[0].message, /training/);
            return true;
          },
        );
      });
      continue;
    }
    test(title, async (t) => {
      const inputs = inputsOf(e);
      if (e.ref) {
        assert.ok(
          await ortRefuses(bytesOf(e.file), inputs),
          `onnxruntime-node runs ${e.file} now: compare with it directly and drop the reference`,
        );
      }
      const [expected] = await ortRun(bytesOf(e.ref ?? e.file), inputs);
      const { wasm } = await api.compile(bytesOf(e.file));
      const model = await api.loadModel(wasm);
      const ours = model.run(Object.fromEntries(inputs.map((i) => [i.name, { data: i.data, shape: i.shape }])));
      for (const [name, want] of Object.entries(expected)) {
        const got = ours[name];
        assert.ok(got, `output "${name}" missing; ours has ${Object.keys(ours)}`);
        assert.deepEqual(got.shape, want.shape, `output "${name}" shape`);
        assert.equal(got.dtype, want.dtype, `output "${name}" dtype`);
        const exact = want.dtype !== 'float32';
        const msg = mismatch(got.data, want.data, exact ? { atol: 0, rtol: 0 } : TOL);
        assert.equal(msg, null, `output "${name}": ${msg}`);
      }
      t.diagnostic(e.ref ? `reference: ${e.refBy}` : 'onnxruntime-node runs the old file');
    });
  }
});
