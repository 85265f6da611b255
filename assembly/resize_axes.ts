// Resize, per axis: where each output index samples the input (ONNX coordinate_transformation_mode), and
// the taps that follow from it (nearest_mode, linear, cubic with cubic_coeff_a and exclude_outside).
// Written into the kernel's scratch once per call; the resize kernels (resize.ts) then only gather and blend.

import {
  RESIZE_NEAREST,
  RESIZE_LINEAR,
  COORD_ASYMMETRIC,
  COORD_PYTORCH_HALF_PIXEL,
  COORD_TF_HALF_PIXEL_FOR_NN,
  COORD_ALIGN_CORNERS,
  COORD_TF_CROP_AND_RESIZE,
  COORD_HALF_PIXEL_SYMMETRIC,
  NEAREST_ROUND_PREFER_CEIL,
  NEAREST_FLOOR,
  NEAREST_CEIL,
  NEAREST_SIMPLE,
} from "./generated/abi";

// Scratch layout: 16 bytes of constants (the fill value at 0), then AXIS_WORDS i32 per axis, then the
// arrays (each 16-byte aligned): per axis idx [taps][out] (i32 input index, clamped), w [taps][out] (f32,
// not for nearest), flags [out] (i32 1 = outside the crop: extrapolate; only for tf_crop_and_resize).
export const AXIS_WORDS = 12;
export const F_IN = 0; // input length
export const F_OUT = 1; // output length
export const F_TAPS = 2; // taps per output (1 on an identity axis)
export const F_IDX = 3; // idx array address
export const F_W = 4; // weight array address
export const F_FLAGS = 5; // flag array address (0: none)
export const F_NFLAGS = 6; // number of flagged outputs
export const F_IDENTITY = 7; // 1: output o reads input o alone (the axis is skipped)
export const F_XSTRIDE = 8; // input element stride of the axis
export const F_YSTRIDE = 9; // output element stride of the axis

// @ts-ignore: decorator
@inline export function field(scratch: usize, a: i32, f: i32): i32 {
  return load<i32>(scratch + 16 + (<usize>(a * AXIS_WORDS + f) << 2));
}

// @ts-ignore: decorator
@inline function setField(scratch: usize, a: i32, f: i32, v: i32): void {
  store<i32>(scratch + 16 + (<usize>(a * AXIS_WORDS + f) << 2), v);
}

// @ts-ignore: decorator
@inline export function align16(p: usize): usize {
  return (p + 15) & ~(<usize>15);
}

/** Taps per output of a mode: nearest 1, linear 2, cubic 4. */
// @ts-ignore: decorator
@inline export function modeTaps(mode: i32): i32 {
  return mode == RESIZE_NEAREST ? 1 : mode == RESIZE_LINEAR ? 2 : 4;
}

/**
 * x_original for output index o (ONNX Resize-19 formulas, in double precision; `outLen` is the integer
 * output length, `s` the scale, r0/r1 the crop box of tf_crop_and_resize).
 */
function sourceCoord(coord: i32, o: f64, s: f64, inLen: i32, outLen: i32, r0: f64, r1: f64): f64 {
  const n = <f64>inLen;
  if (coord == COORD_ASYMMETRIC) return o / s;
  if (coord == COORD_PYTORCH_HALF_PIXEL) return outLen > 1 ? (o + 0.5) / s - 0.5 : 0;
  if (coord == COORD_TF_HALF_PIXEL_FOR_NN) return (o + 0.5) / s;
  if (coord == COORD_ALIGN_CORNERS) return outLen == 1 ? 0 : (o * (n - 1)) / <f64>(outLen - 1);
  if (coord == COORD_TF_CROP_AND_RESIZE) {
    const span = outLen > 1 ? (o * (r1 - r0) * (n - 1)) / <f64>(outLen - 1) : ((r1 - r0) * (n - 1)) / 2;
    return span + r0 * (n - 1);
  }
  if (coord == COORD_HALF_PIXEL_SYMMETRIC) {
    const adjustment = <f64>outLen / (s * n);
    const offset = (n / 2) * (1 - adjustment);
    return offset + (o + 0.5) / s - 0.5;
  }
  return (o + 0.5) / s - 0.5; // half_pixel
}

/** The input index nearest_mode picks for x_original (before clamping). */
function nearestIndex(xo: f64, mode: i32, s: f64): f64 {
  const f = Math.floor(xo);
  const r = xo - f;
  if (mode == NEAREST_ROUND_PREFER_CEIL) return r >= 0.5 ? f + 1 : f;
  if (mode == NEAREST_FLOOR) return f;
  if (mode == NEAREST_CEIL) return Math.ceil(xo);
  if (mode == NEAREST_SIMPLE) return s < 1 ? Math.ceil(xo) : Math.trunc(xo);
  return r > 0.5 ? f + 1 : f; // round_prefer_floor
}

// @ts-ignore: decorator
@inline function clampIndex(i: f64, inLen: i32): i32 {
  // In double precision first: an index far outside (huge coordinates) must not wrap as an i32.
  return i <= 0 ? 0 : i >= <f64>(inLen - 1) ? inLen - 1 : <i32>i;
}

/**
 * Fills the per-axis header and tap arrays for every axis; returns the first free (16-aligned) scratch
 * address. table: per axis i32 in, i32 out, f32 scale (≤ 0: out/in, as when `sizes` is given); roi: f32
 * [starts…, ends…] (2·rank; read only for tf_crop_and_resize).
 */
export function buildAxes(
  rank: i32,
  table: usize,
  roi: usize,
  scratch: usize,
  mode: i32,
  coord: i32,
  nearest: i32,
  cubicA: f32,
  excludeOutside: i32,
): usize {
  const T = modeTaps(mode);
  const A = <f64>cubicA;
  let free = align16(scratch + 16 + (<usize>(rank * AXIS_WORDS) << 2));
  let xs = 1;
  let ys = 1;
  for (let a = rank - 1; a >= 0; a--) {
    const inLen = load<i32>(table + <usize>(12 * a));
    const outLen = load<i32>(table + <usize>(12 * a + 4));
    const given = <f64>load<f32>(table + <usize>(12 * a + 8));
    const s = given > 0 ? given : <f64>outLen / <f64>inLen;
    const crop = coord == COORD_TF_CROP_AND_RESIZE;
    const r0 = crop ? <f64>load<f32>(roi + (<usize>a << 2)) : 0;
    const r1 = crop ? <f64>load<f32>(roi + (<usize>(rank + a) << 2)) : 1;
    const idx = free;
    free = align16(idx + (<usize>(T * outLen) << 2));
    const w = free;
    if (T > 1) free = align16(w + (<usize>(T * outLen) << 2));
    const flags = crop ? free : 0;
    if (crop) free = align16(flags + (<usize>outLen << 2));
    let nFlags = 0;
    let identity = inLen == outLen;
    const plane = <usize>outLen << 2;
    for (let o = 0; o < outLen; o++) {
      const xo = sourceCoord(coord, <f64>o, s, inLen, outLen, r0, r1);
      const oo = <usize>o << 2;
      if (crop) {
        const outside = xo < 0 || xo > <f64>(inLen - 1);
        store<i32>(flags + oo, outside ? 1 : 0);
        if (outside) nFlags++;
      }
      if (T == 1) {
        const i = clampIndex(nearestIndex(xo, nearest, s), inLen);
        store<i32>(idx + oo, i);
        if (i != o) identity = false;
        continue;
      }
      // The taps are the T inputs nearest x_original, ties to the lower index (ONNX's reference): with
      // i0 = ceil(x) - 1 and ratio = x - i0 ∈ (0, 1], inputs i0 - T/2 + 1 … i0 + T/2.
      let i0 = Math.floor(xo);
      let ratio = xo - i0;
      if (ratio == 0) {
        i0 -= 1;
        ratio = 1;
      }
      const first = i0 - <f64>(T / 2 - 1);
      // The reference's coefficient formulas, term for term (tap t sits at first + t).
      const q = 1 - ratio;
      const w0 = T == 2 ? q : ((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A;
      const w1 = T == 2 ? ratio : ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
      const w2 = T == 2 ? 0 : ((A + 2) * q - (A + 3)) * q * q + 1;
      const w3 = T == 2 ? 0 : ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
      let sum: f64 = 0;
      for (let t = 0; t < T; t++) {
        let wt = t == 0 ? w0 : t == 1 ? w1 : t == 2 ? w2 : w3;
        const j = first + <f64>t;
        if (excludeOutside != 0 && (j < 0 || j > <f64>(inLen - 1))) wt = 0;
        store<f64>(free + (<usize>t << 3), wt); // staged past the arrays, normalised below
        sum += wt;
      }
      let self: f64 = 0;
      let others: f64 = 0;
      for (let t = 0; t < T; t++) {
        let wt = load<f64>(free + (<usize>t << 3));
        if (excludeOutside != 0 && sum != 0) wt /= sum;
        const i = clampIndex(first + <f64>t, inLen);
        const at = <usize>t * plane + oo;
        store<i32>(idx + at, i);
        store<f32>(w + at, <f32>wt);
        if (i == o) self += <f64>(<f32>wt);
        else others += Math.abs(<f64>(<f32>wt));
      }
      if (self != 1 || others != 0) identity = false;
    }
    if (nFlags > 0) identity = false;
    // An identity axis becomes one tap (o, 1): skipped as onnx's reference skips it, and zero-weight
    // neighbours do not carry a NaN across it.
    if (identity) {
      for (let o = 0; o < outLen; o++) {
        store<i32>(idx + (<usize>o << 2), o);
        if (T > 1) store<f32>(w + (<usize>o << 2), 1);
      }
    }
    setField(scratch, a, F_IN, inLen);
    setField(scratch, a, F_OUT, outLen);
    setField(scratch, a, F_TAPS, identity ? 1 : T);
    setField(scratch, a, F_IDX, <i32>idx);
    setField(scratch, a, F_W, <i32>w);
    setField(scratch, a, F_FLAGS, <i32>flags);
    setField(scratch, a, F_NFLAGS, nFlags);
    setField(scratch, a, F_IDENTITY, identity ? 1 : 0);
    setField(scratch, a, F_XSTRIDE, xs);
    setField(scratch, a, F_YSTRIDE, ys);
    xs *= inLen;
    ys *= outLen;
  }
  return free;
}

/** Whether output index o of axis a extrapolates (tf_crop_and_resize outside the crop). */
// @ts-ignore: decorator
@inline export function flagged(scratch: usize, a: i32, o: i32): bool {
  const flags = <usize>field(scratch, a, F_FLAGS);
  return flags != 0 && load<i32>(flags + (<usize>o << 2)) != 0;
}

/** Every output length ≥ 1 with an input length ≥ 1 (else nothing to do, or nothing to read). */
export function validSizes(rank: i32, table: usize): bool {
  if (rank <= 0) return false;
  for (let a = 0; a < rank; a++) {
    if (load<i32>(table + <usize>(12 * a + 4)) <= 0 || load<i32>(table + <usize>(12 * a)) <= 0) return false;
  }
  return true;
}

/** The resized span: first and last non-identity axes (lo > hi: none). */
// @ts-ignore: decorator
@inline export function spanLo(rank: i32, scratch: usize): i32 {
  let lo = 0;
  while (lo < rank && field(scratch, lo, F_IDENTITY) != 0) lo++;
  return lo;
}

// @ts-ignore: decorator
@inline export function spanHi(rank: i32, scratch: usize): i32 {
  let hi = rank - 1;
  while (hi >= 0 && field(scratch, hi, F_IDENTITY) != 0) hi--;
  return hi;
}

/** Product of the input lengths of axes [from, to). */
// @ts-ignore: decorator
@inline export function inProduct(scratch: usize, from: i32, to: i32): i32 {
  let n = 1;
  for (let a = from; a < to; a++) n *= field(scratch, a, F_IN);
  return n;
}

// @ts-ignore: decorator
@inline export function outProduct(scratch: usize, from: i32, to: i32): i32 {
  let n = 1;
  for (let a = from; a < to; a++) n *= field(scratch, a, F_OUT);
  return n;
}

/**
 * Odometer over the output indices of axes [lo, hi) kept in `state` (i32 per axis): advances by one and
 * returns nothing; callers start it at zeros.
 */
// @ts-ignore: decorator
@inline export function advance(state: usize, scratch: usize, lo: i32, hi: i32): void {
  for (let a = hi - 1; a >= lo; a--) {
    const p = state + (<usize>(a - lo) << 2);
    const v = load<i32>(p) + 1;
    if (v < field(scratch, a, F_OUT)) {
      store<i32>(p, v);
      return;
    }
    store<i32>(p, 0);
  }
}

/** Whether any axis in [lo, hi) extrapolates at the odometer's current output index. */
// @ts-ignore: decorator
@inline export function anyFlagged(state: usize, scratch: usize, lo: i32, hi: i32): bool {
  for (let a = lo; a < hi; a++) if (flagged(scratch, a, load<i32>(state + (<usize>(a - lo) << 2)))) return true;
  return false;
}

/** Four floats of src at the four i32 element indices at idx. */
// @ts-ignore: decorator
@inline export function gather4(src: usize, idx: usize): v128 {
  let v = v128.load32_splat(src + (<usize>load<i32>(idx) << 2));
  v = v128.load32_lane(src + (<usize>load<i32>(idx, 4) << 2), v, 1);
  v = v128.load32_lane(src + (<usize>load<i32>(idx, 8) << 2), v, 2);
  v = v128.load32_lane(src + (<usize>load<i32>(idx, 12) << 2), v, 3);
  return v;
}
