// Nearest-neighbour Resize for elements of any size (float32 through `resize`, and bool/uint8/int8,
// float16, int32, int64/float64 through `resize_nearest`): a pure gather, so no arithmetic on the values.

import { RESIZE_NEAREST } from "./generated/abi";
import {
  buildAxes,
  field,
  validSizes,
  spanLo,
  spanHi,
  inProduct,
  outProduct,
  advance,
  anyFlagged,
  gather4,
  F_OUT,
  F_IDX,
  F_XSTRIDE,
  F_NFLAGS,
  F_FLAGS,
} from "./resize_axes";

/**
 * ONNX Resize with mode "nearest" (and Upsample "nearest") for contiguous row-major tensors of elements of
 * `elemSize` bytes (1, 2, 4 or 8). table, roi, coord, nearest and scratch as for `resize` (scratch:
 * resizeScratchBytes(CODES.RESIZE.NEAREST, out lengths)); fill: one element (elemSize bytes), the
 * extrapolation_value cast to the tensor's type (tf_crop_and_resize; else unused). The picked element is
 * copied as it is (bit for bit), as onnxruntime does.
 */
export function resize_nearest(
  x: usize,
  y: usize,
  rank: i32,
  table: usize,
  roi: usize,
  scratch: usize,
  coord: i32,
  nearest: i32,
  elemSize: i32,
  fill: usize,
): void {
  if (elemSize != 1 && elemSize != 2 && elemSize != 4 && elemSize != 8) return;
  if (!validSizes(rank, table)) return;
  const free = buildAxes(rank, table, roi, scratch, RESIZE_NEAREST, coord, nearest, 0, 0);
  resampleNearest(x, y, rank, scratch, free, elemSize, fill);
}

/** Gathers y from x with the one tap per output that buildAxes wrote (the nearest input). */
export function resampleNearest(
  x: usize,
  y: usize,
  rank: i32,
  scratch: usize,
  free: usize,
  es: i32,
  fill: usize,
): void {
  const lo = spanLo(rank, scratch);
  const hi = spanHi(rank, scratch);
  const size = <usize>es;
  if (lo > hi) {
    memory.copy(y, x, <usize>inProduct(scratch, 0, rank) * size);
    return;
  }
  const outer = inProduct(scratch, 0, lo);
  const inner = inProduct(scratch, hi + 1, rank);
  const planeIn = <usize>inProduct(scratch, lo, rank) * size;
  const planeOut = <usize>outProduct(scratch, lo, rank) * size;
  const state = free;
  if (inner > 1) {
    const runs = outProduct(scratch, lo, hi + 1);
    const runBytes = <usize>inner * size;
    for (let p = 0; p < outer; p++) {
      const xp = x + <usize>p * planeIn;
      let dst = y + <usize>p * planeOut;
      for (let a = lo; a <= hi; a++) store<i32>(state + (<usize>(a - lo) << 2), 0);
      for (let r = 0; r < runs; r++) {
        if (anyFlagged(state, scratch, lo, hi + 1)) fillElements(dst, inner, fill, es);
        else copyRun(dst, xp + <usize>sourceOffset(state, scratch, lo, hi + 1) * size, runBytes);
        dst += runBytes;
        advance(state, scratch, lo, hi + 1);
      }
    }
    return;
  }
  const L = field(scratch, hi, F_OUT);
  const idxX = <usize>field(scratch, hi, F_IDX);
  const rowBytes = <usize>L * size;
  const rows = outProduct(scratch, lo, hi);
  const lastFlags = field(scratch, hi, F_NFLAGS) > 0 ? <usize>field(scratch, hi, F_FLAGS) : 0;
  for (let p = 0; p < outer; p++) {
    const xp = x + <usize>p * planeIn;
    let dst = y + <usize>p * planeOut;
    for (let a = lo; a < hi; a++) store<i32>(state + (<usize>(a - lo) << 2), 0);
    let previous: usize = 0; // source row of the row just written (0: none to copy from)
    for (let r = 0; r < rows; r++) {
      if (anyFlagged(state, scratch, lo, hi)) {
        fillElements(dst, L, fill, es);
        previous = 0;
      } else {
        const src = xp + <usize>sourceOffset(state, scratch, lo, hi) * size;
        // Upsampled rows repeat: copy the row just written instead of gathering it again.
        if (src == previous) memory.copy(dst, dst - rowBytes, rowBytes);
        else gatherRow(src, dst, L, idxX, es);
        previous = src;
        if (lastFlags != 0) {
          for (let o = 0; o < L; o++) {
            if (load<i32>(lastFlags + (<usize>o << 2)) != 0) fillElements(dst + <usize>o * size, 1, fill, es);
          }
        }
      }
      dst += rowBytes;
      advance(state, scratch, lo, hi);
    }
  }
}

/** Input element offset of the nearest taps of axes [lo, hi) at the odometer's outputs. */
// @ts-ignore: decorator
@inline function sourceOffset(state: usize, scratch: usize, lo: i32, hi: i32): i32 {
  let off = 0;
  for (let a = lo; a < hi; a++) {
    const o = load<i32>(state + (<usize>(a - lo) << 2));
    off += load<i32>(<usize>field(scratch, a, F_IDX) + (<usize>o << 2)) * field(scratch, a, F_XSTRIDE);
  }
  return off;
}

/** dst[o] = src[idx[o]] for o < L, elements of es bytes. */
function gatherRow(src: usize, dst: usize, L: i32, idx: usize, es: i32): void {
  let o = 0;
  if (es == 4) {
    for (; o + 4 <= L; o += 4) v128.store(dst + (<usize>o << 2), gather4(src, idx + (<usize>o << 2)));
    for (; o < L; o++) store<u32>(dst + (<usize>o << 2), load<u32>(src + at(idx, o, 2)));
  } else if (es == 8) {
    for (; o < L; o++) store<u64>(dst + (<usize>o << 3), load<u64>(src + at(idx, o, 3)));
  } else if (es == 2) {
    for (; o < L; o++) store<u16>(dst + (<usize>o << 1), load<u16>(src + at(idx, o, 1)));
  } else {
    for (; o < L; o++) store<u8>(dst + <usize>o, load<u8>(src + at(idx, o, 0)));
  }
}

/** Byte offset of the element idx[o] points at (elements of 1 << shift bytes). */
// @ts-ignore: decorator
@inline function at(idx: usize, o: i32, shift: i32): usize {
  return <usize>load<i32>(idx + (<usize>o << 2)) << <usize>shift;
}

/** n elements of es bytes, each a copy of the element at `value`. */
export function fillElements(dst: usize, n: i32, value: usize, es: i32): void {
  if (es == 4) {
    const v = load<u32>(value);
    const vv = i32x4.splat(v);
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), vv);
    for (; i < n; i++) store<u32>(dst + (<usize>i << 2), v);
  } else if (es == 8) {
    const v = load<u64>(value);
    for (let i = 0; i < n; i++) store<u64>(dst + (<usize>i << 3), v);
  } else if (es == 2) {
    const v = load<u16>(value);
    for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), v);
  } else {
    memory.fill(dst, load<u8>(value), <usize>n);
  }
}

// @ts-ignore: decorator
@inline function copyRun(dst: usize, src: usize, bytes: usize): void {
  if (bytes >= 64) {
    memory.copy(dst, src, bytes);
    return;
  }
  while (bytes >= 8) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
    bytes -= 8;
  }
  while (bytes > 0) {
    store<u8>(dst, load<u8>(src));
    dst++;
    src++;
    bytes--;
  }
}
