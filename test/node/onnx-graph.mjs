// Small ONNX graphs written in a test (nodes, initializers, inputs with symbolic dims), encoded with
// onnx-proto, and seeded tensors for them: for op tests that compare our compiler with onnxruntime-node on
// what ONNX's own node tests do not cover (newer opsets, symbolic sizes, layouts, bad input).
import { onnx, ort, rng, seedOf } from './helpers.mjs';

export const DTYPES = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };
const ARRAYS = {
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};
const AT = onnx.AttributeProto.AttributeType;

/** A float attribute (plain numbers are ints). */
export const float = (f) => ({ float: f });
/** A floats attribute (plain arrays are ints). */
export const floats = (fs) => ({ floats: fs });

function attribute(name, v) {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  return { name, type: AT.FLOATS, floats: v.floats };
}

const valueInfo = (name, dtype, dims) => ({
  name,
  type: {
    tensorType: {
      elemType: DTYPES[dtype],
      shape: dims ? { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } : undefined,
    },
  },
});

/** A tensor of `dtype` from numbers (bigints for int64 are made here). */
export function tensor(dtype, dims, values) {
  const data =
    dtype === 'int64' ? BigInt64Array.from(values, (v) => BigInt(v)) : ARRAYS[dtype].from(values, (v) => Number(v));
  return { dtype, dims, data };
}

/**
 * A model: inputs [[name, dtype, dims]] (dims may name symbols), outputs [[name, dtype]], nodes
 * [{ op, inputs, outputs, attrs?, name? }] (attrs: numbers are ints, arrays ints, `float()` / `floats()`
 * floats, strings strings), inits { name: tensor(...) }.
 */
export function model({ opset = 18, inputs, outputs, nodes, inits = {} }) {
  const initializer = Object.entries(inits).map(([name, t]) => ({
    name,
    dims: t.dims,
    dataType: DTYPES[t.dtype],
    rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  }));
  const graph = {
    name: 'test',
    node: nodes.map((n, k) => ({
      name: n.name ?? `${n.op}_${k}`,
      opType: n.op,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v)),
    })),
    initializer,
    input: inputs.map(([name, dtype, dims]) => valueInfo(name, dtype, dims)),
    output: outputs.map(([name, dtype]) => valueInfo(name, dtype)),
  };
  const m = { irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(m)).finish();
}

/** Seeded values of `dtype` (floats in [lo, hi), integers in their type's small range). */
export function randomTensor(dtype, dims, seed, lo = -3, hi = 3) {
  const random = rng(seedOf(seed));
  const n = dims.reduce((a, b) => a * b, 1);
  const pick = () => {
    if (dtype === 'float32') return lo + (hi - lo) * random();
    if (dtype === 'bool') return random() < 0.5 ? 0 : 1;
    if (dtype === 'uint8') return Math.floor(random() * 256);
    if (dtype === 'int8') return Math.floor(random() * 256) - 128;
    return Math.floor(random() * 2000) - 1000;
  };
  return tensor(dtype, dims, Array.from({ length: n }, pick));
}

/** onnxruntime-node's outputs: { name: { dtype, shape, data } }. */
export async function ortOutputs(bytes, feeds) {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
  try {
    const tensors = {};
    for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor(t.dtype, t.data, t.dims);
    const out = await session.run(tensors);
    return Object.fromEntries(
      Object.entries(out).map(([name, t]) => [
        name,
        { dtype: t.type, shape: Array.from(t.dims, Number), data: t.data },
      ]),
    );
  } finally {
    await session.release();
  }
}

/** Our run(): feeds as { name: { data, shape } }. */
export const runFeeds = (model, feeds) =>
  model.run(Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, { data: t.data, shape: t.dims }])));
