// Window functions and the mel filterbank (HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix;
// opset 17) as onnxruntime computes them, so that the values agree with it: f64 cosines of onnxruntime's
// angle (2·3.14159265 / N per sample), coefficients rounded to f32 first, the mel points in f64, the filter
// slopes in f32 (log10 and 10^x through the table-free exp64 / log64 of assembly/binary.ts: asc's Math.pow
// and Math.log10 would bring lookup tables as data segments).
// Their sizes come from input values, so they are computed sizes (a slot each): a kernel
// writes the size there, writes the data only when the size is within `bound`, and writes −1 for a value
// onnxruntime refuses (the call then fails naming the size).

import { exp64, log64 } from "./binary";

/**
 * cos(x) for 0 ≤ x ≤ 4π (every angle a window takes), to ~1 ulp, without asc's Math.cos (whose large-argument
 * reduction brings a table as a data segment): x − k·π/2 in two parts, then Taylor series to r^16.
 */
function cos64(x: f64): f64 {
  if (!(x <= 12.6)) return NaN; // NaN (a 1-sample symmetric window's 0 · ∞) or outside the range
  const k = nearest(x * 0.63661977236758134308);
  const r = x - k * 1.57079632673412561417 - k * 6.07710050650619224932e-11;
  const r2 = r * r;
  let c: f64 = 1.0 / 20922789888000.0;
  c = c * r2 - 1.0 / 87178291200.0;
  c = c * r2 + 1.0 / 479001600.0;
  c = c * r2 - 1.0 / 3628800.0;
  c = c * r2 + 1.0 / 40320.0;
  c = c * r2 - 1.0 / 720.0;
  c = c * r2 + 1.0 / 24.0;
  c = c * r2 - 0.5;
  c = c * r2 + 1.0;
  let sn: f64 = 1.0 / 1307674368000.0;
  sn = sn * r2 - 1.0 / 6227020800.0;
  sn = sn * r2 + 1.0 / 39916800.0;
  sn = sn * r2 - 1.0 / 362880.0;
  sn = sn * r2 + 1.0 / 5040.0;
  sn = sn * r2 - 1.0 / 120.0;
  sn = sn * r2 + 1.0 / 6.0;
  sn = r - r * r2 * sn;
  const q = <i32>k & 3;
  return q == 0 ? c : q == 1 ? -sn : q == 2 ? -c : sn;
}

/** An integer scalar input: i64 (bytes 8) or i32 (bytes 4). */
// @ts-ignore: decorator
@inline
function integer(p: usize, bytes: i32): i64 {
  return bytes == 8 ? load<i64>(p) : <i64>load<i32>(p);
}

/**
 * y[n] = a0 − a1·cos(t·n) + a2·cos(2t·n) for n < size, t = 2·3.14159265 / (periodic ? size : size − 1)
 * (f64, then f32); a0, a1, a2 the window's f32 coefficients. size → an integer of sizeBytes (8 or 4);
 * count → the i32 slot of the output length (−1 for a negative size). y f32 [≤ bound].
 */
export function cosine_window(
  size: usize,
  y: usize,
  count: usize,
  sizeBytes: i32,
  bound: i32,
  a0: f32,
  a1: f32,
  a2: f32,
  periodic: i32,
): void {
  const n = integer(size, sizeBytes);
  if (n < 0 || n > <i64>0x7fffffff) {
    store<i32>(count, n < 0 ? -1 : 0x7fffffff);
    return;
  }
  const N = <i32>n;
  store<i32>(count, N);
  if (N > bound) return;
  const denominator: f64 = <f64>(periodic ? N : N - 1);
  const step: f64 = (2 * 3.14159265) / denominator;
  for (let i = 0; i < N; i++) {
    const second: f64 = a2 == 0 ? 0 : <f64>a2 * cos64(2 * step * <f64>i);
    store<f32>(y + (<usize>i << 2), <f32>(<f64>a0 - <f64>a1 * cos64(step * <f64>i) + second));
  }
}

// @ts-ignore: decorator
@inline
function hzToMel(hz: f64): f64 {
  return (2595 * log64(1 + hz / 700)) / Math.LN10;
}

// @ts-ignore: decorator
@inline
function melToHz(mel: f64): f64 {
  return 700 * (exp64((mel / 2595) * Math.LN10) - 1);
}

/**
 * MelWeightMatrix: y f32 [floor(dft/2) + 1, mels], the triangular filters of `mels` bands evenly spaced in
 * mel between the lower and upper edge frequencies. mels, dft, rate → integers of the matching *Bytes (8 or
 * 4); lower, upper → f32. rows, cols → the i32 slots of the output dims (both −1 when the edges fall outside
 * the spectrum or a size is not positive, as onnxruntime refuses them). Writes y only when rows ≤ rowBound
 * and cols ≤ colBound. scratch: ≥ colBound + 2 i32 words.
 */
export function mel_weight_matrix(
  mels: usize,
  dft: usize,
  rate: usize,
  lower: usize,
  upper: usize,
  y: usize,
  rows: usize,
  cols: usize,
  scratch: usize,
  melsBytes: i32,
  dftBytes: i32,
  rateBytes: i32,
  rowBound: i32,
  colBound: i32,
): void {
  const M = integer(mels, melsBytes);
  const D = integer(dft, dftBytes);
  const R = integer(rate, rateBytes);
  const lo = load<f32>(lower);
  const hi = load<f32>(upper);
  const bins = D / 2 + 1;
  // onnxruntime's range checks, in its f32 arithmetic.
  const lowest = Mathf.floor((<f32>(D + 1) * lo) / <f32>R);
  const highest = Mathf.floor((<f32>(D + 1) * hi) / <f32>R);
  const binsF = <f32>bins;
  if (
    M <= 0 ||
    D <= 0 ||
    R <= 0 ||
    M > 0x7ffffff ||
    D > 0x7ffffff ||
    !(lowest >= 0 && lowest < binsF) ||
    !(highest >= 0 && highest < binsF)
  ) {
    store<i32>(rows, -1);
    store<i32>(cols, -1);
    return;
  }
  const B = <i32>bins;
  const C = <i32>M;
  store<i32>(rows, B);
  store<i32>(cols, C);
  if (B > rowBound || C > colBound) return;
  memory.fill(y, 0, (<usize>B * <usize>C) << 2);
  const lowMel = hzToMel(<f64>lo);
  const highMel = hzToMel(<f64>hi);
  const points = C + 2;
  const step: f64 = (highMel - lowMel) / <f64>(<f32>points);
  for (let i = 0; i < points; i++) {
    const hz = melToHz(lowMel + step * <f64>i);
    store<i32>(scratch + (<usize>i << 2), <i32>Math.floor((<f64>(D + 1) * hz) / <f64>R));
  }
  for (let i = 0; i < C; i++) {
    const left = load<i32>(scratch + (<usize>i << 2));
    const center = load<i32>(scratch + (<usize>(i + 1) << 2));
    const right = load<i32>(scratch + (<usize>(i + 2) << 2));
    const rise = center - left;
    if (rise == 0) {
      if (center >= 0 && center < B) store<f32>(y + ((<usize>center * <usize>C + <usize>i) << 2), 1);
    } else {
      for (let j = max(left, 0); j <= center && j < B; j++)
        store<f32>(y + ((<usize>j * <usize>C + <usize>i) << 2), <f32>(j - left) / <f32>rise);
    }
    const fall = right - center;
    if (fall > 0) {
      for (let j = max(center, 0); j < right && j < B; j++)
        store<f32>(y + ((<usize>j * <usize>C + <usize>i) << 2), <f32>(right - j) / <f32>fall);
    }
  }
}
