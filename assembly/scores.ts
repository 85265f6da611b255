// What classifiers do with their scores (ai.onnx.ml semantics, as onnxruntime's CPU kernels): the
// post_transform (logistic, softmax, probit), one score expanded to two classes, a label by threshold.
// Linear classifiers, tree ensembles and SVMs share these.

import { log64 } from "./binary";
import { vexp, vtanh } from "./vmath";
import { POST_LOGISTIC, POST_SOFTMAX, POST_SOFTMAX_ZERO, POST_PROBIT, TWO_CLASS_COMPLEMENT } from "./generated/abi";

// @ts-ignore: decorator
@inline export function expf_(x: f32): f32 { return f32x4.extract_lane(vexp(f32x4.splat(x)), 0); }
// @ts-ignore: decorator
@inline export function tanhf_(x: f32): f32 { return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0); }

// onnxruntime's ComputeLogistic: stable for large |x|.
// @ts-ignore: decorator
@inline export function logistic(x: f32): f32 {
  const v: f32 = 1.0 / (1.0 + expf_(-abs<f32>(x)));
  return x < 0 ? 1.0 - v : v;
}

// onnxruntime's ErfInv approximation (Winitzki), used by PROBIT.
// @ts-ignore: decorator
@inline export function probit(x: f32): f32 {
  let v: f32 = 2 * x - 1;
  const sgn: f32 = v < 0 ? -1.0 : 1.0;
  v = (1 - v) * (1 + v);
  // outside (0, 1) the inverse CDF is undefined: onnxruntime's std::log gives NaN (−inf at 0 and 1 → ±inf)
  if (!(v > 0)) return v == 0 ? sgn * Infinity : NaN;
  const l = <f32>log64(<f64>v);
  const a: f32 = 2 / (<f32>3.14159 * <f32>0.147) + <f32>0.5 * l;
  const b: f32 = (<f32>1 / <f32>0.147) * l;
  const c: f32 = -a + sqrt<f32>(a * a - b);
  return <f32>1.41421356 * sgn * sqrt<f32>(c);
}


/** One row of C scores, in place: onnxruntime's write_scores for C ≥ 2. */
export function postRow(s: usize, C: i32, post: i32): void {
  if (post == POST_LOGISTIC) {
    for (let j = 0; j < C; j++) store<f32>(s + (<usize>j << 2), logistic(load<f32>(s + (<usize>j << 2))));
  } else if (post == POST_PROBIT) {
    for (let j = 0; j < C; j++) store<f32>(s + (<usize>j << 2), probit(load<f32>(s + (<usize>j << 2))));
  } else if (post == POST_SOFTMAX || post == POST_SOFTMAX_ZERO) {
    let vmax: f32 = -3.4028234663852886e38;
    for (let j = 0; j < C; j++) vmax = max<f32>(vmax, load<f32>(s + (<usize>j << 2)));
    const expNegMax = expf_(-vmax);
    let sum: f32 = 0;
    for (let j = 0; j < C; j++) {
      const p = s + (<usize>j << 2);
      const v = load<f32>(p);
      // SOFTMAX_ZERO leaves zero scores (classes no tree voted for) at zero probability.
      if (post == POST_SOFTMAX || v > <f32>0.0000001 || v < <f32>-0.0000001) {
        const e = expf_(v - vmax);
        store<f32>(p, e);
        sum += e;
      } else {
        store<f32>(p, v * expNegMax);
      }
    }
    for (let j = 0; j < C; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) / sum);
  }
}

/** Row-wise post-transform of [rows, C] scores (x may equal y). */
export function post_transform(x: usize, y: usize, rows: i32, C: i32, post: i32): void {
  const bytes = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    if (x != y) memory.copy(y, x, bytes);
    postRow(y, C, post);
    x += bytes;
    y += bytes;
  }
}

/**
 * One score per row expanded to two columns (binary classifiers): mode COMPLEMENT → [1-s, s];
 * NEGATE → [-s, s], or [logistic(-s), logistic(s)] when post is LOGISTIC.
 */
export function two_class_scores(x: usize, y: usize, rows: i32, mode: i32, post: i32): void {
  for (let r = 0; r < rows; r++) {
    const s = load<f32>(x + (<usize>r << 2));
    const out = y + (<usize>r << 3);
    if (mode == TWO_CLASS_COMPLEMENT) {
      store<f32>(out, 1 - s);
      store<f32>(out, s, 4);
    } else if (post == POST_LOGISTIC) {
      store<f32>(out, logistic(-s));
      store<f32>(out, logistic(s), 4);
    } else {
      store<f32>(out, -s);
      store<f32>(out, s, 4);
    }
  }
}

/** Label index 1 where the score exceeds `threshold`, else 0 (binary linear classifiers). */
export function label_threshold(x: usize, y: usize, rows: i32, threshold: f32): void {
  for (let r = 0; r < rows; r++) store<i32>(y + (<usize>r << 2), load<f32>(x + (<usize>r << 2)) > threshold ? 1 : 0);
}
