// ONNX's own backend node tests (test/fixtures/onnx-node/, selected by test/fixtures/onnx_node_tests.py):
// run each test's model on test_data_set_0's inputs and compare with its expected outputs, the ONNX
// reference implementation's numbers (rtol 1e-3 / atol 1e-5 like ONNX's runner, tighter for ops that
// only move or select values).
//
// Our models treat dim 0 of every input as the batch. Backend tests feed every operand as a graph input
// (MatMul's B, Reshape's shape, ...), so each test runs as:
//  - "const": inputs 2..K become initializers holding the test data, the first input is the batch
//    (rows = its dim 0);
//  - "live" (when every input shares dim 0 with the first): the model as is, all inputs as a record.
// Tests flagged batchCoupled in index.json (softmax over axis 0, Flatten/Reshape changing dim 0, Gemm
// transA, constants broadcasting over the batch, Reshape to a literal batch size) may be refused with a
// CompileError naming the node, or compiled with the exported static shape as one row ([1, ...shape]);
// if they compile, the numbers must match. A first input that is not float32 (Cast from float64 /
// float16) may be refused with a CompileError naming that input.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  FIXTURES,
  readJSON,
  loadApi,
  compileAndLoad,
  mismatch,
  sameShape,
  decodeTensor,
  onnx,
  ort,
  maxAbsDiff,
} from './helpers.mjs';

const DIR = path.join(FIXTURES, 'onnx-node');
const index = readJSON(path.join(DIR, 'index.json'));
const EXACT_OPS = new Set(['Identity', 'Reshape', 'Flatten', 'Dropout', 'Cast', 'Relu']);

function load(t) {
  const dir = path.join(DIR, t.name);
  const model = new Uint8Array(readFileSync(path.join(dir, 'model.onnx')));
  const inputBytes = t.inputs.map((_, k) => readFileSync(path.join(dir, 'test_data_set_0', `input_${k}.pb`)));
  const outputs = t.outputs.map((_, k) =>
    decodeTensor(readFileSync(path.join(dir, 'test_data_set_0', `output_${k}.pb`))),
  );
  return { model, inputBytes, inputs: inputBytes.map(decodeTensor), outputs };
}

/** The model with graph inputs 2..K turned into initializers holding the test's data. */
function constVariant(t, { model, inputBytes }) {
  const m = onnx.ModelProto.decode(model);
  const g = m.graph;
  for (let k = 1; k < t.inputs.length; k++) {
    const tensor = onnx.TensorProto.decode(new Uint8Array(inputBytes[k]));
    tensor.name = t.inputs[k].name;
    g.initializer.push(tensor);
  }
  g.input = g.input.slice(0, 1);
  return onnx.ModelProto.encode(m).finish();
}

function tolerance(t) {
  return t.ops.every((op) => EXACT_OPS.has(op)) ? { atol: 1e-7, rtol: 1e-6 } : { atol: 1e-5, rtol: 1e-3 };
}

function compareOutputs(t, ours, expected, where) {
  const tol = tolerance(t);
  t.outputs.forEach((o, k) => {
    const want = expected[k];
    const got = ours[o.name];
    assert.ok(got, `${where}: output "${o.name}" missing; ours has ${Object.keys(ours).join(', ')}`);
    assert.ok(
      sameShape(got.shape, want.dims),
      `${where}: output "${o.name}" shape [${got.shape}] != expected [${want.dims}]`,
    );
    const msg = mismatch(got.data, want.data, tol);
    assert.equal(msg, null, `${where}: output "${o.name}": ${msg}`);
  });
}

const f32 = (x) => Float32Array.from(x.data, Number);

describe('onnx-node fixtures: the const variant reproduces the expected outputs in onnxruntime-node', () => {
  for (const t of index) {
    if (t.inputs[0].dtype !== 'float32') continue; // feeding float16/float64 to ORT is not this harness's job
    test(`${t.name} (opset ${t.opset}) const variant in onnxruntime-node`, async () => {
      const data = load(t);
      const session = await ort.InferenceSession.create(constVariant(t, data));
      const x = data.inputs[0];
      const out = await session.run({ [t.inputs[0].name]: new ort.Tensor('float32', f32(x), x.dims) });
      t.outputs.forEach((o, k) => {
        const msg = mismatch(out[o.name].data, data.outputs[k].data, tolerance(t));
        assert.equal(msg, null, `${o.name}: ${msg}`);
      });
    });
  }
});

describe('ONNX backend node tests: our compiler + runtime', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  for (const t of index) {
    const variants = [['const', true]];
    if (t.liveInputs) variants.push(['live', false]);
    for (const [variant, constVariantOf] of variants) {
      const mayRefuse = constVariantOf && t.batchCoupled;
      const what = `${t.name} [${t.ops.join(',')} opset ${t.opset}] ${variant}`;
      const allowed = mayRefuse
        ? ' (batch-coupled: CompileError or static shape allowed)'
        : t.nonFloatInput
          ? ` (${t.nonFloatInput} input: CompileError allowed)`
          : '';
      test(`${what}${allowed}`, async (ctx) => {
        const data = load(t);
        const bytes = variant === 'const' ? constVariant(t, data) : data.model;
        let model;
        try {
          ({ model } = await compileAndLoad(api, bytes));
        } catch (err) {
          if (mayRefuse && err instanceof api.CompileError && err.problems?.length) {
            ctx.diagnostic(`refused (${t.note}): ${err.code}: ${err.message}`);
            return;
          }
          if (t.nonFloatInput && err instanceof api.CompileError && err.message.includes(t.inputs[0].name)) {
            ctx.diagnostic(`refused (${t.nonFloatInput} input): ${err.message}`);
            return;
          }
          throw err;
        }
        const first = data.inputs[0];
        let rows = first.dims[0];
        let expected = data.outputs;
        const metaShape = model.meta.inputs[0].shape;
        if (metaShape.length === first.dims.length + 1) {
          // The compiler took the exported static shape as one row: [1, ...shape]. Allowed only where
          // dim 0 cannot be a free batch; the numbers must match all the same.
          assert.ok(
            mayRefuse,
            `input "${t.inputs[0].name}" compiled as [${metaShape}]: dim 0 of [${first.dims}] should be the batch`,
          );
          ctx.diagnostic(`compiled with a static shape [${metaShape}] (${t.note})`);
          rows = 1;
          expected = expected.map((o) => ({ ...o, dims: [1, ...o.dims] }));
        }
        const feed =
          variant === 'const'
            ? f32(first)
            : Object.fromEntries(t.inputs.map((inp, k) => [inp.name, f32(data.inputs[k])]));
        const ours = model.predict(feed, rows);
        compareOutputs(t, ours, expected, `${variant}, rows ${rows}`);
        ctx.diagnostic(
          `max abs diff ${Math.max(...t.outputs.map((o, k) => maxAbsDiff(ours[o.name].data, data.outputs[k].data))).toExponential(2)}`,
        );
      });
    }
  }
});
