import { exp64, log64 } from "./binary";

// Reductions over a tensor viewed as [outer, len, inner], reducing the middle axis: y is [outer, inner].
// The compiler merges adjacent reduced axes into one `len`; non-adjacent axes take several calls.
// inner == 1 reduces contiguous rows (SIMD along the row); inner > 1 accumulates whole inner rows
// (SIMD across the inner positions), so both layouts stream memory in order.

import { REDUCE_MEAN, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD } from "./generated/abi";

// @ts-ignore: decorator
@inline function combine(op: i32, a: v128, b: v128): v128 {
  if (op == REDUCE_MAX) return f32x4.max(a, b);
  if (op == REDUCE_MIN) return f32x4.min(a, b);
  if (op == REDUCE_PROD) return f32x4.mul(a, b);
  return f32x4.add(a, b);
}

// @ts-ignore: decorator
@inline function combine1(op: i32, a: f32, b: f32): f32 {
  if (op == REDUCE_MAX) return a != a || b != b ? NaN : max<f32>(a, b);
  if (op == REDUCE_MIN) return a != a || b != b ? NaN : min<f32>(a, b);
  if (op == REDUCE_PROD) return a * b;
  return a + b;
}

// @ts-ignore: decorator
@inline export function reduce(op: i32, x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  const scale: f32 = op == REDUCE_MEAN ? <f32>1.0 / <f32>len : 1;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>(o * len) << 2);
      let acc: f32;
      let k = 0;
      if (len >= 4) {
        let v = v128.load(row);
        for (k = 4; k + 4 <= len; k += 4) v = combine(op, v, v128.load(row + (<usize>k << 2)));
        acc = combine1(op, combine1(op, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), combine1(op, f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
      } else {
        acc = load<f32>(row);
        k = 1;
      }
      for (; k < len; k++) acc = combine1(op, acc, load<f32>(row + (<usize>k << 2)));
      store<f32>(y + (<usize>o << 2), acc * scale);
    }
    return;
  }
  const innerBytes = <usize>inner << 2;
  const in4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const src = x + <usize>(o * len) * innerBytes;
    const dst = y + <usize>o * innerBytes;
    memory.copy(dst, src, innerBytes);
    for (let k = 1; k < len; k++) {
      const s = src + <usize>k * innerBytes;
      let i = 0;
      for (; i < in4; i += 4) {
        const at = <usize>i << 2;
        v128.store(dst + at, combine(op, v128.load(dst + at), v128.load(s + at)));
      }
      for (; i < inner; i++) {
        const at = <usize>i << 2;
        store<f32>(dst + at, combine1(op, load<f32>(dst + at), load<f32>(s + at)));
      }
    }
    if (op == REDUCE_MEAN) for (let i = 0; i < inner; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) * scale);
  }
}


/**
 * log(Σ exp(x)) over the middle axis, stably: max + log(Σ exp(x − max)) in f64 (naive sums underflow
 * for naive Bayes' joint log-likelihoods in the hundreds below zero).
 */
export function reduce_logsumexp(x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = x + (<usize>(o * len * inner + i) << 2);
      const step = <usize>inner << 2;
      let m: f64 = -Infinity;
      for (let k = 0; k < len; k++) {
        const v = <f64>load<f32>(base + <usize>k * step);
        if (v != v) { m = NaN; break; }
        if (v > m) m = v;
      }
      let out: f64 = m;
      if (m == m && m != Infinity && m != -Infinity) {
        let s: f64 = 0;
        for (let k = 0; k < len; k++) s += exp64(<f64>load<f32>(base + <usize>k * step) - m);
        out = m + log64(s);
      }
      store<f32>(y + (<usize>(o * inner + i) << 2), <f32>out);
    }
  }
}

/** Where: y = cond != 0 ? a : b, all three already broadcast to y's contiguous layout (n elements). */
export function where(cond: usize, a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  const zero = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const mask = f32x4.ne(v128.load(cond + at), zero);
    v128.store(y + at, v128.bitselect(v128.load(a + at), v128.load(b + at), mask));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, load<f32>(cond + at) != 0 ? load<f32>(a + at) : load<f32>(b + at));
  }
}
