// One-node (or few-node) ONNX models built in JavaScript, compiled by our compiler and run with run() at
// their exact shapes, against onnxruntime-node on the same inputs: outputs compared by name, dtype, shape
// and value (integers exactly; floats within a tolerance the test states). For the op tests of the
// quantization, detection, loss and signal families (quant-ort, nms-ort, loss-ort, signal-ort).
import assert from 'node:assert/strict';
import { onnx, ort } from './helpers.mjs';

export const TYPES = {
  float32: { code: 1, Array: Float32Array },
  uint8: { code: 2, Array: Uint8Array },
  int8: { code: 3, Array: Int8Array },
  int32: { code: 6, Array: Int32Array },
  int64: { code: 7, Array: BigInt64Array },
  bool: { code: 9, Array: Uint8Array },
};

/** A typed array of `type` holding `values` (numbers; bigints for int64 are made from them). */
export function typed(type, values) {
  const { Array: A } = TYPES[type];
  return A === BigInt64Array ? BigInt64Array.from(values, (v) => BigInt(v)) : A.from(values);
}

function attribute(name, v) {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return v.every(Number.isInteger) ? { name, type: 7, ints: v } : { name, type: 6, floats: v };
  if (typeof v === 'object' && v.float !== undefined) return { name, type: 1, f: v.float };
  return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
}

function tensorProto(name, type, dims, values) {
  const data = typed(type, values);
  return {
    name,
    dataType: TYPES[type].code,
    dims,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * A model of `nodes` ([{ op, inputs, outputs, attrs, domain }]) with graph `inputs` ([{ name, type, dims,
 * init }]: `init` values make it an initializer instead of a graph input) and `outputs` ([{ name, type }]).
 */
export function graphModel({ opset = 17, nodes, inputs, outputs, domains = [] }) {
  const vi = (name, type, dims) => ({
    name,
    type: {
      tensorType: {
        elemType: TYPES[type].code,
        ...(dims
          ? { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } }
          : {}),
      },
    },
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: opset >= 19 ? 9 : 8,
      opsetImport: [{ domain: '', version: opset }, ...domains],
      graph: {
        name: 'g',
        input: inputs.filter((i) => !i.init).map((i) => vi(i.name, i.type, i.dims)),
        initializer: inputs.filter((i) => i.init).map((i) => tensorProto(i.name, i.type, i.dims, i.init)),
        output: outputs.map((o) => vi(o.name, o.type, o.dims)),
        node: nodes.map((n, k) => ({
          opType: n.op,
          name: `${n.op}_${k}`,
          domain: n.domain ?? '',
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs ?? {}).map(([a, v]) => attribute(a, v)),
        })),
      },
    }),
  ).finish();
}

/** One node over graph inputs named as the op's inputs ('' skips an optional one). */
export function nodeModel({ op, opset = 17, attrs = {}, inputs, outputs }) {
  return graphModel({
    opset,
    nodes: [{ op, inputs: inputs.map((i) => (i ? i.name : '')), outputs: outputs.map((o) => o.name), attrs }],
    inputs: inputs.filter(Boolean),
    outputs,
  });
}

/** The feeds (graph inputs that are not initializers) as { name: { data, shape } } for run(). */
export const feedsOf = (inputs) =>
  Object.fromEntries(
    inputs.filter((i) => i && !i.init).map((i) => [i.name, { data: typed(i.type, i.values), shape: i.dims }]),
  );

export async function runOrt(bytes, feeds, options = {}) {
  const session = await ort.InferenceSession.create(bytes, options);
  const tensors = {};
  for (const [name, { data, shape }] of Object.entries(feeds)) {
    const type = Object.entries(TYPES).find(([, t]) => data instanceof t.Array)[0];
    tensors[name] = new ort.Tensor(type === 'bool' ? 'uint8' : type, data, shape);
  }
  const out = await session.run(tensors);
  return Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, { dtype: t.type, shape: Array.from(t.dims), data: t.data }]),
  );
}

/** Compile with our compiler, load, run at the feeds' shapes. */
export async function runOurs(api, bytes, feeds, compileOptions) {
  const { wasm } = await api.compile(bytes, compileOptions);
  const model = await api.loadModel(wasm);
  return model.run(feeds);
}

/** Equal by name, dtype and shape; floats within atol + rtol·|ort| (NaN equals NaN), others exactly. */
export function assertSameOutputs(ours, theirs, { atol = 0, rtol = 0 } = {}, what = '') {
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), `${what}: output names`);
  for (const [name, t] of Object.entries(theirs)) {
    const o = ours[name];
    const label = `${what} output ${name}`;
    assert.equal(o.dtype, t.dtype === 'uint8' && o.dtype === 'bool' ? 'bool' : t.dtype, `${label}: dtype`);
    assert.deepEqual(o.shape, t.shape, `${label}: shape`);
    assert.equal(o.data.length, t.data.length, `${label}: length`);
    for (let i = 0; i < t.data.length; i++) {
      const [a, b] = [o.data[i], t.data[i]];
      if (t.dtype !== 'float32') {
        if (a !== b) assert.fail(`${label}[${i}]: ours ${a}, onnxruntime ${b}`);
        continue;
      }
      if (Number.isNaN(b) && Number.isNaN(a)) continue;
      if (Object.is(a, b)) continue;
      if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b)))
        assert.fail(`${label}[${i}]: ours ${a}, onnxruntime ${b} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Build, run in both, compare; returns onnxruntime's outputs (for the caller's own checks). */
export async function checkAgainstOrt(api, spec, tolerance, compileOptions) {
  const bytes = spec.bytes ?? nodeModel(spec);
  const feeds = feedsOf(spec.inputs);
  const theirs = await runOrt(bytes, feeds, spec.ortOptions);
  const ours = await runOurs(api, bytes, feeds, compileOptions);
  assertSameOutputs(ours, theirs, tolerance, spec.what ?? spec.op);
  return theirs;
}
