// Ops whose output size only the data tells: NonZero, Compress, Unique, Range (with run-time bounds), and
// reading a size from a tensor (TopK's k, OneHot's depth). Each writes the size into `count` (a symbol's
// i32 slot, see compiler/program.ts `slot`) and writes its outputs only when that size is at most `max`
// (the bound memory was planned for): beyond it the model's call fails (shape-out-of-bounds) and nothing
// past the planned bytes is touched. Element kinds are CODES.ELEM.

import { ELEM_F32, ELEM_I32, ELEM_I64, ELEM_U8 } from "./generated/abi";
import { truncIndefinite } from "./intmath";
import { copyElement } from "./gather_scatter";

/** An i64 as an i32 size, saturated (a size beyond i32 stays beyond every bound). */
// @ts-ignore: decorator
@inline function saturate(v: i64): i32 {
  return v > <i64>i32.MAX_VALUE ? i32.MAX_VALUE : v < <i64>i32.MIN_VALUE ? i32.MIN_VALUE : <i32>v;
}

/**
 * count = the first element of x (kind F32: truncated toward zero; I32; I64), plus `wrap` when it is
 * negative (an axis counted from the end; 0 for sizes), saturated to i32. A negative size fails the call.
 */
export function read_count(x: usize, kind: i32, wrap: i32, count: usize): void {
  let v: i64 =
    kind == ELEM_F32 ? truncIndefinite(<f64>load<f32>(x), 64) : kind == ELEM_I32 ? <i64>load<i32>(x) : load<i64>(x);
  if (v < 0) v += wrap;
  store<i32>(count, saturate(v));
}

/** x[i] ≠ 0 for an element of `kind` (NaN is non-zero, −0 is zero). */
// @ts-ignore: decorator
@inline function isNonZero(x: usize, i: usize, kind: i32): bool {
  if (kind == ELEM_F32) return load<f32>(x + (i << 2)) != 0;
  if (kind == ELEM_I32) return load<i32>(x + (i << 2)) != 0;
  if (kind == ELEM_I64) return load<i64>(x + (i << 3)) != 0;
  return load<u8>(x + i) != 0;
}

/**
 * NonZero: the coordinates of the non-zero elements of x (n elements, dims table[0..rank)), in
 * row-major order, as y = i64 [rank, count]: y[d, j] is coordinate d of the j-th non-zero element.
 * rank ≥ 1 (a scalar is [1]).
 */
export function nonzero(x: usize, y: usize, n: i32, rank: i32, table: usize, kind: i32, count: usize, max: i32): void {
  let k = 0;
  for (let i = 0; i < n; i++) if (isNonZero(x, <usize>i, kind)) k++;
  store<i32>(count, k);
  if (k > max) return;
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (!isNonZero(x, <usize>i, kind)) continue;
    let rem = i;
    for (let d = rank - 1; d >= 0; d--) {
      const dim = load<i32>(table + (<usize>d << 2));
      store<i64>(y + ((<usize>d * <usize>k + <usize>j) << 3), <i64>(rem % dim));
      rem /= dim;
    }
    j++;
  }
}

/**
 * Compress: x viewed as [outer, len, inner]; y = [outer, count, inner] keeps the slices j < min(len,
 * condLen) whose cond[j] (bool, u8) is true, in order (condition entries past the axis are ignored, as
 * onnxruntime does). elemBytes 1, 2, 4 or 8.
 */
export function compress(
  x: usize, cond: usize, y: usize, outer: i32, len: i32, inner: i32, condLen: i32, elemBytes: i32, count: usize,
  max: i32,
): void {
  const valid = min(len, condLen);
  let k = 0;
  for (let j = 0; j < valid; j++) if (load<u8>(cond + <usize>j) != 0) k++;
  store<i32>(count, k);
  if (k > max) return;
  const block = <usize>inner * <usize>elemBytes;
  let dst = y;
  for (let o = 0; o < outer; o++) {
    const src = x + <usize>o * <usize>len * block;
    for (let j = 0; j < valid; j++) {
      if (load<u8>(cond + <usize>j) == 0) continue;
      memory.copy(dst, src + <usize>j * block, block);
      dst += block;
    }
  }
}

/**
 * Range with run-time bounds: start, limit, delta are scalars of kind (F32, I32, I64); count = max(0,
 * ceil((limit − start) / delta)) computed as onnxruntime does (the difference in the element type, the
 * quotient in f64), and y[i] = start accumulated with delta i times in the element type. Returns 1 when
 * delta is 0 or the count is not a number (NaN, ±Inf bounds), else 0.
 */
export function range(start: usize, limit: usize, delta: usize, y: usize, kind: i32, count: usize, max: i32): i32 {
  let n: f64;
  if (kind == ELEM_F32) {
    const d = load<f32>(delta);
    if (d == 0) return 1;
    n = Math.ceil(<f64>(load<f32>(limit) - load<f32>(start)) / <f64>d);
  } else if (kind == ELEM_I32) {
    const d = load<i32>(delta);
    if (d == 0) return 1;
    n = Math.ceil(<f64>(load<i32>(limit) - load<i32>(start)) / <f64>d);
  } else {
    const d = load<i64>(delta);
    if (d == 0) return 1;
    n = Math.ceil(<f64>(load<i64>(limit) - load<i64>(start)) / <f64>d);
  }
  if (isNaN(n) || !isFinite(n)) return 1;
  const k = n <= 0 ? 0 : n >= 2147483647.0 ? i32.MAX_VALUE : <i32>n;
  store<i32>(count, k);
  if (k > max) return 0;
  if (kind == ELEM_F32) {
    let v = load<f32>(start);
    const d = load<f32>(delta);
    for (let i = 0; i < k; i++, v += d) store<f32>(y + (<usize>i << 2), v);
  } else if (kind == ELEM_I32) {
    let v = load<i32>(start);
    const d = load<i32>(delta);
    for (let i = 0; i < k; i++, v += d) store<i32>(y + (<usize>i << 2), v);
  } else {
    let v = load<i64>(start);
    const d = load<i64>(delta);
    for (let i = 0; i < k; i++, v += d) store<i64>(y + (<usize>i << 3), v);
  }
  return 0;
}

/** y[i] = start + i·delta for i < n, written as kind (F32, I32, I64): Range over sizes known as expressions. */
export function iota(y: usize, n: i32, start: i32, delta: i32, kind: i32): void {
  for (let i = 0; i < n; i++) {
    const v = <i64>start + <i64>i * <i64>delta;
    if (kind == ELEM_F32) store<f32>(y + (<usize>i << 2), <f32>v);
    else if (kind == ELEM_I32) store<i32>(y + (<usize>i << 2), <i32>v);
    else store<i64>(y + (<usize>i << 3), v);
  }
}

// ---- Unique ----------------------------------------------------------------------------------------

/** −1, 0, 1: element a against b (floats: −0 = 0, NaN above every number and equal to NaN). */
// @ts-ignore: decorator
@inline function compareAt(x: usize, a: usize, b: usize, kind: i32): i32 {
  if (kind == ELEM_F32) {
    const u = load<f32>(x + (a << 2));
    const v = load<f32>(x + (b << 2));
    if (u < v) return -1;
    if (u > v) return 1;
    if (u == v) return 0;
    return isNaN(u) ? (isNaN(v) ? 0 : 1) : -1;
  }
  if (kind == ELEM_I32) {
    const u = load<i32>(x + (a << 2));
    const v = load<i32>(x + (b << 2));
    return u < v ? -1 : u > v ? 1 : 0;
  }
  if (kind == ELEM_I64) {
    const u = load<i64>(x + (a << 3));
    const v = load<i64>(x + (b << 3));
    return u < v ? -1 : u > v ? 1 : 0;
  }
  if (kind == ELEM_U8) {
    const u = load<u8>(x + a);
    const v = load<u8>(x + b);
    return u < v ? -1 : u > v ? 1 : 0;
  }
  const u = load<i8>(x + a);
  const v = load<i8>(x + b);
  return u < v ? -1 : u > v ? 1 : 0;
}

/** Slices a and b of x [outer, len, inner] compared lexicographically, outer-major (numpy's order). */
function compareSlices(x: usize, a: i32, b: i32, outer: i32, len: i32, inner: i32, kind: i32): i32 {
  for (let o = 0; o < outer; o++) {
    const row = <usize>o * <usize>len;
    for (let i = 0; i < inner; i++) {
      const c = compareAt(x, (row + <usize>a) * <usize>inner + <usize>i, (row + <usize>b) * <usize>inner + <usize>i, kind);
      if (c != 0) return c;
    }
  }
  return 0;
}

/** Stable bottom-up merge sort of the i32 slice numbers in perm[0..len) (tmp: len i32 of scratch). */
function sortSlices(perm: usize, tmp: usize, x: usize, outer: i32, len: i32, inner: i32, kind: i32): void {
  let src = perm;
  let dst = tmp;
  for (let width = 1; width < len; width <<= 1) {
    for (let lo = 0; lo < len; lo += width << 1) {
      const mid = min(lo + width, len);
      const hi = min(lo + (width << 1), len);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        let take: i32;
        if (i < mid && (j >= hi || compareSlices(x, load<i32>(src + (<usize>j << 2)), load<i32>(src + (<usize>i << 2)), outer, len, inner, kind) >= 0)) {
          take = load<i32>(src + (<usize>i << 2));
          i++;
        } else {
          take = load<i32>(src + (<usize>j << 2));
          j++;
        }
        store<i32>(dst + (<usize>k << 2), take);
      }
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != perm) memory.copy(perm, src, <usize>len << 2);
}

/**
 * Unique over the slices of x viewed as [outer, len, inner] (slice j = x[:, j, :]; no axis: outer =
 * inner = 1). count = the number of distinct slices; y = [outer, count, inner] holds them (sorted = 1:
 * ascending, lexicographic in outer-major order; sorted = 0: in order of first occurrence), first = i64
 * [count] the index of each one's first occurrence, inverse = i64 [len] the output index of every slice,
 * counts = i64 [count] how often each occurs. Floats: −0 equals 0, NaNs equal each other (sorted last).
 * scratch: ≥ 3·len i32. kind: CODES.ELEM.
 */
export function unique(
  x: usize, y: usize, first: usize, inverse: usize, counts: usize, outer: i32, len: i32, inner: i32, sorted: i32,
  kind: i32, scratch: usize, count: usize, max: i32,
): void {
  const perm = scratch;
  const tmp = scratch + (<usize>len << 2);
  const group = tmp + (<usize>len << 2);
  for (let j = 0; j < len; j++) store<i32>(perm + (<usize>j << 2), j);
  sortSlices(perm, tmp, x, outer, len, inner, kind);
  // Groups of equal slices, in sorted order; the stable sort puts each group's first occurrence first.
  let G = 0;
  for (let k = 0; k < len; k++) {
    const j = load<i32>(perm + (<usize>k << 2));
    if (k > 0 && compareSlices(x, load<i32>(perm + (<usize>(k - 1) << 2)), j, outer, len, inner, kind) != 0) G++;
    store<i32>(group + (<usize>j << 2), G);
  }
  if (len > 0) G++;
  store<i32>(count, G);
  if (G > max) return;
  // The output index of each group (tmp reused): sorted order, or order of first occurrence.
  const outId = tmp;
  for (let g = 0; g < G; g++) store<i32>(outId + (<usize>g << 2), sorted ? g : -1);
  if (!sorted) {
    let next = 0;
    for (let j = 0; j < len; j++) {
      const at = outId + (<usize>load<i32>(group + (<usize>j << 2)) << 2);
      if (load<i32>(at) < 0) store<i32>(at, next++);
    }
  }
  const eb = kind == ELEM_I64 ? 8 : kind == ELEM_F32 || kind == ELEM_I32 ? 4 : 1;
  let k = 0;
  while (k < len) {
    const j = load<i32>(perm + (<usize>k << 2));
    const g = load<i32>(group + (<usize>j << 2));
    let end = k + 1;
    while (end < len && load<i32>(group + (<usize>load<i32>(perm + (<usize>end << 2)) << 2)) == g) end++;
    const u = load<i32>(outId + (<usize>g << 2));
    store<i64>(first + (<usize>u << 3), <i64>j);
    store<i64>(counts + (<usize>u << 3), <i64>(end - k));
    for (let o = 0; o < outer; o++) {
      const src = x + ((<usize>o * <usize>len + <usize>j) * <usize>inner) * <usize>eb;
      const dst = y + ((<usize>o * <usize>G + <usize>u) * <usize>inner) * <usize>eb;
      for (let i = 0; i < inner; i++) copyElement(dst + <usize>i * <usize>eb, src + <usize>i * <usize>eb, eb);
    }
    k = end;
  }
  for (let j = 0; j < len; j++)
    store<i64>(inverse + (<usize>j << 3), <i64>load<i32>(outId + (<usize>load<i32>(group + (<usize>j << 2)) << 2)));
}
