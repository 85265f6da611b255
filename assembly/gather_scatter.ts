// GatherElements, GatherND, ScatterElements (and opset 9's Scatter), ScatterND: elements or slices moved
// by run-time indices. Indices are i32 or i64 (`idxBytes` 4 or 8); a negative index counts from the end
// of its axis. An index outside [−n, n−1] is refused as onnxruntime refuses it: the kernel stops and
// returns 1 + the index's position in the indices tensor (the model's call then fails with that
// message); it never reads or writes outside the tensors. 0 means every index was used.
// Dims and strides are in elements; tables are i32.

import { ELEM_F32, ELEM_I32, ELEM_I64, ELEM_U8, SCATTER_ADD, SCATTER_MAX, SCATTER_MIN, SCATTER_MUL } from "./generated/abi";

/** The i-th index (i32 or i64). */
// @ts-ignore: decorator
@inline export function loadIndex(idx: usize, i: usize, idxBytes: i32): i64 {
  return idxBytes == 8 ? load<i64>(idx + (i << 3)) : <i64>load<i32>(idx + (i << 2));
}

/** Copies one element of 1, 2, 4 or 8 bytes. */
// @ts-ignore: decorator
@inline export function copyElement(dst: usize, src: usize, bytes: i32): void {
  if (bytes == 4) store<u32>(dst, load<u32>(src));
  else if (bytes == 8) store<u64>(dst, load<u64>(src));
  else if (bytes == 1) store<u8>(dst, load<u8>(src));
  else store<u16>(dst, load<u16>(src));
}

// @ts-ignore: decorator
@inline function dimAt(table: usize, d: i32): i32 {
  return load<i32>(table + (<usize>d << 2));
}

/**
 * GatherElements: y[c] = x[c with c_axis replaced by idx[c]] for every position c of the indices
 * (y has the indices' dims). table = [out dims (rank)…, x dims (rank)…]; out dims must not exceed x's
 * off the axis (the op handler checks). rank ≥ 1; elemBytes 1, 2, 4 or 8.
 */
export function gather_elements(
  x: usize, idx: usize, y: usize, rank: i32, table: usize, axis: i32, idxBytes: i32, elemBytes: i32,
): i32 {
  return elementsLoop(y, idx, x, rank, table, axis, idxBytes, elemBytes, -1, 0);
}

/**
 * ScatterElements (and Scatter): y[c with c_axis replaced by idx[c]] ⊕= upd[c] for every position c of
 * the indices, in order (the last of duplicate indices wins for reduction none). y holds the data
 * already (the op handler copies it first). table = [indices dims (rank)…, y dims (rank)…]; upd has the
 * indices' dims. kind: CODES.ELEM (the arithmetic of ⊕); reduction: CODES.SCATTER (none, add, mul, max,
 * min; max and min as std::max / std::min, as onnxruntime: a NaN already in y stays, a NaN update
 * does not replace a number).
 */
export function scatter_elements(
  y: usize, idx: usize, upd: usize, rank: i32, table: usize, axis: i32, idxBytes: i32, kind: i32, reduction: i32,
): i32 {
  return elementsLoop(upd, idx, y, rank, table, axis, idxBytes, elemBytesOf(kind), kind, reduction);
}

// @ts-ignore: decorator
@inline function elemBytesOf(kind: i32): i32 {
  return kind == ELEM_I64 ? 8 : kind == ELEM_F32 || kind == ELEM_I32 ? 4 : 1;
}

/**
 * The loop both share: over every position c of the indices (dims table[0..rank)), the element at c in
 * the index-shaped tensor and the element at c (axis replaced by the index) in the big one (dims
 * table[rank..2·rank)). kind < 0: gather (big → small); else scatter (small ⊕ into big).
 */
// @ts-ignore: decorator
@inline function elementsLoop(
  small: usize, idx: usize, big: usize, rank: i32, table: usize, axis: i32, idxBytes: i32, eb: i32, kind: i32,
  reduction: i32,
): i32 {
  if (rank < 1) return 0;
  const last = rank - 1;
  const D = dimAt(table, last);
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= dimAt(table, d);
  if (D <= 0 || rows <= 0) return 0;
  const axisLen = <i64>dimAt(table, rank + axis);
  let axisStride: usize = 1;
  for (let d = axis + 1; d < rank; d++) axisStride *= <usize>dimAt(table, rank + d);
  const gathering = kind < 0;
  for (let r = 0; r < rows; r++) {
    // The row's coordinates (off the last axis) as an offset into the big tensor, the axis left out.
    let rem = r;
    let base: usize = 0;
    let stride: usize = <usize>dimAt(table, rank + last);
    for (let d = last - 1; d >= 0; d--) {
      const n = dimAt(table, d);
      const c = rem % n;
      rem /= n;
      if (d != axis) base += <usize>c * stride;
      stride *= <usize>dimAt(table, rank + d);
    }
    for (let i = 0; i < D; i++) {
      const p = <usize>r * <usize>D + <usize>i;
      let j = loadIndex(idx, p, idxBytes);
      if (j < 0) j += axisLen;
      if (j < 0 || j >= axisLen) return <i32>p + 1;
      const at = axis == last ? base + <usize>j : base + <usize>i + <usize>j * axisStride;
      if (gathering) copyElement(small + p * <usize>eb, big + at * <usize>eb, eb);
      else combineAt(big + at * <usize>eb, small + p * <usize>eb, kind, reduction);
    }
  }
  return 0;
}

/** *dst = *dst ⊕ *src for one element of `kind`. */
// @ts-ignore: decorator
@inline function combineAt(dst: usize, src: usize, kind: i32, reduction: i32): void {
  if (kind == ELEM_F32) store<f32>(dst, combine<f32>(load<f32>(dst), load<f32>(src), reduction));
  else if (kind == ELEM_I32) store<i32>(dst, combine<i32>(load<i32>(dst), load<i32>(src), reduction));
  else if (kind == ELEM_I64) store<i64>(dst, combine<i64>(load<i64>(dst), load<i64>(src), reduction));
  else if (kind == ELEM_U8) store<u8>(dst, combine<u8>(load<u8>(dst), load<u8>(src), reduction));
  else store<i8>(dst, combine<i8>(load<i8>(dst), load<i8>(src), reduction));
}

// @ts-ignore: decorator
@inline function combine<T>(a: T, b: T, reduction: i32): T {
  if (reduction == SCATTER_ADD) return a + b;
  if (reduction == SCATTER_MUL) return a * b;
  if (reduction == SCATTER_MAX) return a < b ? b : a;
  if (reduction == SCATTER_MIN) return b < a ? b : a;
  return b;
}

/** Σ_k j_k · Π_{m>k} D_m over the q index entries at `at`, or −1 − k for the first entry k out of range. */
// @ts-ignore: decorator
@inline function cellOf(idx: usize, at: usize, q: i32, table: usize, idxBytes: i32): i64 {
  let cell: i64 = 0;
  for (let k = 0; k < q; k++) {
    const n = <i64>dimAt(table, k);
    let j = loadIndex(idx, at + <usize>k, idxBytes);
    if (j < 0) j += n;
    if (j < 0 || j >= n) return -1 - <i64>k;
    cell = cell * n + j;
  }
  return cell;
}

/**
 * GatherND: x viewed as [batches, D_0 … D_{q−1}, slice], idx as [batches, count, q], y as [batches,
 * count, slice]: y[b, c, :] = x[b, idx[b, c, 0], …, idx[b, c, q−1], :]. table = [D_0 … D_{q−1}]
 * (batch_dims folded into `batches`). q ≥ 1; elemBytes 1, 2, 4 or 8.
 */
export function gather_nd(
  x: usize, idx: usize, y: usize, batches: i32, count: i32, q: i32, slice: i32, table: usize, idxBytes: i32,
  elemBytes: i32,
): i32 {
  let cells: usize = 1;
  for (let k = 0; k < q; k++) cells *= <usize>dimAt(table, k);
  const sliceBytes = <usize>slice * <usize>elemBytes;
  for (let b = 0; b < batches; b++) {
    for (let c = 0; c < count; c++) {
      const row = <usize>b * <usize>count + <usize>c;
      const cell = cellOf(idx, row * <usize>q, q, table, idxBytes);
      if (cell < 0) return <i32>(row * <usize>q + <usize>(-1 - cell)) + 1;
      memory.copy(y + row * sliceBytes, x + (<usize>b * cells + <usize>cell) * sliceBytes, sliceBytes);
    }
  }
  return 0;
}

/**
 * ScatterND: y viewed as [D_0 … D_{q−1}, slice], idx as [count, q], upd as [count, slice]: y[idx[c, :],
 * :] ⊕= upd[c, :] for c in order. y holds the data already. table = [D_0 … D_{q−1}]; kind and reduction
 * as scatter_elements.
 */
export function scatter_nd(
  y: usize, idx: usize, upd: usize, count: i32, q: i32, slice: i32, table: usize, idxBytes: i32, kind: i32,
  reduction: i32,
): i32 {
  const eb = <usize>elemBytesOf(kind);
  const sliceBytes = <usize>slice * eb;
  for (let c = 0; c < count; c++) {
    const cell = cellOf(idx, <usize>c * <usize>q, q, table, idxBytes);
    if (cell < 0) return c * q + <i32>(-1 - cell) + 1;
    const dst = y + <usize>cell * sliceBytes;
    const src = upd + <usize>c * sliceBytes;
    if (reduction == 0) memory.copy(dst, src, sliceBytes);
    else for (let i: usize = 0; i < <usize>slice; i++) combineAt(dst + i * eb, src + i * eb, kind, reduction);
  }
  return 0;
}
