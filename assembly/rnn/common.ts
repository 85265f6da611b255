// What the recurrent kernels (lstm.ts, gru.ts, rnn.ts) share: the gate padding, the tensor geometry of both
// ONNX layouts, sequence lengths, state in and out, and the matrix products.
//
// Gates are padded to Hp = ceil(hidden/4)·4 columns each, so every gate of a packed weight row starts on a
// SIMD vector and the gate loops have no tails (padded columns have zero weights and bias; their lanes are
// computed and never stored). Weights are the GEMM panels of assembly/gemm.ts over those padded columns.

import { gemm } from "../gemm";
import { storePartial } from "../vmath";
import { ACT_NONE, PANEL_WIDTH, RNN_CHUNK } from "../generated/abi";

/** Columns per gate in packed weights, scratch and state rows. */
// @ts-ignore: decorator
@inline export function padHidden(hidden: i32): i32 {
  return (hidden + 3) & ~3;
}

/** Time steps whose input projection is one GEMM (bounds the scratch whatever the sequence length). */
// @ts-ignore: decorator
@inline export function chunkSteps(seq: i32): i32 {
  return min(seq, RNN_CHUNK);
}

/** a*b + c exactly as assembly/gemm.ts computes it (fused in the relaxed-SIMD build). */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Adds bias to 8 accumulated columns and stores `cols` of them (gemm.ts storeTile8 without activation). */
// @ts-ignore: decorator
@inline function store8(c: usize, lo: v128, hi: v128, bias: usize, cols: i32): void {
  if (bias != 0) {
    lo = f32x4.add(lo, v128.load(bias));
    hi = f32x4.add(hi, v128.load(bias, 16));
  }
  if (cols >= 8) {
    v128.store(c, lo);
    v128.store(c, hi, 16);
  } else if (cols > 4) {
    v128.store(c, lo);
    storePartial(c + 16, hi, cols - 4);
  } else {
    storePartial(c, lo, cols);
  }
}

/**
 * c[0..N) = a[0..K) · packed w + bias for one row, summed in exactly the order of gemm.ts's 4×8 tiles (one
 * accumulator per 4 columns, k ascending, bias last). gemm's own one-row path splits k over two
 * accumulators, which rounds differently: with this, a row's result does not depend on how many rows were
 * multiplied with it, so one step at a time (streaming) and a whole sequence give the same bits.
 * Four panels at a time keep 8 independent accumulators in flight.
 */
function rowProduct(a: usize, w: usize, bias: usize, c: usize, N: i32, K: i32): void {
  const panels = (N + PANEL_WIDTH - 1) / PANEL_WIDTH;
  const panelBytes = <usize>K * (PANEL_WIDTH * 4);
  const aEnd = a + (<usize>K << 2);
  let p = 0;
  for (; p + 4 <= panels; p += 4) {
    let b0 = w + <usize>p * panelBytes;
    let b1 = b0 + panelBytes;
    let b2 = b1 + panelBytes;
    let b3 = b2 + panelBytes;
    let l0 = i32x4.splat(0), h0 = i32x4.splat(0), l1 = i32x4.splat(0), h1 = i32x4.splat(0);
    let l2 = i32x4.splat(0), h2 = i32x4.splat(0), l3 = i32x4.splat(0), h3 = i32x4.splat(0);
    for (let ap = a; ap < aEnd; ap += 4) {
      const x = v128.load32_splat(ap);
      l0 = madd(x, v128.load(b0), l0);
      h0 = madd(x, v128.load(b0, 16), h0);
      l1 = madd(x, v128.load(b1), l1);
      h1 = madd(x, v128.load(b1, 16), h1);
      l2 = madd(x, v128.load(b2), l2);
      h2 = madd(x, v128.load(b2, 16), h2);
      l3 = madd(x, v128.load(b3), l3);
      h3 = madd(x, v128.load(b3, 16), h3);
      b0 += 32;
      b1 += 32;
      b2 += 32;
      b3 += 32;
    }
    const col = p * PANEL_WIDTH;
    const cp = c + (<usize>col << 2);
    const bp = bias != 0 ? bias + (<usize>col << 2) : 0;
    store8(cp, l0, h0, bp, N - col);
    store8(cp + 32, l1, h1, bp != 0 ? bp + 32 : 0, N - col - 8);
    store8(cp + 64, l2, h2, bp != 0 ? bp + 64 : 0, N - col - 16);
    store8(cp + 96, l3, h3, bp != 0 ? bp + 96 : 0, N - col - 24);
  }
  for (; p < panels; p++) {
    let b0 = w + <usize>p * panelBytes;
    let l0 = i32x4.splat(0), h0 = i32x4.splat(0);
    for (let ap = a; ap < aEnd; ap += 4) {
      const x = v128.load32_splat(ap);
      l0 = madd(x, v128.load(b0), l0);
      h0 = madd(x, v128.load(b0, 16), h0);
      b0 += 32;
    }
    const col = p * PANEL_WIDTH;
    store8(c + (<usize>col << 2), l0, h0, bias != 0 ? bias + (<usize>col << 2) : 0, N - col);
  }
}

/**
 * c = a · packed w + bias for M rows (row strides lda, ldc floats): gemm.ts's tiles for all rows but a
 * lone last one, which rowProduct sums in the same order (see there).
 */
export function product(a: usize, lda: i32, w: usize, bias: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32): void {
  if (M <= 0 || N <= 0) return;
  const tiled = (M & 3) == 1 ? M - 1 : M;
  if (tiled > 0) gemm(a, lda, w, bias, c, ldc, tiled, N, K, ACT_NONE, 0, 0);
  if (tiled < M) rowProduct(a + (<usize>tiled * lda << 2), w, bias, c + (<usize>tiled * ldc << 2), N, K);
}

// ---- sequence lengths ---------------------------------------------------------------------------

/** Batch entry b's length: sequence_lens[b] (i32, or i64 when lensI64) clamped to [0, seq]; seq without lens. */
export function seqLen(lens: usize, lensI64: i32, b: i32, seq: i32): i32 {
  if (lens == 0) return seq;
  const v: i64 = lensI64 != 0 ? load<i64>(lens + (<usize>b << 3)) : <i64>load<i32>(lens + (<usize>b << 2));
  return v < 0 ? 0 : v > <i64>seq ? seq : <i32>v;
}

export function maxLen(lens: usize, lensI64: i32, batch: i32, seq: i32): i32 {
  let m = 0;
  for (let b = 0; b < batch; b++) m = max(m, seqLen(lens, lensI64, b, seq));
  return m;
}

/** The index of the first length outside [0, seq], or −1 (sequence_lens as i32, or i64 when lensI64). */
export function rnn_first_bad_length(lens: usize, lensI64: i32, batch: i32, seq: i32): i32 {
  for (let b = 0; b < batch; b++) {
    const v: i64 = lensI64 != 0 ? load<i64>(lens + (<usize>b << 3)) : <i64>load<i32>(lens + (<usize>b << 2));
    if (v < 0 || v > <i64>seq) return b;
  }
  return -1;
}

// ---- geometry of the two layouts ------------------------------------------------------------------
// layout 0: X [seq, batch, input], Y [seq, dirs, batch, hidden], states [dirs, batch, hidden]
// layout 1: X [batch, seq, input], Y [batch, seq, dirs, hidden], states [batch, dirs, hidden]

/** Floats between time steps of X. */
// @ts-ignore: decorator
@inline export function xTimeStride(layout: i32, batch: i32, inputSize: i32): i32 {
  return layout == 0 ? batch * inputSize : inputSize;
}
/** Floats between batch entries of X. */
// @ts-ignore: decorator
@inline export function xBatchStride(layout: i32, seq: i32, inputSize: i32): i32 {
  return layout == 0 ? inputSize : seq * inputSize;
}
// @ts-ignore: decorator
@inline export function yTimeStride(layout: i32, dirs: i32, batch: i32, hidden: i32): i32 {
  return layout == 0 ? dirs * batch * hidden : dirs * hidden;
}
// @ts-ignore: decorator
@inline export function yBatchStride(layout: i32, seq: i32, dirs: i32, hidden: i32): i32 {
  return layout == 0 ? hidden : seq * dirs * hidden;
}
/** Floats from Y's start to direction dir's slot (of its first time step and batch entry). */
// @ts-ignore: decorator
@inline export function yDirOffset(layout: i32, dir: i32, batch: i32, hidden: i32): i32 {
  return layout == 0 ? dir * batch * hidden : dir * hidden;
}
/** Floats between batch entries of initial_h, initial_c, Y_h, Y_c. */
// @ts-ignore: decorator
@inline export function stateBatchStride(layout: i32, dirs: i32, hidden: i32): i32 {
  return layout == 0 ? hidden : dirs * hidden;
}
/** Floats from a state tensor's start to direction dir's first batch entry. */
// @ts-ignore: decorator
@inline export function stateDirOffset(layout: i32, dir: i32, batch: i32, hidden: i32): i32 {
  return layout == 0 ? dir * batch * hidden : dir * hidden;
}

// ---- state in and out -----------------------------------------------------------------------------

/**
 * Copies a direction's initial state (rows of `hidden` floats every `stride` floats from src + off; src 0 =
 * zeros) into the padded scratch state [batch, Hp], zeroing the padding lanes.
 */
export function loadState(src: usize, stride: i32, off: i32, dst: usize, batch: i32, hidden: i32, Hp: i32): void {
  for (let b = 0; b < batch; b++) {
    const d = dst + (<usize>b * Hp << 2);
    const from = src != 0 ? hidden : 0;
    if (src != 0) memory.copy(d, src + ((<usize>off + <usize>b * stride) << 2), <usize>hidden << 2);
    memory.fill(d + (<usize>from << 2), 0, <usize>(Hp - from) << 2);
  }
}

/**
 * Writes the final state of each batch entry to dst (Y_h or Y_c; 0 = not wanted): its last valid step, or
 * zeros for an entry of length 0 (as onnxruntime).
 */
export function storeState(
  state: usize, Hp: i32, dst: usize, stride: i32, off: i32, lens: usize, lensI64: i32, batch: i32, seq: i32,
  hidden: i32,
): void {
  if (dst == 0) return;
  for (let b = 0; b < batch; b++) {
    const d = dst + ((<usize>off + <usize>b * stride) << 2);
    if (seqLen(lens, lensI64, b, seq) == 0) memory.fill(d, 0, <usize>hidden << 2);
    else memory.copy(d, state + (<usize>b * Hp << 2), <usize>hidden << 2);
  }
}

/** Zeros Y's rows past each batch entry's length (this direction's slots only). */
export function zeroPastEnd(
  y: usize, yT: i32, yB: i32, yOff: i32, lens: usize, lensI64: i32, batch: i32, seq: i32, hidden: i32,
): void {
  if (y == 0 || lens == 0) return;
  for (let b = 0; b < batch; b++) {
    for (let t = seqLen(lens, lensI64, b, seq); t < seq; t++) {
      memory.fill(y + ((<usize>t * yT + <usize>b * yB + <usize>yOff) << 2), 0, <usize>hidden << 2);
    }
  }
}

// ---- the input projection -------------------------------------------------------------------------

/**
 * G[k, b, 0..N) = X[time, b] · packed w + bias for the steps s0 .. s0+T−1 of every batch entry still running:
 * one GEMM per entry over its n_b = min(T, len_b − s0) consecutive time steps (ascending time, k = 0 .. n_b−1).
 * Forward, step s reads row k = s − s0 (time s); reverse, row k = n_b − 1 − (s − s0) (time len_b − 1 − s).
 */
export function project(
  x: usize, xT: i32, xB: i32, w: usize, bias: usize, G: usize, N: i32, inputSize: i32,
  lens: usize, lensI64: i32, batch: i32, seq: i32, s0: i32, T: i32, reverse: i32,
): void {
  for (let b = 0; b < batch; b++) {
    const len = seqLen(lens, lensI64, b, seq);
    const n = min(T, len - s0);
    if (n <= 0) continue;
    const t0 = reverse != 0 ? len - s0 - n : s0;
    const a = x + ((<usize>t0 * xT + <usize>b * xB) << 2);
    product(a, xT, w, bias, G + (<usize>b * N << 2), batch * N, n, N, inputSize);
  }
}

/** The projection row (k above) batch entry b reads at step s of the chunk starting at s0. */
// @ts-ignore: decorator
@inline export function chunkRow(s: i32, s0: i32, T: i32, len: i32, reverse: i32): i32 {
  return reverse != 0 ? min(T, len - s0) - 1 - (s - s0) : s - s0;
}

/** Stores a gate loop's 4 lanes of h into a Y row (only lanes below hidden). */
// @ts-ignore: decorator
@inline export function storeY(yRow: usize, j: i32, hidden: i32, v: v128): void {
  if (yRow == 0) return;
  if (j + 4 <= hidden) v128.store(yRow + (<usize>j << 2), v);
  else storePartial(yRow + (<usize>j << 2), v, hidden - j);
}

/** clamp to [−clip, clip] (clip = +Infinity: no clip; NaN stays NaN). */
// @ts-ignore: decorator
@inline export function vclip(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.max(lo, f32x4.min(hi, v));
}
