// Shared helpers for the Node conformance tests. The oracles are onnxruntime-node and the reference
// outputs written by the source library (test/fixtures/make.py); never our own outputs.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures');
export const DIST = path.join(ROOT, 'dist');
export const { onnx } = onnxProto;

export function readJSON(p) {
  return JSON.parse(readFileSync(p, 'utf8'));
}

/** dist/compiler + dist/runtime, or an Error saying to build first (tests then fail, never skip silently). */
export async function loadApi() {
  const c = path.join(DIST, 'compiler/index.js');
  const r = path.join(DIST, 'runtime/index.js');
  if (!existsSync(c) || !existsSync(r)) {
    throw new Error(`dist/ is missing (${c}, ${r}): run \`npm run build\` first`);
  }
  const compiler = await import(c);
  const runtime = await import(r);
  return { ...compiler, ...runtime, compile: compiler.compile, loadModel: runtime.loadModel };
}

/** compile + load in one step. */
export async function compileAndLoad(api, bytes, opts) {
  const { wasm, meta } = await api.compile(new Uint8Array(bytes), opts);
  const model = await api.loadModel(wasm);
  return { wasm, meta, model };
}

export { rng } from './rng.mjs';

export function seedOf(str) {
  let h = 2166136261;
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function randomFloats(n, random, lo = -3, hi = 3) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * random();
  return a;
}

export const product = (dims) => dims.reduce((a, b) => a * b, 1);

/** Plain array of numbers (or strings) from any typed array / array, bigint made Number. */
export function toPlain(data) {
  return Array.from(data, (v) => (typeof v === 'bigint' ? Number(v) : v));
}

/**
 * Compare actual against expected: max |a − e| ≤ atol + rtol·|e| element-wise. Returns null when
 * equal within tolerance, else a message naming the worst element.
 */
export function mismatch(actual, expected, { atol = 1e-4, rtol = 1e-4 } = {}) {
  const a = toPlain(actual);
  const e = toPlain(expected);
  if (a.length !== e.length) return `length ${a.length} != expected ${e.length}`;
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    if (typeof y === 'string' || typeof x === 'string') {
      if (x !== y) {
        bad++;
        if (worst < 0) worst = i;
      }
      continue;
    }
    if (Number.isNaN(y) && Number.isNaN(x)) continue;
    if (x === y) continue; // also equal infinities
    const err = Math.abs(x - y);
    const tol = atol + rtol * Math.abs(y);
    if (!(err <= tol)) {
      bad++;
      const excess = Number.isFinite(err) ? err / tol : Infinity;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (!bad) return null;
  return `${bad}/${e.length} elements differ; worst at [${worst}]: got ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`;
}

/** Max abs difference, for diagnostics. */
export function maxAbsDiff(actual, expected) {
  const a = toPlain(actual);
  const e = toPlain(expected);
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]));
  return m;
}

export function sameShape(actual, expected) {
  return JSON.stringify(Array.from(actual, Number)) === JSON.stringify(Array.from(expected, Number));
}

// ---------------------------------------------------------------- onnxruntime-node

const sessions = new Map();

/** An onnxruntime-node session for these bytes (cached by key). */
export async function ortSession(key, bytes) {
  if (!sessions.has(key)) sessions.set(key, ort.InferenceSession.create(new Uint8Array(bytes)));
  return sessions.get(key);
}

/** Run ORT on float32 inputs given as { name: { data: Float32Array, shape } }. */
export async function ortRun(session, inputs) {
  const feeds = {};
  for (const [name, { data, shape, type }] of Object.entries(inputs)) {
    feeds[name] = new ort.Tensor(type ?? 'float32', data, shape);
  }
  const out = await session.run(feeds);
  const res = {};
  for (const [name, t] of Object.entries(out)) res[name] = { dims: Array.from(t.dims), data: t.data, type: t.type };
  return res;
}

export { ort };

// ---------------------------------------------------------------- onnx-proto

const DT = onnx.TensorProto.DataType;

/** Decode a serialized TensorProto into { name, dims, dtype, data } with data a typed array. */
export function decodeTensor(bytes) {
  const t = onnx.TensorProto.decode(new Uint8Array(bytes));
  return tensorToArray(t);
}

function f16(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

export function tensorToArray(t) {
  const dims = (t.dims ?? []).map(Number);
  const n = product(dims);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  let dtype;
  let data;
  switch (t.dataType) {
    case DT.FLOAT:
      dtype = 'float32';
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = raw ? view.getFloat32(i * 4, true) : t.floatData[i];
      break;
    case DT.DOUBLE:
      dtype = 'float64';
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = raw ? view.getFloat64(i * 8, true) : t.doubleData[i];
      break;
    case DT.FLOAT16:
      dtype = 'float16';
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = f16(raw ? view.getUint16(i * 2, true) : t.int32Data[i]);
      break;
    case DT.INT64:
      dtype = 'int64';
      data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) data[i] = raw ? view.getBigInt64(i * 8, true) : BigInt(String(t.int64Data[i]));
      break;
    case DT.INT32:
      dtype = 'int32';
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = raw ? view.getInt32(i * 4, true) : t.int32Data[i];
      break;
    case DT.BOOL:
      dtype = 'bool';
      data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = raw ? raw[i] : t.int32Data[i];
      break;
    default:
      throw new Error(`tensor ${t.name}: data type ${t.dataType} not handled by the test`);
  }
  return { name: t.name, dims, dtype, data };
}

/** The ONNX type name of a DataType value, e.g. 1 -> 'float32' (for messages). */
export function elemTypeName(v) {
  return { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' }[v] ?? `type ${v}`;
}

/** Assert that a CompileError (or anything thrown) names every expected problem; returns a message or null. */
export function checkProblems(err, expected) {
  const problems = err?.problems ?? [];
  const missing = [];
  for (const p of expected) {
    const hit = problems.find(
      (q) =>
        q.op === p.op &&
        q.node === p.node &&
        Number(q.opset) === p.opset &&
        (p.domain === '' ? !q.domain || q.domain === 'ai.onnx' : q.domain === p.domain),
    );
    if (!hit) missing.push(`${p.domain ? p.domain + '.' : ''}${p.op} (node ${p.node}, opset ${p.opset})`);
    if (!String(err?.message).includes(p.op) || !String(err?.message).includes(p.node)) {
      missing.push(`message does not mention ${p.op} / ${p.node}`);
    }
  }
  return missing.length
    ? `missing in CompileError: ${missing.join('; ')}; got problems ${JSON.stringify(problems)}`
    : null;
}
