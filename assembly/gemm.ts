// GEMM with fused bias + activation: C[M×N] = act(A[M×K] · B[K×N] + bias).
//
// Packed weight layout (written by the compiler, read here):
//   B is split into NR = 8-column panels, p = 0 .. ceil(N/8)-1. Panel p starts at byte
//   w + p*K*8*4 and holds K rows of 8 f32: row k = B[k][8p .. 8p+7], zero-padded past column N-1.
//   w must be 16-byte aligned (panels are loaded with aligned v128 loads).
//   bias (optional, 0 = none) is ceil(N/8)*8 f32, zero-padded past N-1, 16-byte aligned.
// A is row-major with row stride lda floats and any 4-byte alignment (read with load32_splat).
// C is row-major with row stride ldc floats; only columns 0..N-1 of each row are written.
//
// Blocking: a register tile over full K, 4×8 (8 accumulators) in the SIMD build and 6×8 (12) in the
// relaxed one, then 4×8 for the rows left; a 1-row path streams four panels at a time, for M = 1 (batch-1
// GEMV) and a lone tail row.
// Summation order: every element C[i][j] is bias + (((0 + A[i][0]·B[0][j]) + A[i][1]·B[1][j]) + …) in
// k order, in every path (full tiles, tail rows and columns, the 1-row path; madd fused or not per build),
// so it depends only on row i of A and column j of B: never on M, N, j's panel or the row's tile.

import {
  storePartial, vsplat, vgelu, vhardSigmoid, vhardSwish, vleakyRelu, vsigmoid, vtanh,
} from "./vmath";
import {
  ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_CLIP, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_GELU,
  PANEL_WIDTH,
} from "./generated/abi";

/**
 * Applies activation `act` (codes above); p0/p1 are pre-splatted parameters. Deliberately not inlined:
 * it runs once per output vector in GEMM epilogues, and inlining every case there costs tens of KB.
 */
function vactivate(v: v128, act: i32, p0: v128, p1: v128): v128 {
  switch (act) {
    case ACT_RELU: return f32x4.max(v, vsplat(0.0));
    case ACT_LEAKY_RELU: return vleakyRelu(v, p0);
    case ACT_SIGMOID: return vsigmoid(v);
    case ACT_TANH: return vtanh(v);
    case ACT_CLIP: return f32x4.max(p0, f32x4.min(p1, v));
    case ACT_HARD_SIGMOID: return vhardSigmoid(v, p0, p1);
    case ACT_HARD_SWISH: return vhardSwish(v);
    case ACT_GELU: return vgelu(v);
    default: return v;
  }
}

/** a*b + c; one fused instruction in the relaxed-SIMD build. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Adds bias, applies the activation and stores 8 columns (cols < 8 → only those columns). */
// @ts-ignore: decorator
@inline function storeTile8(c: usize, lo: v128, hi: v128, bias: usize, cols: i32, act: i32, p0: v128, p1: v128): void {
  if (bias != 0) {
    lo = f32x4.add(lo, v128.load(bias));
    hi = f32x4.add(hi, v128.load(bias, 16));
  }
  if (act != ACT_NONE) {
    // Piecewise-linear activations inline (a call per vector is measurable in batch-1 GEMV);
    // transcendental ones out of line to keep the code small.
    if (act == ACT_RELU) {
      lo = f32x4.max(lo, vsplat(0.0));
      hi = f32x4.max(hi, vsplat(0.0));
    } else if (act == ACT_CLIP) {
      lo = f32x4.max(p0, f32x4.min(p1, lo));
      hi = f32x4.max(p0, f32x4.min(p1, hi));
    } else {
      lo = vactivate(lo, act, p0, p1);
      hi = vactivate(hi, act, p0, p1);
    }
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
 * 4 rows × 8 columns over all of K. Rows past `rows` reuse a valid row pointer (a3 = a2 ...) so the
 * loop is branch-free; their results are computed and dropped.
 */
function tile4x8(
  a0: usize, a1: usize, a2: usize, a3: usize, b: usize, K: i32,
  bias: usize, c: usize, cStride: usize, rows: i32, cols: i32,
  act: i32, p0: v128, p1: v128,
): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
  let c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0);
  let c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  const end = a0 + (<usize>K << 2);
  while (a0 < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a0);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a1);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a2);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a3);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    b += PANEL_WIDTH * 4;
  }
  storeTile8(c, c00, c01, bias, cols, act, p0, p1);
  if (rows > 1) storeTile8(c + cStride, c10, c11, bias, cols, act, p0, p1);
  if (rows > 2) storeTile8(c + 2 * cStride, c20, c21, bias, cols, act, p0, p1);
  if (rows > 3) storeTile8(c + 3 * cStride, c30, c31, bias, cols, act, p0, p1);
}

/**
 * 6 rows × 8 columns over all of K, for the relaxed-SIMD build only: 12 accumulators, 2 B vectors and one
 * splat fill 15 of the 16 SIMD registers when madd is one fused instruction (the SIMD build's separate
 * mul needs a 16th for its product and would spill, so it keeps 4×8). Three more madds per B load than
 * 4×8 keep the two FMA ports busier: about 1.17× the 4×8 tile's speed. Same order as tile4x8 per element.
 */
function tile6x8(
  a0: usize, aStride: usize, b: usize, K: i32,
  bias: usize, c: usize, cStride: usize, cols: i32,
  act: i32, p0: v128, p1: v128,
): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
  let c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0);
  let c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  let c40 = i32x4.splat(0), c41 = i32x4.splat(0);
  let c50 = i32x4.splat(0), c51 = i32x4.splat(0);
  let a1 = a0 + aStride, a2 = a1 + aStride, a3 = a2 + aStride, a4 = a3 + aStride, a5 = a4 + aStride;
  const end = a0 + (<usize>K << 2);
  while (a0 < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a0);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a1);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a2);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a3);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    x = v128.load32_splat(a4);
    c40 = madd(x, b0, c40);
    c41 = madd(x, b1, c41);
    x = v128.load32_splat(a5);
    c50 = madd(x, b0, c50);
    c51 = madd(x, b1, c51);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; a4 += 4; a5 += 4;
    b += PANEL_WIDTH * 4;
  }
  storeTile8(c, c00, c01, bias, cols, act, p0, p1);
  storeTile8(c + cStride, c10, c11, bias, cols, act, p0, p1);
  storeTile8(c + 2 * cStride, c20, c21, bias, cols, act, p0, p1);
  storeTile8(c + 3 * cStride, c30, c31, bias, cols, act, p0, p1);
  storeTile8(c + 4 * cStride, c40, c41, bias, cols, act, p0, p1);
  storeTile8(c + 5 * cStride, c50, c51, bias, cols, act, p0, p1);
}

/**
 * `count` (1..4, a constant at each call site) panels of one row of C, 2·count accumulators. Each column
 * sums k = 0, 1, .., K-1 in order into one accumulator, exactly as tile4x8 does.
 */
// @ts-ignore: decorator
@inline function gemvPanels(
  count: i32, a: usize, aEnd: usize, b0: usize, panelBytes: usize, N: i32, col: i32,
  bias: usize, c: usize, act: i32, p0: v128, p1: v128,
): void {
  let b1 = b0 + panelBytes;
  let b2 = b1 + panelBytes;
  let b3 = b2 + panelBytes;
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
  let c4 = i32x4.splat(0), c5 = i32x4.splat(0), c6 = i32x4.splat(0), c7 = i32x4.splat(0);
  for (let ap = a; ap < aEnd; ap += 4) {
    const x = v128.load32_splat(ap);
    c0 = madd(x, v128.load(b0), c0);
    c1 = madd(x, v128.load(b0, 16), c1);
    b0 += PANEL_WIDTH * 4;
    if (count > 1) {
      c2 = madd(x, v128.load(b1), c2);
      c3 = madd(x, v128.load(b1, 16), c3);
      b1 += PANEL_WIDTH * 4;
    }
    if (count > 2) {
      c4 = madd(x, v128.load(b2), c4);
      c5 = madd(x, v128.load(b2, 16), c5);
      b2 += PANEL_WIDTH * 4;
    }
    if (count > 3) {
      c6 = madd(x, v128.load(b3), c6);
      c7 = madd(x, v128.load(b3, 16), c7);
      b3 += PANEL_WIDTH * 4;
    }
  }
  const cp = c + (<usize>col << 2);
  const bp = bias != 0 ? bias + (<usize>col << 2) : 0;
  storeTile8(cp, c0, c1, bp, N - col, act, p0, p1);
  if (count > 1) storeTile8(cp + 32, c2, c3, bp != 0 ? bp + 32 : 0, N - col - 8, act, p0, p1);
  if (count > 2) storeTile8(cp + 64, c4, c5, bp != 0 ? bp + 64 : 0, N - col - 16, act, p0, p1);
  if (count > 3) storeTile8(cp + 96, c6, c7, bp != 0 ? bp + 96 : 0, N - col - 24, act, p0, p1);
}

/**
 * One row of C (M = 1, and the lone last row when M mod 4 = 1), in tile4x8's summation order, so a
 * column's value never depends on which path computed it (equal columns of B give bit-identical columns
 * of C, and a row's result does not depend on M). The independent dependency chains a latency-bound loop
 * needs come from columns, not from split k: 4 panels (8 accumulators) at a time, then the last 1-3.
 * With N <= 24 the loop is latency-bound (one madd latency per k): the price of that fixed order.
 */
function gemvRow(
  a: usize, w: usize, panelBytes: usize, panels: i32, K: i32, N: i32,
  bias: usize, c: usize, act: i32, p0: v128, p1: v128,
): void {
  const aEnd = a + (<usize>K << 2);
  let p = 0;
  for (; p + 4 <= panels; p += 4) {
    gemvPanels(4, a, aEnd, w + <usize>p * panelBytes, panelBytes, N, p * PANEL_WIDTH, bias, c, act, p0, p1);
  }
  const rest = panels - p;
  const b = w + <usize>p * panelBytes;
  const col = p * PANEL_WIDTH;
  if (rest == 3) gemvPanels(3, a, aEnd, b, panelBytes, N, col, bias, c, act, p0, p1);
  else if (rest == 2) gemvPanels(2, a, aEnd, b, panelBytes, N, col, bias, c, act, p0, p1);
  else if (rest == 1) gemvPanels(1, a, aEnd, b, panelBytes, N, col, bias, c, act, p0, p1);
}

/**
 * C = act(A·B + bias), B packed as described at the top of this file.
 * act: 0 none, 1 relu, 2 leaky_relu(p0 = alpha), 3 sigmoid, 4 tanh, 5 clip(p0 = min, p1 = max),
 * 6 hard_sigmoid(p0 = alpha, p1 = beta), 7 hard_swish, 8 gelu (erf).
 */
export function gemm(
  a: usize, lda: i32, w: usize, bias: usize, c: usize, ldc: i32,
  M: i32, N: i32, K: i32, act: i32, p0: f32, p1: f32,
): void {
  if (M <= 0 || N <= 0) return;
  const panels = (N + PANEL_WIDTH - 1) / PANEL_WIDTH;
  const panelBytes = <usize>K * (PANEL_WIDTH * 4);
  const aStride = <usize>lda << 2;
  const cStride = <usize>ldc << 2;
  const vp0 = vsplat(p0);
  const vp1 = vsplat(p1);
  if (K <= 0) {
    // Empty sum: C = act(bias).
    for (let i = 0; i < M; i++) zeroKRow(bias, c + <usize>i * cStride, N, act, vp0, vp1);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (; i + 6 <= M; i += 6) {
      const a0 = a + <usize>i * aStride;
      const ci = c + <usize>i * cStride;
      for (let p = 0; p < panels; p++) {
        const col = p * PANEL_WIDTH;
        tile6x8(
          a0, aStride, w + <usize>p * panelBytes, K,
          bias != 0 ? bias + (<usize>col << 2) : 0, ci + (<usize>col << 2), cStride, N - col,
          act, vp0, vp1,
        );
      }
    }
  }
  for (; i + 1 < M; i += 4) {
    const rows = min(4, M - i);
    const a0 = a + <usize>i * aStride;
    const a1 = a0 + aStride;
    const a2 = rows > 2 ? a1 + aStride : a1;
    const a3 = rows > 3 ? a2 + aStride : a2;
    const ci = c + <usize>i * cStride;
    for (let p = 0; p < panels; p++) {
      const col = p * PANEL_WIDTH;
      tile4x8(
        a0, a1, a2, a3, w + <usize>p * panelBytes, K,
        bias != 0 ? bias + (<usize>col << 2) : 0, ci + (<usize>col << 2), cStride, rows, N - col,
        act, vp0, vp1,
      );
    }
  }
  if (i < M) {
    gemvRow(a + <usize>i * aStride, w, panelBytes, panels, K, N, bias, c + <usize>i * cStride, act, vp0, vp1);
  }
}

function zeroKRow(bias: usize, c: usize, N: i32, act: i32, p0: v128, p1: v128): void {
  for (let col = 0; col < N; col += PANEL_WIDTH) {
    storeTile8(c + (<usize>col << 2), i32x4.splat(0), i32x4.splat(0), bias != 0 ? bias + (<usize>col << 2) : 0, N - col, act, p0, p1);
  }
}
