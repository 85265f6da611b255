// Bad input to the normalisation, Conv and old-opset handlers: each small model (built here with
// onnx-proto) is refused at compile time as a CompileError listing the node, with a message that says what
// was wrong and what to do. Models that are invalid (not a variant we do not run yet) are also checked to
// be refused by onnxruntime-node, and their error code says so (invalid-graph; a variant we do not run is
// unsupported-ops).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadApi, onnx } from './helpers.mjs';
import { OrtRefused, ortRun } from '../conformance/ort.mjs';

const F = 1;
const valueInfo = (name, dims) =>
  onnx.ValueInfoProto.fromObject({
    name,
    type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
const floats = (name, dims, fill = (i) => 0.5 + 0.1 * i) => {
  const n = dims.reduce((a, b) => a * b, 1);
  return onnx.TensorProto.fromObject({
    name,
    dataType: F,
    dims,
    floatData: Array.from({ length: n }, (_, i) => fill(i)),
  });
};
const attr = (name, v) =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? { name, type: 2, i: v }
      : { name, type: 1, f: v }
    : Array.isArray(v)
      ? { name, type: 7, ints: v }
      : { name, type: 3, s: new TextEncoder().encode(v) };

/** One-node model: inputs [[name, dims]], constant initializers, output y. */
function model({ op, opset, inputs, inits = [], nodeInputs, attrs = {}, outputs = ['y'] }) {
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: opset < 7 ? 3 : 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: 'g',
        node: [
          {
            opType: op,
            name: 'n0',
            input: nodeInputs ?? [...inputs.map(([n]) => n), ...inits.map((t) => t.name)],
            output: outputs,
            attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
          },
        ],
        input: [
          ...inputs.map(([n, d]) => valueInfo(n, d)),
          ...(opset < 7 ? inits.map((t) => valueInfo(t.name, t.dims)) : []),
        ],
        initializer: inits,
        output: outputs.map((o) => ({ name: o })),
      },
    }),
  ).finish();
  const feeds = inputs.map(([name, shape]) => ({
    name,
    dtype: 'float32',
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.25),
  }));
  return { bytes, feeds };
}

const CASES = [
  {
    title: 'BatchNormalization: a scale with the wrong channel count',
    ...model({
      op: 'BatchNormalization',
      opset: 15,
      inputs: [['x', [1, 3, 4, 4]]],
      inits: [floats('s', [2]), floats('b', [3]), floats('m', [3]), floats('v', [3])],
    }),
    invalid: true,
    message: /scale is \[2\].*needs \[3\]/,
  },
  {
    title: 'BatchNormalization-6: is_test=0 (training) is refused, saying how to export',
    ...model({
      op: 'BatchNormalization',
      opset: 6,
      inputs: [['x', [1, 3, 2, 2]]],
      inits: [floats('s', [3]), floats('b', [3]), floats('m', [3]), floats('v', [3])],
    }),
    message: /is_test=0 is training mode.*is_test=1/,
  },
  {
    title: 'LayerNormalization: a constant Scale that does not broadcast to the normalised dims',
    ...model({ op: 'LayerNormalization', opset: 17, inputs: [['x', [2, 3, 4]]], inits: [floats('s', [5])] }),
    invalid: true,
    message: /Scale is \[5\]; it does not broadcast to the normalised dims \[4\]/,
  },
  {
    title: 'LayerNormalization: a run-time Scale of other dims than the normalised ones',
    ...model({
      op: 'LayerNormalization',
      opset: 17,
      inputs: [
        ['x', [2, 3, 4]],
        ['s', [1, 4]],
      ],
    }),
    message: /Scale is \[1, 4\] at run time; it needs the normalised dims \[4\]/,
  },
  {
    title: 'InstanceNormalization: a scale with the wrong channel count',
    ...model({
      op: 'InstanceNormalization',
      opset: 6,
      inputs: [['x', [1, 3, 4, 4]]],
      inits: [floats('s', [4]), floats('b', [3])],
    }),
    invalid: true,
    message: /scale is \[4\]; it needs one value per channel \(\[3\]\)/,
  },
  {
    title: 'MeanVarianceNormalization: no axis of the input',
    ...model({ op: 'MeanVarianceNormalization', opset: 13, inputs: [['x', [2, 3]]], attrs: { axes: [5, 7] } }),
    invalid: true,
    message: /none of the axes \[5,7\] is an axis of a rank-2 input/,
  },
  {
    title: 'Conv with a run-time W: channels that do not fit the input',
    ...model({
      op: 'Conv',
      opset: 11,
      inputs: [
        ['x', [1, 3, 5, 5]],
        ['w', [2, 4, 3, 3]],
      ],
    }),
    invalid: true,
    message: /W \[2, 4, 3, 3\] does not fit 3 input channels/,
  },
  {
    title: 'Conv with a run-time W and group 3: a variant not run yet',
    ...model({
      op: 'Conv',
      opset: 11,
      inputs: [
        ['x', [1, 3, 5, 5]],
        ['w', [3, 1, 3, 3]],
      ],
      attrs: { group: 3 },
    }),
    message: /run-time W with group 3 is not supported/,
  },
  {
    title: 'ConvTranspose: a bias with the wrong channel count',
    ...model({
      op: 'ConvTranspose',
      opset: 11,
      inputs: [['x', [1, 2, 3, 3]]],
      inits: [floats('w', [2, 4, 3, 3]), floats('b', [3])],
    }),
    invalid: true,
    message: /B needs one value per output channel \(\[4\]\)/,
  },
  {
    title: 'Add-6 without broadcast=1: B must have A’s shape',
    // Invalid by the opset-6 spec; onnxruntime does not check it the same way, so only our code is asserted.
    code: 'invalid-graph',
    ...model({
      op: 'Add',
      opset: 6,
      inputs: [
        ['a', [2, 3]],
        ['b', [3]],
      ],
    }),
    // (onnxruntime has no Add-6 kernel: it refuses every Add-6 model, so it cannot confirm this one.)
    message: /without broadcast=1 \(opset 6\), B must have A's shape; A is \[2, 3\], B is \[3\]/,
  },
  {
    title: 'Add-6 with broadcast=1: B that does not fit A from the given axis',
    // Invalid by the opset-6 spec; onnxruntime does not check it the same way, so only our code is asserted.
    code: 'invalid-graph',
    ...model({
      op: 'Add',
      opset: 6,
      inputs: [
        ['a', [2, 3, 4]],
        ['b', [3]],
      ],
      attrs: { broadcast: 1, axis: 2 },
    }),
    // (onnxruntime has no Add-6 kernel: it refuses every Add-6 model, so it cannot confirm this one.)
    message: /B's dim 0 \(3\) does not match A's dim 2 \(4\)/,
  },
];

describe('bad input to normalisation, Conv and old-opset ops', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  test('control: the same builder makes models onnxruntime-node and ml-widgets run', async () => {
    const ok = model({ op: 'LayerNormalization', opset: 17, inputs: [['x', [2, 3, 4]]], inits: [floats('s', [4])] });
    const [out] = await ortRun(ok.bytes, ok.feeds);
    assert.deepEqual(out.y.shape, [2, 3, 4]);
    const conv = model({
      op: 'Conv',
      opset: 11,
      inputs: [
        ['x', [1, 3, 5, 5]],
        ['w', [2, 3, 3, 3]],
      ],
    });
    await ortRun(conv.bytes, conv.feeds);
    await api.compile(conv.bytes);
  });

  for (const c of CASES) {
    test(c.title, async () => {
      await assert.rejects(
        () => api.compile(c.bytes),
        (err) => {
          assert.equal(err.name, 'CompileError', `${err.name}: ${err.message}`);
          assert.equal(err.code, c.code ?? (c.invalid ? 'invalid-graph' : 'unsupported-ops'), err.message);
          assert.equal(err.problems.length, 1, err.message);
          assert.equal(err.problems[0].node, 'n0');
          assert.match(err.problems[0].message, c.message);
          return true;
        },
      );
      if (!c.invalid) return;
      // The model is really invalid: onnxruntime-node refuses it as well.
      await assert.rejects(
        () => ortRun(c.bytes, c.feeds),
        (err) => err instanceof OrtRefused,
      );
    });
  }
});
