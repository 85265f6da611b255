// Sizes the model computes from data at run time: the Resize table from scales or sizes that only the
// data gives (a graph input, or arithmetic the compiler cannot follow), and one size read out of a tensor
// into the slot of its symbol (a Tile repeat, a Resize output length).

import {
  RESIZE_SRC_SIZES_I64,
  RESIZE_SRC_SIZES_I32,
  ASPECT_NOT_LARGER,
  ASPECT_NOT_SMALLER,
} from "./generated/abi";

const I32_MAX: f64 = 2147483647;

/** A length as i32: itself when it is an integer in i32 range; NaN and below −2³¹ give −1, above 2³¹−1 gives 2³¹−1. */
// @ts-ignore: decorator
@inline function asLength(v: f64): i32 {
  if (v != v || v < -I32_MAX) return -1;
  return v > I32_MAX ? <i32>I32_MAX : <i32>v;
}

/** The value given for entry i of src, as f64. */
// @ts-ignore: decorator
@inline function given(src: usize, kind: i32, i: i32): f64 {
  if (kind == RESIZE_SRC_SIZES_I64) return <f64>load<i64>(src + (<usize>i << 3));
  if (kind == RESIZE_SRC_SIZES_I32) return <f64>load<i32>(src + (<usize>i << 2));
  return <f64>load<f32>(src + (<usize>i << 2));
}

/**
 * The per-axis table of `resize` / `resize_nearest` (12 bytes per axis: i32 in, i32 out, f32 scale) for a
 * Resize whose scales or sizes are known only at run time. inLens: i32 [rank], the input lengths. src: what
 * the node gives for `axes` (i32 [nAxes], distinct, each in [0, rank)), of kind CODES.RESIZE_SRC: SCALES
 * f32 [nAxes], SIZES_I64 i64 [nAxes] or SIZES_I32 i32 [nAxes]. Axes not listed keep their length (scale 1).
 *  - scales: out = ⌊in·scale⌋ with the product in float32, as onnxruntime computes it (ONNX's reference
 *    multiplies in double, which gives one less where the float product rounds up to an integer), the
 *    scale stored as given;
 *  - sizes, policy CODES.ASPECT.STRETCH: out = size, scale 0 (the resize kernel then uses out/in);
 *  - sizes, NOT_LARGER / NOT_SMALLER (keep_aspect_ratio_policy): scale = the min / max over the listed axes
 *    of size/in (double), out = ⌊scale·in + ½⌋ (round half up, as the reference), the scale stored as f32.
 * An out length that is no i32 (NaN, beyond ±2³¹) is written as −1 or 2³¹−1, a negative one as it is: the
 * compiler reads each into its size's slot (read_size), and the call is refused when one is out of bounds.
 * table: 12·rank bytes, 4-byte aligned; it overlaps none of the inputs.
 */
export function resize_table(
  src: usize,
  kind: i32,
  rank: i32,
  inLens: usize,
  axes: usize,
  nAxes: i32,
  policy: i32,
  table: usize,
): void {
  for (let a = 0; a < rank; a++) {
    const at = table + <usize>(12 * a);
    const n = load<i32>(inLens + (<usize>a << 2));
    store<i32>(at, n);
    store<i32>(at + 4, n);
    store<f32>(at + 8, 1);
  }
  const sizes = kind == RESIZE_SRC_SIZES_I64 || kind == RESIZE_SRC_SIZES_I32;
  const keep = sizes && (policy == ASPECT_NOT_LARGER || policy == ASPECT_NOT_SMALLER);
  let common: f64 = policy == ASPECT_NOT_LARGER ? Infinity : -Infinity;
  if (keep) {
    for (let i = 0; i < nAxes; i++) {
      const a = load<i32>(axes + (<usize>i << 2));
      const s = given(src, kind, i) / <f64>load<i32>(inLens + (<usize>a << 2));
      common = policy == ASPECT_NOT_LARGER ? Math.min(common, s) : Math.max(common, s);
    }
  }
  for (let i = 0; i < nAxes; i++) {
    const a = load<i32>(axes + (<usize>i << 2));
    const at = table + <usize>(12 * a);
    const n = <f64>load<i32>(inLens + (<usize>a << 2));
    const v = given(src, kind, i);
    if (keep) {
      store<i32>(at + 4, asLength(Math.floor(common * n + 0.5)));
      store<f32>(at + 8, <f32>common);
    } else if (sizes) {
      store<i32>(at + 4, asLength(v));
      store<f32>(at + 8, 0);
    } else {
      store<i32>(at + 4, asLength(Math.floor(<f64>(<f32>n * <f32>v))));
      store<f32>(at + 8, <f32>v);
    }
  }
}

/**
 * One size into a symbol's slot: *size = the integer at x (elemBytes 4: i32, 8: i64), clamped into i32
 * (beyond: −2³¹ or 2³¹−1). The compiler's bound check follows the call. size: 4-byte aligned.
 */
export function read_size(x: usize, elemBytes: i32, size: usize): void {
  if (elemBytes == 8) {
    const v = load<i64>(x);
    store<i32>(size, v > <i64>I32_MAX ? <i32>I32_MAX : v < -(<i64>I32_MAX) - 1 ? <i32>(-(<i64>I32_MAX) - 1) : <i32>v);
  } else {
    store<i32>(size, load<i32>(x));
  }
}
