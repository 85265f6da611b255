// Small ONNX graphs built in a test (one node or a few, initializers, dim_param dimensions) and run on the
// same typed feeds through onnxruntime-node and through our compiled model, with exact comparison of shapes,
// integers and bools and 1e-6 relative on floats (for the indexing and reduction tests).
import assert from 'node:assert/strict';
import { onnx, ort } from './helpers.mjs';

const DT = { f32: 1, i32: 6, i64: 7, bool: 9 };
const ORT_TYPES = { f32: 'float32', i32: 'int32', i64: 'int64', bool: 'bool' };
const ARRAYS = { f32: Float32Array, i32: Int32Array, i64: BigInt64Array, bool: Uint8Array };

const attribute = (name, v) => {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
};

/** A tensor initializer of type t. */
export const initializer = (name, t, dims, values) => ({
  name,
  dataType: DT[t],
  dims,
  rawData: new Uint8Array(typed(t, values).buffer),
});

/**
 * A model: inputs [[name, type, dims (numbers or dim_param names)]], nodes [[op, inputs, outputs, attrs]],
 * outputs [[name, type]], initializers from `initializer`.
 */
export function model({ inputs, nodes, outputs, inits = [], opset = 18 }) {
  const vi = (name, t, dims) => ({
    name,
    type: {
      tensorType: {
        elemType: DT[t],
        ...(dims && { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } }),
      },
    },
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: 'g',
        input: inputs.map(([n, t, d]) => vi(n, t, d)),
        output: outputs.map(([n, t]) => vi(n, t)),
        initializer: inits,
        node: nodes.map(([opType, input, output, attrs = {}], i) => ({
          opType,
          name: `${opType.toLowerCase()}_${i}`,
          input,
          output,
          attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
        })),
      },
    }),
  ).finish();
}

/** One node named `<op>_0` from inputs to the outputs. */
export const node = (op, inputs, outputs, attrs, opset) =>
  model({ inputs, nodes: [[op, inputs.map(([n]) => n), outputs.map(([n]) => n), attrs]], outputs, opset });

/** feeds: { name: [type, values, shape] }. */
export const typed = (t, values) => ARRAYS[t].from(values, t === 'i64' ? (v) => BigInt(v) : (v) => Number(v));

export async function ortRun(bytes, feeds) {
  const session = await ort.InferenceSession.create(bytes);
  const tensors = {};
  for (const [name, [t, v, dims]] of Object.entries(feeds))
    tensors[name] = new ort.Tensor(ORT_TYPES[t], typed(t, v), dims);
  return session.run(tensors);
}

export function ours(model, feeds) {
  const f = {};
  for (const [name, [t, v, dims]] of Object.entries(feeds)) f[name] = { data: typed(t, v), shape: dims };
  return model.run(f);
}

/** Our outputs equal onnxruntime's: shapes, integers and bools exactly, floats within rtol. */
export function assertSameOutputs(got, want, what, rtol = 1e-6) {
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    assert.ok(g, `${what}: output ${name} missing`);
    assert.deepEqual(g.shape, Array.from(w.dims), `${what}: ${name} shape`);
    const gv = Array.from(g.data, (v) => (typeof v === 'bigint' ? v : Number(v)));
    const wv = Array.from(w.data, (v) => (typeof v === 'bigint' ? v : typeof v === 'boolean' ? Number(v) : v));
    assert.equal(gv.length, wv.length, `${what}: ${name} length`);
    wv.forEach((v, i) => {
      if (typeof v === 'bigint' || w.type !== 'float32') assert.equal(gv[i], v, `${what}: ${name}[${i}]`);
      else if (!(Object.is(gv[i], v) || Math.abs(gv[i] - v) <= rtol * Math.abs(v)))
        assert.fail(`${what}: ${name}[${i}] is ${gv[i]}, onnxruntime ${v}`);
    });
  }
}
