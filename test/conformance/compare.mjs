// The ONNX backend test runner's comparison (onnx 1.12, backend/test/runner: assert_similar_outputs):
// the same outputs by name, the same dtype and shape, floating-point values within
// |actual − expected| ≤ atol + rtol·|expected| (NaN equals NaN, an infinity only itself), every other
// dtype (integers, bools, strings) exactly.
import { bfloat16, float16 } from './tensors.mjs';

export const RTOL = 1e-3;
export const ATOL = 1e-7;

const FLOATING = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** Values as numbers (floats), BigInts (64-bit integers), numbers (other integers, bools) or strings. */
function values(dtype, data) {
  if (dtype === 'float16') return Array.from(data, float16);
  if (dtype === 'bfloat16') return Array.from(data, bfloat16);
  if (dtype === 'int64' || dtype === 'uint64') return Array.from(data, (v) => (Number.isInteger(v) ? BigInt(v) : v));
  if (dtype === 'string') return Array.from(data, String);
  return Array.from(data, Number);
}

/** Row-major index → "[i,j,k]", for messages. */
function at(shape, flat) {
  const idx = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(',')}]`;
}

/** null when `actual` matches `expected` ({ dtype, shape, data } each), else a one-line reason. */
export function compareTensor(actual, expected, { rtol = RTOL, atol = ATOL } = {}) {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  const shape = Array.from(actual.shape, Number);
  if (shape.length !== expected.shape.length || shape.some((d, i) => d !== expected.shape[i])) {
    return `shape [${shape}], expected [${expected.shape}]`;
  }
  const a = values(actual.dtype, actual.data);
  const e = values(expected.dtype, expected.data);
  if (a.length !== e.length) return `${a.length} values for shape [${shape}], expected ${e.length}`;
  const floating = FLOATING.has(expected.dtype);
  let bad = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    if (x === y) continue;
    if (!floating) {
      if (bad++ === 0) worst = i;
      continue;
    }
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const err = Math.abs(x - y);
    const tol = atol + rtol * Math.abs(y);
    // An infinity equals only itself (x === y above); NaN against a number fails the comparison.
    if (Number.isFinite(y) && err <= tol) continue;
    bad++;
    const excess = Number.isFinite(err) ? err / tol : Infinity;
    if (worst < 0 || excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (!bad) return null;
  const tol = floating ? ` (rtol ${rtol}, atol ${atol})` : ' (exact)';
  return `${bad}/${e.length} values differ; at ${at(shape, worst)} got ${a[worst]}, expected ${e[worst]}${tol}`;
}

/**
 * null when `actual` (a record by output name of { dtype, shape, data }) has every expected output
 * (a list of { name, dtype, shape, data }) and each matches; else a one-line reason naming the output.
 */
export function compareOutputs(actual, expected, tolerance) {
  for (const want of expected) {
    const got = actual[want.name];
    if (!got) return `output "${want.name}" missing (got ${Object.keys(actual).join(', ') || 'none'})`;
    const why = compareTensor(got, want, tolerance);
    if (why) return `output "${want.name}": ${why}`;
  }
  return null;
}
