// Resize / Upsample over N-D row-major tensors. The taps of every axis come from resize_axes.ts; here they
// are applied. Axes whose resize is the identity are skipped; the tensor is then [outer identity axes] ×
// [resized middle axes] × [inner identity axes]. Two ways through it:
//  - inner > 1 (e.g. NHWC, or only H of NCHW resized): each output run of `inner` contiguous elements is a
//    weighted sum of input runs (SIMD over the run);
//  - inner == 1 (the last axis resized, e.g. NCHW images): each input row is resized along the last axis
//    once (kept in a small row cache while the next output rows still need it), then output rows are
//    weighted sums of those rows (SIMD over the row). For 2-D bilinear this is the separable
//    horizontal-then-vertical pass.

import { RESIZE_NEAREST } from "./generated/abi";
import {
  buildAxes,
  field,
  modeTaps,
  align16,
  validSizes,
  spanLo,
  spanHi,
  inProduct,
  outProduct,
  advance,
  anyFlagged,
  gather4,
  F_IN,
  F_OUT,
  F_TAPS,
  F_IDX,
  F_W,
  F_FLAGS,
  F_NFLAGS,
  F_XSTRIDE,
} from "./resize_axes";
import { resampleNearest, fillElements } from "./resize_nearest";

/**
 * ONNX Resize (opsets 10–19) and Upsample (7–9) of float32 x into y, both contiguous row-major of `rank`
 * dims. table: per axis 12 bytes — i32 input length, i32 output length, f32 scale (`scales[a]`; 0 when
 * `sizes` were given: the kernel then uses out/in in double precision). roi: f32 [starts…, ends…] (2·rank,
 * every axis) for coord = COORD.TF_CROP_AND_RESIZE, else unused (0). mode: CODES.RESIZE; coord: CODES.COORD;
 * nearest: CODES.NEAREST (nearest mode only); cubicA: cubic_coeff_a; excludeOutside: 0/1 (linear, cubic);
 * extrapolation: extrapolation_value (tf_crop_and_resize).
 * scratch: resizeScratchBytes(mode, out lengths) bytes (compiler/abi/resample.ts), any alignment.
 * Lengths ≥ 0; an axis with output length > 0 needs input length ≥ 1. No overlap of x and y.
 */
export function resize(
  x: usize,
  y: usize,
  rank: i32,
  table: usize,
  roi: usize,
  scratch: usize,
  mode: i32,
  coord: i32,
  nearest: i32,
  cubicA: f32,
  excludeOutside: i32,
  extrapolation: f32,
): void {
  if (!validSizes(rank, table)) return;
  const free = buildAxes(rank, table, roi, scratch, mode, coord, nearest, cubicA, excludeOutside);
  store<f32>(scratch, extrapolation);
  if (mode == RESIZE_NEAREST) resampleNearest(x, y, rank, scratch, free, 4, scratch);
  else resampleInterpolated(x, y, rank, scratch, free, modeTaps(mode));
}

/** Input element offset and weight of one tap combination (taps in `tapState`) at the current outputs. */
// @ts-ignore: decorator
@inline function comboOffset(state: usize, tapState: usize, scratch: usize, lo: i32, hi: i32): i32 {
  let off = 0;
  for (let a = lo; a < hi; a++) {
    const o = load<i32>(state + (<usize>(a - lo) << 2));
    const t = load<i32>(tapState + (<usize>(a - lo) << 2));
    const at = <usize>(t * field(scratch, a, F_OUT) + o) << 2;
    off += load<i32>(<usize>field(scratch, a, F_IDX) + at) * field(scratch, a, F_XSTRIDE);
  }
  return off;
}

// @ts-ignore: decorator
@inline function comboWeight(state: usize, tapState: usize, scratch: usize, lo: i32, hi: i32): f32 {
  let w: f32 = 1;
  for (let a = lo; a < hi; a++) {
    const o = load<i32>(state + (<usize>(a - lo) << 2));
    const t = load<i32>(tapState + (<usize>(a - lo) << 2));
    w *= load<f32>(<usize>field(scratch, a, F_W) + (<usize>(t * field(scratch, a, F_OUT) + o) << 2));
  }
  return w;
}

/** Next tap combination; false after the last. */
// @ts-ignore: decorator
@inline function nextCombo(tapState: usize, scratch: usize, lo: i32, hi: i32): bool {
  for (let a = hi - 1; a >= lo; a--) {
    const p = tapState + (<usize>(a - lo) << 2);
    const v = load<i32>(p) + 1;
    if (v < field(scratch, a, F_TAPS)) {
      store<i32>(p, v);
      return true;
    }
    store<i32>(p, 0);
  }
  return false;
}

// @ts-ignore: decorator
@inline function zeroWords(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(p + (<usize>i << 2), 0);
}

/** dst[i] = w·src[i] (first = true) or dst[i] += w·src[i], for n floats. */
// @ts-ignore: decorator
@inline function blend(dst: usize, src: usize, n: i32, w: f32, first: bool): void {
  const wv = f32x4.splat(w);
  let i = 0;
  if (first) {
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.mul(v128.load(src + (<usize>i << 2)), wv));
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) * w);
  } else {
    for (; i + 4 <= n; i += 4) {
      const p = dst + (<usize>i << 2);
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(v128.load(src + (<usize>i << 2)), wv)));
    }
    for (; i < n; i++) {
      const p = dst + (<usize>i << 2);
      store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>i << 2)) * w);
    }
  }
}

/** dst[i] = (wa·a[i] + wb·b[i]) (first = true), or dst[i] += (wa·a[i] + wb·b[i]), for n floats. */
// @ts-ignore: decorator
@inline function blend2(dst: usize, a: usize, b: usize, n: i32, wa: f32, wb: f32, first: bool): void {
  const av = f32x4.splat(wa);
  const bv = f32x4.splat(wb);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    const v = f32x4.add(f32x4.mul(v128.load(a + q), av), f32x4.mul(v128.load(b + q), bv));
    v128.store(dst + q, first ? v : f32x4.add(v128.load(dst + q), v));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    const v = load<f32>(a + q) * wa + load<f32>(b + q) * wb;
    store<f32>(dst + q, first ? v : load<f32>(dst + q) + v);
  }
}

/** Linear / cubic: T taps per output on every resized axis. */
function resampleInterpolated(x: usize, y: usize, rank: i32, scratch: usize, free: usize, T: i32): void {
  const lo = spanLo(rank, scratch);
  const hi = spanHi(rank, scratch);
  const extrapolation = load<f32>(scratch);
  if (lo > hi) {
    memory.copy(y, x, <usize>inProduct(scratch, 0, rank) << 2);
    return;
  }
  const outer = inProduct(scratch, 0, lo);
  const inner = inProduct(scratch, hi + 1, rank);
  const planeIn = <usize>inProduct(scratch, lo, rank) << 2;
  const planeOut = <usize>outProduct(scratch, lo, rank) << 2;
  const state = free;
  const tapState = free + (<usize>rank << 2);
  if (inner > 1) {
    // Runs of `inner` elements (trailing identity axes, e.g. NHWC channels). Output rows over the resized
    // axes but the last one (hi); along hi, each output run sums T input runs per tap combination.
    const L = field(scratch, hi, F_OUT);
    const TH = field(scratch, hi, F_TAPS);
    const idxH = <usize>field(scratch, hi, F_IDX);
    const wH = <usize>field(scratch, hi, F_W);
    const planeH = <usize>L << 2;
    const runBytes = <usize>inner << 2;
    const rowBytes = <usize>L * runBytes;
    const rows = outProduct(scratch, lo, hi);
    const flagsH = field(scratch, hi, F_NFLAGS) > 0 ? <usize>field(scratch, hi, F_FLAGS) : 0;
    for (let p = 0; p < outer; p++) {
      const xp = x + <usize>p * planeIn;
      let dst = y + <usize>p * planeOut;
      zeroWords(state, hi - lo);
      for (let r = 0; r < rows; r++) {
        if (anyFlagged(state, scratch, lo, hi)) {
          fillElements(dst, L * inner, scratch, 4);
        } else {
          zeroWords(tapState, hi - lo);
          let first = true;
          do {
            const src = xp + (<usize>comboOffset(state, tapState, scratch, lo, hi) << 2);
            const wr = comboWeight(state, tapState, scratch, lo, hi);
            let d = dst;
            for (let o = 0; o < L; o++) {
              const q = <usize>o << 2;
              for (let t = 0; t < TH; t++) {
                const at = <usize>t * planeH + q;
                const s = src + <usize>load<i32>(idxH + at) * runBytes;
                blend(d, s, inner, wr * load<f32>(wH + at), first && t == 0);
              }
              d += runBytes;
            }
            first = false;
          } while (nextCombo(tapState, scratch, lo, hi));
          if (flagsH != 0) {
            for (let o = 0; o < L; o++) {
              if (load<i32>(flagsH + (<usize>o << 2)) != 0) fillElements(dst + <usize>o * runBytes, inner, scratch, 4);
            }
          }
        }
        dst += rowBytes;
        advance(state, scratch, lo, hi);
      }
    }
    return;
  }
  // The last axis is resized: rows. Row axes are [lo, hi); the last axis (hi) is resized row by row.
  const L = field(scratch, hi, F_OUT);
  const inRow = field(scratch, hi, F_IN);
  const idxX = <usize>field(scratch, hi, F_IDX);
  const wX = <usize>field(scratch, hi, F_W);
  const rowBytes = <usize>L << 2;
  const rows = outProduct(scratch, lo, hi);
  const planeRows = inProduct(scratch, lo, hi);
  const cacheKeys = align16(tapState + (<usize>rank << 2));
  const cache = align16(cacheKeys + (<usize>T << 2));
  for (let s = 0; s < T; s++) store<i32>(cacheKeys + (<usize>s << 2), -1);
  const lastFlags = field(scratch, hi, F_NFLAGS) > 0 ? <usize>field(scratch, hi, F_FLAGS) : 0;
  for (let p = 0; p < outer; p++) {
    const xp = x + <usize>p * planeIn;
    let dst = y + <usize>p * planeOut;
    zeroWords(state, hi - lo);
    for (let r = 0; r < rows; r++) {
      if (anyFlagged(state, scratch, lo, hi)) {
        fillElements(dst, L, scratch, 4);
      } else if (lo == hi) {
        resizeRow(xp, dst, L, T, idxX, wX);
      } else {
        zeroWords(tapState, hi - lo);
        let first = true;
        // Rows are blended in pairs (one pass over dst per two rows); `held` is a row waiting for its pair.
        let held: usize = 0;
        let heldSlot = -1;
        let heldW: f32 = 0;
        do {
          // The input row (by its index in the whole tensor) resized along the last axis, from the
          // cache: one slot per row index mod T, so the T consecutive rows an output row needs coexist.
          const rowIndex = p * planeRows + comboOffset(state, tapState, scratch, lo, hi) / inRow;
          const w = comboWeight(state, tapState, scratch, lo, hi);
          const slot = rowIndex % T;
          const h = cache + <usize>slot * rowBytes;
          if (load<i32>(cacheKeys + (<usize>slot << 2)) != rowIndex) {
            if (slot == heldSlot) {
              // Loading this row would overwrite the held one: blend that alone first.
              blend(dst, held, L, heldW, first);
              first = false;
              heldSlot = -1;
            }
            resizeRow(x + ((<usize>rowIndex * <usize>inRow) << 2), h, L, T, idxX, wX);
            store<i32>(cacheKeys + (<usize>slot << 2), rowIndex);
          }
          if (heldSlot < 0) {
            held = h;
            heldSlot = slot;
            heldW = w;
          } else {
            blend2(dst, held, h, L, heldW, w, first);
            first = false;
            heldSlot = -1;
          }
        } while (nextCombo(tapState, scratch, lo, hi));
        if (heldSlot >= 0) blend(dst, held, L, heldW, first);
      }
      if (lastFlags != 0) {
        for (let o = 0; o < L; o++) {
          if (load<i32>(lastFlags + (<usize>o << 2)) != 0) store<f32>(dst + (<usize>o << 2), extrapolation);
        }
      }
      dst += rowBytes;
      advance(state, scratch, lo, hi);
    }
  }
}

/** dst[o] = Σ_t w[t][o]·src[idx[t][o]] for o < L (T = 2 or 4; idx/w tap-major [T][L]). */
function resizeRow(src: usize, dst: usize, L: i32, T: i32, idx: usize, w: usize): void {
  const plane = <usize>L << 2;
  let o = 0;
  if (T == 2) {
    for (; o + 4 <= L; o += 4) {
      const q = <usize>o << 2;
      const a = gather4(src, idx + q);
      const b = gather4(src, idx + plane + q);
      v128.store(dst + q, f32x4.add(f32x4.mul(a, v128.load(w + q)), f32x4.mul(b, v128.load(w + plane + q))));
    }
    for (; o < L; o++) {
      const q = <usize>o << 2;
      const a = load<f32>(src + (<usize>load<i32>(idx + q) << 2));
      const b = load<f32>(src + (<usize>load<i32>(idx + plane + q) << 2));
      store<f32>(dst + q, a * load<f32>(w + q) + b * load<f32>(w + plane + q));
    }
    return;
  }
  for (; o + 4 <= L; o += 4) {
    const q = <usize>o << 2;
    let acc = f32x4.mul(gather4(src, idx + q), v128.load(w + q));
    for (let t = 1; t < T; t++) {
      const tq = <usize>t * plane + q;
      acc = f32x4.add(acc, f32x4.mul(gather4(src, idx + tq), v128.load(w + tq)));
    }
    v128.store(dst + q, acc);
  }
  for (; o < L; o++) {
    const q = <usize>o << 2;
    let acc = load<f32>(src + (<usize>load<i32>(idx + q) << 2)) * load<f32>(w + q);
    for (let t = 1; t < T; t++) {
      const tq = <usize>t * plane + q;
      acc += load<f32>(src + (<usize>load<i32>(idx + tq) << 2)) * load<f32>(w + tq);
    }
    store<f32>(dst + q, acc);
  }
}
