// Reductions over axes given at run time (ReduceSum's `axes` input computed by the graph): the axes become
// a mask, the output's dimensions are written into computed sizes, and one pass reduces x into y whatever
// axes the mask names. Dims are i32 tables; the mask is rank i32 (1: reduced).

import { REDUCE_MAX, REDUCE_MEAN, REDUCE_MIN, REDUCE_PROD } from "./generated/abi";
import { loadIndex } from "./gather_scatter";

/**
 * mask[0..rank) = 1 where an axis of `axes` (n indices, i32 or i64 by axesBytes, negative ones counting
 * from the end) names it, else 0. n = 0: every axis (noop = 0) or none (noop = 1), as
 * noop_with_empty_axes says. An axis named twice counts once, as onnxruntime's; with distinct = 1 (keepdims
 * 0: the output's rank was planned for n distinct axes) it is refused. Returns 1 + the position of the
 * first axis outside [−rank, rank−1] (onnxruntime refuses those) or refused as named twice, else 0.
 */
export function axes_mask(axes: usize, n: i32, axesBytes: i32, rank: i32, noop: i32, distinct: i32, mask: usize): i32 {
  const all = n == 0 && noop == 0 ? 1 : 0;
  for (let d = 0; d < rank; d++) store<i32>(mask + (<usize>d << 2), all);
  for (let k = 0; k < n; k++) {
    let a = loadIndex(axes, <usize>k, axesBytes);
    if (a < 0) a += rank;
    if (a < 0 || a >= <i64>rank) return k + 1;
    const at = mask + (<usize>a << 2);
    if (distinct && load<i32>(at) != 0) return k + 1;
    store<i32>(at, 1);
  }
  return 0;
}

/**
 * *count = dimension j of the reduction's output: keepdims = 1, 1 where the mask reduces axis j, else
 * dims[j]; keepdims = 0, the j-th axis the mask keeps (1 when there is none).
 */
export function reduced_dim(mask: usize, table: usize, rank: i32, j: i32, keepdims: i32, count: usize): void {
  if (keepdims) {
    store<i32>(count, load<i32>(mask + (<usize>j << 2)) ? 1 : load<i32>(table + (<usize>j << 2)));
    return;
  }
  let seen = 0;
  for (let d = 0; d < rank; d++) {
    if (load<i32>(mask + (<usize>d << 2))) continue;
    if (seen++ == j) {
      store<i32>(count, load<i32>(table + (<usize>d << 2)));
      return;
    }
  }
  store<i32>(count, 1);
}

// @ts-ignore: decorator
@inline function combine(op: i32, a: f32, b: f32): f32 {
  if (op == REDUCE_MAX) return a != a || b != b ? NaN : max<f32>(a, b);
  if (op == REDUCE_MIN) return a != a || b != b ? NaN : min<f32>(a, b);
  if (op == REDUCE_PROD) return a * b;
  return a + b;
}

/**
 * y = the reduction (op: the reduce family's code, sum … prod) of f32 x with dims table[0..rank) over the
 * axes the mask names; y holds the kept axes in order (Π kept dims floats), each the combination of its
 * reduced elements in x's order. An empty reduction gives the op's identity (0, 1, −Inf for max, +Inf for
 * min; the mean of nothing is NaN). scratch: ≥ 2·rank i32.
 */
export function reduce_masked(x: usize, y: usize, rank: i32, table: usize, mask: usize, op: i32, scratch: usize): void {
  // strides[d]: y's stride for a kept axis d, 0 for a reduced one; counter: x's coordinates.
  const strides = scratch;
  const counter = scratch + (<usize>rank << 2);
  let outN: usize = 1;
  let total: usize = 1;
  let reduced: usize = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const n = <usize>load<i32>(table + (<usize>d << 2));
    const kept = load<i32>(mask + (<usize>d << 2)) == 0;
    store<i32>(strides + (<usize>d << 2), kept ? <i32>outN : 0);
    store<i32>(counter + (<usize>d << 2), 0);
    if (kept) outN *= n;
    else reduced *= n;
    total *= n;
  }
  const init: f32 = op == REDUCE_MAX ? -Infinity : op == REDUCE_MIN ? Infinity : op == REDUCE_PROD ? 1 : 0;
  for (let i: usize = 0; i < outN; i++) store<f32>(y + (i << 2), init);
  let at: usize = 0;
  for (let i: usize = 0; i < total; i++) {
    const p = y + (at << 2);
    store<f32>(p, combine(op, load<f32>(p), load<f32>(x + (i << 2))));
    // Next coordinates of x, and y's offset with them.
    for (let d = rank - 1; d >= 0; d--) {
      const c = counter + (<usize>d << 2);
      const s = <usize>load<i32>(strides + (<usize>d << 2));
      const v = load<i32>(c) + 1;
      if (v < load<i32>(table + (<usize>d << 2))) {
        store<i32>(c, v);
        at += s;
        break;
      }
      store<i32>(c, 0);
      at -= s * <usize>(v - 1);
    }
  }
  if (op == REDUCE_MEAN) {
    const scale: f32 = <f32>1.0 / <f32>reduced;
    for (let i: usize = 0; i < outN; i++) store<f32>(y + (i << 2), load<f32>(y + (i << 2)) * scale);
  }
}
