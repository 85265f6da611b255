// Integer matrix products for the quantized ops (MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv):
// operands widened to i16 with their zero points subtracted (u8/i8 − zp fits in i16), products summed
// exactly in i32 (wrapping as onnxruntime's), then requantized in f32 as onnxruntime does.
//
// Layouts (all element counts):
//  A16  [M, Kp] i16, row-major, Kp = K rounded up to even, the pad column 0.
//  Bp   packed B: ⌈N/8⌉ panels of 8 columns; a panel holds Kp/2 row pairs, each 16 i16: columns 0..3 then
//       4..7, each column as (B[k, n], B[k+1, n]); columns past N and the pad row are 0. A panel is read by
//       i32x4.dot_i16x8_s against (A[m, k], A[m, k+1]) splatted: 4 columns × 2 rows per instruction.
//  C    [M, N] i32 per batch, batches cStride elements apart.

/** Bytes of one packed B: ⌈N/8⌉ · Kp · 8 i16. */
// @ts-ignore: decorator
@inline export function packedBytes(N: i32, Kp: i32): usize {
  return <usize>((N + 7) >> 3) * <usize>Kp * 16;
}

/** i16 offset of B[k, n] in its packed form (K2 = Kp / 2 row pairs a panel). */
// @ts-ignore: decorator
@inline export function packedIndex(k: i32, n: i32, K2: i32): usize {
  return (<usize>(((n >> 3) * K2 + (k >> 1)) * 2 + ((n & 7) >> 2)) << 3) + <usize>(((n & 3) << 1) + (k & 1));
}

// @ts-ignore: decorator
@inline function storeCols(c: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(c, v);
    return;
  }
  if (count > 0) store<i32>(c, i32x4.extract_lane(v, 0));
  if (count > 1) store<i32>(c, i32x4.extract_lane(v, 1), 4);
  if (count > 2) store<i32>(c, i32x4.extract_lane(v, 2), 8);
}

/**
 * c[t] = A16[t mod aPeriod] · Bp[t mod bPeriod] for t < batches (period 0: the operand advances with t),
 * exact in i32 (wrapping). A16 batches are M·Kp i16 apart, Bp batches one packed B apart, C batches cStride
 * i32 apart (rows N apart). M, N, K ≥ 0.
 */
export function qgemm(
  a: usize,
  b: usize,
  c: usize,
  batches: i32,
  M: i32,
  N: i32,
  K: i32,
  aPeriod: i32,
  bPeriod: i32,
  cStride: i32,
): void {
  const Kp = (K + 1) & ~1;
  const K2 = Kp >> 1;
  const aBytes = <usize>M * <usize>Kp * 2;
  const bBytes = packedBytes(N, Kp);
  const rowBytes = <usize>Kp * 2;
  const ldc = <usize>N << 2;
  const panels = (N + 7) >> 3;
  for (let t = 0; t < batches; t++) {
    const at = a + <usize>(aPeriod ? t % aPeriod : t) * aBytes;
    const bt = b + <usize>(bPeriod ? t % bPeriod : t) * bBytes;
    const ct = c + (<usize>t * <usize>cStride << 2);
    for (let p = 0; p < panels; p++) {
      const bp = bt + <usize>p * <usize>K2 * 32;
      const n0 = p << 3;
      const cols = min(8, N - n0);
      let m = 0;
      for (; m + 4 <= M; m += 4) {
        const a0 = at + <usize>m * rowBytes;
        const a1 = a0 + rowBytes;
        const a2 = a1 + rowBytes;
        const a3 = a2 + rowBytes;
        let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
        let c10 = i32x4.splat(0), c11 = i32x4.splat(0);
        let c20 = i32x4.splat(0), c21 = i32x4.splat(0);
        let c30 = i32x4.splat(0), c31 = i32x4.splat(0);
        for (let kk = 0; kk < K2; kk++) {
          const off = <usize>kk << 2;
          const b0 = v128.load(bp + (<usize>kk << 5));
          const b1 = v128.load(bp + (<usize>kk << 5), 16);
          const v0 = i32x4.splat(load<i32>(a0 + off));
          const v1 = i32x4.splat(load<i32>(a1 + off));
          const v2 = i32x4.splat(load<i32>(a2 + off));
          const v3 = i32x4.splat(load<i32>(a3 + off));
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v0, b0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v0, b1));
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v1, b0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v1, b1));
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v2, b0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v2, b1));
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v3, b0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v3, b1));
        }
        const row = ct + <usize>m * ldc + (<usize>n0 << 2);
        storeCols(row, c00, cols);
        storeCols(row + 16, c01, cols - 4);
        storeCols(row + ldc, c10, cols);
        storeCols(row + ldc + 16, c11, cols - 4);
        storeCols(row + 2 * ldc, c20, cols);
        storeCols(row + 2 * ldc + 16, c21, cols - 4);
        storeCols(row + 3 * ldc, c30, cols);
        storeCols(row + 3 * ldc + 16, c31, cols - 4);
      }
      for (; m < M; m++) {
        const a0 = at + <usize>m * rowBytes;
        let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
        for (let kk = 0; kk < K2; kk++) {
          const v0 = i32x4.splat(load<i32>(a0 + (<usize>kk << 2)));
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v0, v128.load(bp + (<usize>kk << 5))));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v0, v128.load(bp + (<usize>kk << 5), 16)));
        }
        const row = ct + <usize>m * ldc + (<usize>n0 << 2);
        storeCols(row, c00, cols);
        storeCols(row + 16, c01, cols - 4);
      }
    }
  }
}
