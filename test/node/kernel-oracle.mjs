// Running single kernels of dist/kernels.wasm and single ONNX nodes in onnxruntime-node on the same
// inputs, for the typed kernel tests (typed-kernels.test.mjs, integer-kernels.test.mjs): a one-node model
// builder, the broadcast table of assembly/broadcast.ts, a bump allocator over the kernels' memory, seeded
// values per element type, and exact comparison.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST, onnx, ort, rng } from './helpers.mjs';

export const DT = { f32: 1, u8: 2, i8: 3, i32: 6, i64: 7, bool: 9 };
export const ARRAYS = {
  f32: Float32Array,
  u8: Uint8Array,
  i8: Int8Array,
  i32: Int32Array,
  i64: BigInt64Array,
  bool: Uint8Array,
};
const ORT_TYPES = { f32: 'float32', u8: 'uint8', i8: 'int8', i32: 'int32', i64: 'int64', bool: 'bool' };

/** A one-node model: inputs [[name, type, dims]], one output of type outType. */
export function model(op, inputs, outType, attrs = {}, opset = 18) {
  const vi = (name, t, dims) => ({
    name,
    type: { tensorType: { elemType: DT[t], shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v },
  );
  return onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: op,
        input: inputs.map(([n, t, d]) => vi(n, t, d)),
        output: [{ name: 'y', type: { tensorType: { elemType: DT[outType] } } }],
        node: [{ opType: op, input: inputs.map(([n]) => n), output: ['y'], attribute }],
      },
    }),
  ).finish();
}

export async function runOrt(bytes, feeds) {
  const session = await ort.InferenceSession.create(bytes);
  const tensors = {};
  for (const [name, [t, data, dims]] of Object.entries(feeds)) tensors[name] = new ort.Tensor(ORT_TYPES[t], data, dims);
  return (await session.run(tensors)).y;
}

/** Strides (elements) of an operand of shape dims broadcast to out (right-aligned; 0 where broadcast). */
export function strides(out, dims) {
  const padded = [...Array(out.length - dims.length).fill(1), ...dims];
  const s = new Array(out.length).fill(0);
  let step = 1;
  for (let j = out.length - 1; j >= 0; j--) {
    s[j] = padded[j] === 1 ? 0 : step;
    step *= padded[j];
  }
  return s;
}

export const product = (d) => d.reduce((a, b) => a * b, 1);

let k;
let next;

/** Instantiates dist/kernels.wasm (the plain SIMD build: Node 20 has no relaxed SIMD). */
export async function loadKernelLibrary() {
  const { instance } = await WebAssembly.instantiate(readFileSync(path.join(DIST, 'kernels.wasm')), {});
  k = instance.exports;
}
const alloc = (bytes) => {
  const p = next;
  next = (next + bytes + 64 + 15) & ~15;
  return p;
};
const put = (t, data) => {
  const bytes = data.length * ARRAYS[t].BYTES_PER_ELEMENT;
  const p = alloc(bytes);
  new Uint8Array(k.memory.buffer, p, bytes).set(new Uint8Array(data.buffer, data.byteOffset, bytes));
  return p;
};
const read = (t, p, n) => new ARRAYS[t](k.memory.buffer.slice(p, p + n * ARRAYS[t].BYTES_PER_ELEMENT));

/** Runs a broadcasting kernel (a, b, y, rows, table) or Where (cond, a, b, …) on operands of the given shapes. */
export function runBroadcast(kernel, operands, outType, outDims) {
  next = 1 << 20;
  const ptrs = operands.map(([t, data]) => put(t, data));
  const table = put(
    'i32',
    Int32Array.from([outDims.length, ...outDims, ...operands.flatMap(([, , dims]) => strides(outDims, dims))]),
  );
  const n = product(outDims);
  const y = alloc(n * ARRAYS[outType].BYTES_PER_ELEMENT);
  k[kernel](...ptrs, y, outDims[0], table);
  return read(outType, y, n);
}

export function runMap(kernel, t, data, outType, extra = []) {
  next = 1 << 20;
  const x = put(t, data);
  const y = alloc(data.length * ARRAYS[outType].BYTES_PER_ELEMENT);
  k[kernel](x, y, data.length, ...extra);
  return read(outType, y, data.length);
}

export const random = rng(14);
export function values(t, n, { nonzero = false, small = false } = {}) {
  const a = new ARRAYS[t](n);
  for (let i = 0; i < n; i++) {
    const r = random();
    let v;
    if (t === 'f32')
      v =
        r < 0.1 ? [NaN, Infinity, -Infinity, 0, -0][Math.floor(random() * 5)] : (random() - 0.5) * 10 ** (4 * random());
    else if (t === 'bool') v = random() < 0.5 ? 0 : 1;
    else if (t === 'u8') v = Math.floor(random() * (small ? 8 : 256));
    else if (t === 'i8') v = Math.floor(random() * (small ? 9 : 256)) - (small ? 4 : 128);
    else if (t === 'i32') v = small || r < 0.6 ? Math.round(20 * random() - 10) : (random() * 2 ** 32) | 0;
    else
      v =
        small || r < 0.6
          ? BigInt(Math.round(20 * random() - 10))
          : BigInt.asIntN(64, BigInt(Math.floor(random() * 2 ** 32)) << 31n);
    if (nonzero && (v === 0 || v === 0n)) v = t === 'i64' ? 3n : 3;
    a[i] = v;
  }
  return a;
}

/** Equal element by element: NaN = NaN, and floats compared bit for bit (±0 differ unless signedZeros is false). */
export function assertSame(got, want, what, signedZeros = true) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const ok =
      typeof want[i] === 'number'
        ? Object.is(got[i], want[i]) || (!signedZeros && got[i] === want[i])
        : got[i] === want[i];
    if (!ok) assert.fail(`${what}: [${i}] kernel ${got[i]}, onnxruntime ${want[i]}`);
  }
}

export const SHAPES = [
  [
    [3, 4, 5],
    [3, 4, 5],
    [3, 4, 5],
  ],
  [[3, 4, 5], [5], [3, 4, 5]],
  [
    [2, 1, 6],
    [1, 3, 1],
    [2, 3, 6],
  ],
  [[37], [1], [37]],
];
