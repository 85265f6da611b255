// CumSum along any axis, the axis read at run time (it may be a tensor the graph computes).

import { ELEM_F32, ELEM_I32 } from "./generated/abi";

// @ts-ignore: decorator
@inline function scan<T>(x: usize, y: usize, outer: i32, len: i32, inner: i32, exclusive: i32, reverse: i32): void {
  const row = <usize>inner * sizeof<T>();
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>len * row;
    const yo = y + <usize>o * <usize>len * row;
    for (let s = 0; s < len; s++) {
      const k = reverse ? len - 1 - s : s;
      const prev = reverse ? k + 1 : k - 1; // the position summed before k
      const yk = yo + <usize>k * row;
      for (let i = 0; i < inner; i++) {
        const at = <usize>i * sizeof<T>();
        let v: T = 0;
        if (s > 0) v = load<T>(yo + <usize>prev * row + at) + (exclusive ? load<T>(xo + <usize>prev * row + at) : 0);
        if (!exclusive) v += load<T>(xo + <usize>k * row + at);
        store<T>(yk + at, v);
      }
    }
  }
}

/**
 * y = CumSum(x) along axis *axis (i32 or i64 by axisBytes, negative counts from the end) of x with dims
 * table[0..rank): inclusive or exclusive, forward or reverse, summed in the element type (kind:
 * CODES.ELEM F32, I32 or I64) as onnxruntime. x and y must not overlap. Returns 1 when the axis is outside
 * [−rank, rank−1] (nothing written), else 0.
 */
export function cumsum(
  x: usize, y: usize, rank: i32, table: usize, axis: usize, axisBytes: i32, exclusive: i32, reverse: i32, kind: i32,
): i32 {
  let a: i64 = axisBytes == 8 ? load<i64>(axis) : <i64>load<i32>(axis);
  if (a < 0) a += rank;
  if (a < 0 || a >= <i64>rank) return 1;
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < rank; d++) {
    const n = load<i32>(table + (<usize>d << 2));
    if (<i64>d < a) outer *= n;
    else if (<i64>d > a) inner *= n;
  }
  const len = load<i32>(table + (<usize>a << 2));
  if (kind == ELEM_F32) scan<f32>(x, y, outer, len, inner, exclusive, reverse);
  else if (kind == ELEM_I32) scan<i32>(x, y, outer, len, inner, exclusive, reverse);
  else scan<i64>(x, y, outer, len, inner, exclusive, reverse);
  return 0;
}
