// Shape operands given at run time (a graph input, or data the graph computed): Reshape's shape,
// Squeeze's and Unsqueeze's axes, Slice's starts/ends/axes/steps, Expand's shape, and the sizes of
// ConstantOfShape, Split and Pad. Each kernel checks the values as ONNX defines them and writes what the
// output needs as an i32 table; the compiler reads each entry into a computed size (read_size), checked
// against its bound before anything reads past it. Each returns 0, or 1 + the position of the first
// value it cannot use (Step.valueCheck: a bad-input error naming it).

import { loadIndex } from "./gather_scatter";

const I32_MAX: i64 = 2147483647;
/** Products saturate here: far beyond any i32 size, far from overflowing i64. */
const BIG: i64 = 1 << 40;

// @ts-ignore: decorator
@inline function dim(lens: usize, a: i32): i32 {
  return load<i32>(lens + (<usize>a << 2));
}

// @ts-ignore: decorator
@inline function put(out: usize, k: i32, v: i64): void {
  store<i32>(out + (<usize>k << 2), <i32>v);
}

/** axis (negative: from the end) within [0, rank), or −1. */
// @ts-ignore: decorator
@inline function axisIn(a: i64, rank: i32): i32 {
  const b = a < 0 ? a + <i64>rank : a;
  return b < 0 || b >= <i64>rank ? -1 : <i32>b;
}

/**
 * Reshape: out[0..n) = the dims of shape (n entries of shapeBytes, 4 or 8) for an input of dims inLens
 * [inRank]. 0 copies the input's dim at that position (unless allowZero), one −1 takes what the others
 * leave (0 when they hold no element). Refused: an entry below −1 or beyond i32, a second −1, a 0 past the
 * input's rank (allowZero 0), a 0 and a −1 together (allowZero 1). The element count is dims_count's check.
 */
export function reshape_dims(
  shape: usize,
  shapeBytes: i32,
  n: i32,
  inLens: usize,
  inRank: i32,
  allowZero: i32,
  out: usize,
): i32 {
  let total: i64 = 1;
  for (let a = 0; a < inRank; a++) total = min<i64>(total * <i64>dim(inLens, a), BIG);
  let unknown = -1;
  let known: i64 = 1;
  let zero = false;
  for (let k = 0; k < n; k++) {
    let v = loadIndex(shape, <usize>k, shapeBytes);
    if (v == 0 && !allowZero) {
      if (k >= inRank) return k + 1;
      v = <i64>dim(inLens, k);
    }
    if (v == -1) {
      if (unknown >= 0) return k + 1;
      unknown = k;
      continue;
    }
    if (v < 0 || v > I32_MAX) return k + 1;
    if (v == 0) zero = true;
    known = min<i64>(known * v, BIG);
    put(out, k, v);
  }
  if (unknown >= 0) {
    if (zero && allowZero) return unknown + 1;
    put(out, unknown, known == 0 ? 0 : min<i64>(total / known, I32_MAX));
  }
  return 0;
}

/** 0 when the product (sum = 1: the sum) of dims [n] (i32) is `total`, else 1 + it (at most 2³¹ − 2). */
export function dims_count(dims: usize, n: i32, total: i32, sum: i32): i32 {
  let c: i64 = sum ? 0 : 1;
  for (let k = 0; k < n; k++) {
    const d = <i64>load<i32>(dims + (<usize>k << 2));
    c = min<i64>(sum ? c + d : c * d, BIG);
  }
  return c == <i64>total ? 0 : <i32>min<i64>(c, I32_MAX - 1) + 1;
}

/** Whether one of axes[0..k) (axesBytes each) names axis a of a rank-`rank` tensor. */
function namedBefore(axes: usize, axesBytes: i32, k: i32, rank: i32, a: i32): bool {
  for (let j = 0; j < k; j++) if (axisIn(loadIndex(axes, <usize>j, axesBytes), rank) == a) return true;
  return false;
}

/**
 * Squeeze (squeeze = 1) or Unsqueeze (0) by nAxes axes (axesBytes each) of an input of dims inLens
 * [inRank]: out = the output's dims (inRank ∓ nAxes). Refused: an axis outside the rank it counts in (the
 * input's for Squeeze, the output's for Unsqueeze), an axis named twice, a squeezed dim that is not 1.
 */
export function axes_dims(axes: usize, axesBytes: i32, nAxes: i32, inLens: usize, inRank: i32, squeeze: i32, out: usize): i32 {
  const rank = squeeze ? inRank : inRank + nAxes;
  for (let k = 0; k < nAxes; k++) {
    const a = axisIn(loadIndex(axes, <usize>k, axesBytes), rank);
    if (a < 0 || namedBefore(axes, axesBytes, k, rank, a)) return k + 1;
    if (squeeze && dim(inLens, a) != 1) return k + 1;
  }
  let j = 0;
  for (let d = 0; d < rank; d++) {
    const named = namedBefore(axes, axesBytes, nAxes, rank, d);
    if (squeeze) {
      if (!named) put(out, j++, dim(inLens, d));
    } else put(out, d, named ? 1 : dim(inLens, j++));
  }
  return 0;
}

/**
 * Slice: out = [start, length, step] (i32) per axis of an input of dims inLens [rank], every axis (those
 * not sliced: 0, dim, 1). starts, ends, axes, steps: n entries each, of their own bytes (4 or 8; axes or
 * steps 0: not given, 0..n−1 and 1). As ONNX: negative starts and ends count from the end, then clamp to
 * [0, dim] (step > 0) or [−1, dim − 1] (step < 0); the length is ⌈(end − start) / step⌉ or 0. A step beyond
 * the dim is written as the dim (the same elements); an empty slice starts at 0. Refused: an axis outside
 * [−rank, rank − 1] or named twice, a step of 0.
 */
export function slice_ranges(
  starts: usize,
  startsBytes: i32,
  ends: usize,
  endsBytes: i32,
  axes: usize,
  axesBytes: i32,
  steps: usize,
  stepsBytes: i32,
  n: i32,
  inLens: usize,
  rank: i32,
  out: usize,
): i32 {
  for (let a = 0; a < rank; a++) {
    put(out, 3 * a, 0);
    put(out, 3 * a + 1, dim(inLens, a));
    put(out, 3 * a + 2, 1);
  }
  for (let k = 0; k < n; k++) {
    const a = axesBytes ? axisIn(loadIndex(axes, <usize>k, axesBytes), rank) : k < rank ? k : -1;
    if (a < 0 || (axesBytes && namedBefore(axes, axesBytes, k, rank, a))) return k + 1;
    let step: i64 = stepsBytes ? loadIndex(steps, <usize>k, stepsBytes) : 1;
    if (step == 0) return k + 1;
    const d = <i64>dim(inLens, a);
    let s = loadIndex(starts, <usize>k, startsBytes);
    let e = loadIndex(ends, <usize>k, endsBytes);
    if (s < 0) s += d;
    if (e < 0) e += d;
    const most = max<i64>(d, 1);
    let len: i64 = 0;
    if (step > 0) {
      step = min<i64>(step, most);
      s = min<i64>(max<i64>(s, 0), d);
      e = min<i64>(max<i64>(e, 0), d);
      if (e > s) len = (e - s + step - 1) / step;
    } else {
      step = max<i64>(step, -most);
      s = min<i64>(max<i64>(s, -1), d - 1);
      e = min<i64>(max<i64>(e, -1), d - 1);
      if (s > e) len = (s - e - step - 1) / -step;
    }
    put(out, 3 * a, len ? s : 0);
    put(out, 3 * a + 1, len);
    put(out, 3 * a + 2, step);
  }
  return 0;
}

/**
 * Expand: out[0..outRank) = the broadcast of an input of dims inLens [inRank] and shape (n entries of
 * shapeBytes), both aligned to the right; outRank = max(inRank, n). Refused: a negative entry or one beyond
 * i32, an entry that neither is 1, nor the input's dim, nor meets an input dim of 1.
 */
export function expand_dims(shape: usize, shapeBytes: i32, n: i32, inLens: usize, inRank: i32, out: usize): i32 {
  const outRank = max<i32>(n, inRank);
  for (let i = 0; i < outRank; i++) {
    const k = i - (outRank - n);
    const j = i - (outRank - inRank);
    const id: i64 = j >= 0 ? <i64>dim(inLens, j) : 1;
    if (k < 0) {
      put(out, i, id);
      continue;
    }
    const sd = loadIndex(shape, <usize>k, shapeBytes);
    if (sd < 0 || sd > I32_MAX) return k + 1;
    if (id == 1) put(out, i, sd);
    else if (sd == 1 || sd == id) put(out, i, id);
    else return k + 1;
  }
  return 0;
}

/** out[0..n) (i32) = x (n entries of xBytes); refused: a negative entry or one beyond i32. */
export function sizes_of(x: usize, xBytes: i32, n: i32, out: usize): i32 {
  for (let k = 0; k < n; k++) {
    const v = loadIndex(x, <usize>k, xBytes);
    if (v < 0 || v > I32_MAX) return k + 1;
    put(out, k, v);
  }
  return 0;
}

/**
 * Dropout's run-time training_mode (a bool at training) with ratio (an f32): 0 when nothing is dropped
 * (not training, or a ratio of 0), else 1 (random units would be dropped, which inference does not do).
 */
export function dropout_check(ratio: usize, training: usize): i32 {
  return load<u8>(training) != 0 && load<f32>(ratio) != 0 ? 1 : 0;
}
