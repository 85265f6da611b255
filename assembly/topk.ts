// TopK along any axis: x viewed as [outer, len, inner], the K best of each of the outer·inner columns of
// len values, best first (sorted = 0 gives the same order: ONNX leaves it undefined). Ties keep the
// lower index first, as onnxruntime's. Floats: NaN ranks above +Inf (numpy's order), so `largest`
// takes NaNs first and smallest takes them last.

import { ELEM_F32, ELEM_I32 } from "./generated/abi";

/** u ranks above v in the ascending total order (NaN on top). */
// @ts-ignore: decorator
@inline function above(x: usize, u: usize, v: usize, kind: i32): bool {
  if (kind == ELEM_F32) {
    const a = load<f32>(x + (u << 2));
    const b = load<f32>(x + (v << 2));
    return a > b || (isNaN(a) && !isNaN(b));
  }
  if (kind == ELEM_I32) return load<i32>(x + (u << 2)) > load<i32>(x + (v << 2));
  return load<i64>(x + (u << 3)) > load<i64>(x + (v << 3));
}

/** Element u goes before element v (positions along one column, at element offsets u, v). */
// @ts-ignore: decorator
@inline function before(x: usize, u: usize, v: usize, kind: i32, largest: i32): bool {
  return largest ? above(x, u, v, kind) : above(x, v, u, kind);
}

/** Smallest K for which the whole column is sorted rather than kept in an insertion buffer. */
const SORT_FROM = 16;

/**
 * vals [outer, K, inner] (x's kind: CODES.ELEM F32, I32 or I64) and idx [outer, K, inner] (i32 or i64 by
 * idxBytes): the K largest (largest = 1) or smallest values of every column and their positions along
 * the axis. 0 ≤ K ≤ len (a larger K is cut to len). scratch: ≥ 2·len i32.
 */
export function topk_axis(
  x: usize, vals: usize, idx: usize, outer: i32, len: i32, inner: i32, K: i32, largest: i32, kind: i32, idxBytes: i32,
  scratch: usize,
): void {
  const k = min(K, len);
  if (k <= 0) return;
  const eb: usize = kind == ELEM_F32 || kind == ELEM_I32 ? 4 : 8;
  const step = <usize>inner;
  const best = scratch;
  const tmp = scratch + (<usize>len << 2);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = <usize>o * <usize>len * step + <usize>i; // element offset of the column's first value
      if (k < SORT_FROM) {
        // Insertion into the k best so far; a later equal value never passes an earlier one.
        let n = 0;
        for (let j = 0; j < len; j++) {
          const at = base + <usize>j * step;
          if (n == k && !before(x, at, base + <usize>load<i32>(best + (<usize>(k - 1) << 2)) * step, kind, largest)) continue;
          let p = n < k ? n++ : k - 1;
          while (p > 0 && before(x, at, base + <usize>load<i32>(best + (<usize>(p - 1) << 2)) * step, kind, largest)) {
            store<i32>(best + (<usize>p << 2), load<i32>(best + (<usize>(p - 1) << 2)));
            p--;
          }
          store<i32>(best + (<usize>p << 2), j);
        }
      } else {
        sortColumn(x, base, step, len, kind, largest, best, tmp);
      }
      for (let r = 0; r < k; r++) {
        const j = load<i32>(best + (<usize>r << 2));
        const out = (<usize>o * <usize>k + <usize>r) * step + <usize>i;
        if (eb == 4) store<u32>(vals + (out << 2), load<u32>(x + ((base + <usize>j * step) << 2)));
        else store<u64>(vals + (out << 3), load<u64>(x + ((base + <usize>j * step) << 3)));
        if (idxBytes == 8) store<i64>(idx + (out << 3), <i64>j);
        else store<i32>(idx + (out << 2), j);
      }
    }
  }
}

/** perm = the column's positions 0..len−1 in `before` order: a stable bottom-up merge sort (tmp: len i32). */
function sortColumn(x: usize, base: usize, step: usize, len: i32, kind: i32, largest: i32, perm: usize, tmp: usize): void {
  for (let j = 0; j < len; j++) store<i32>(perm + (<usize>j << 2), j);
  let src = perm;
  let dst = tmp;
  for (let width = 1; width < len; width <<= 1) {
    for (let lo = 0; lo < len; lo += width << 1) {
      const mid = min(lo + width, len);
      const hi = min(lo + (width << 1), len);
      let a = lo;
      let b = mid;
      for (let t = lo; t < hi; t++) {
        const takeRight =
          a >= mid ||
          (b < hi &&
            before(x, base + <usize>load<i32>(src + (<usize>b << 2)) * step, base + <usize>load<i32>(src + (<usize>a << 2)) * step, kind, largest));
        if (takeRight) store<i32>(dst + (<usize>t << 2), load<i32>(src + (<usize>(b++) << 2)));
        else store<i32>(dst + (<usize>t << 2), load<i32>(src + (<usize>(a++) << 2)));
      }
    }
    const s = src;
    src = dst;
    dst = s;
  }
  if (src != perm) memory.copy(perm, src, <usize>len << 2);
}
