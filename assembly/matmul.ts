// Batched MatMul (attention's Q·Kᵀ and P·V, and constant per-head weights): C[i] = A[i] · B[i mod
// bPeriod] for `batches` contiguous row-major matrices A [M×K], C [M×N] and B [K×N]; bPeriod ≤ 0 means
// no wrap (B has as many matrices as A). B is not pre-packed (it is computed at run time), so the tiles read
// it in place: 4 rows × 8 columns of C held in registers over the whole K loop, then 4 × 4, then single
// columns; leftover rows one at a time with the same columns. Every element is summed in the same order
// (k = 0, 1, …, one multiply then one add each), whichever tile computes it: a slice of rows gives the
// same bits as the whole product.

// @ts-ignore: decorator
@inline function rowTail(A: usize, B: usize, C: usize, N: i32, K: i32, j: i32): void {
  const strideB = <usize>N << 2;
  for (; j + 4 <= N; j += 4) {
    let acc = f32x4.splat(0);
    let pb = B + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(A + (<usize>k << 2))), v128.load(pb)));
      pb += strideB;
    }
    v128.store(C + (<usize>j << 2), acc);
  }
  for (; j < N; j++) {
    let acc: f32 = 0;
    let pb = B + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      acc += load<f32>(A + (<usize>k << 2)) * load<f32>(pb);
      pb += strideB;
    }
    store<f32>(C + (<usize>j << 2), acc);
  }
}

/** Rows i..i+3 of one product: 4×8 tiles, then the columns left by `rowTail` for each row. */
// @ts-ignore: decorator
@inline function fourRows(A: usize, B: usize, C: usize, N: i32, K: i32): void {
  const strideA = <usize>K << 2;
  const strideB = <usize>N << 2;
  const strideC = <usize>N << 2;
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let pa = A;
    let pb = B + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const a0 = f32x4.splat(load<f32>(pa));
      const a1 = f32x4.splat(load<f32>(pa + strideA));
      const a2 = f32x4.splat(load<f32>(pa + 2 * strideA));
      const a3 = f32x4.splat(load<f32>(pa + 3 * strideA));
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
      pa += 4;
      pb += strideB;
    }
    const pc = C + (<usize>j << 2);
    v128.store(pc, c00);
    v128.store(pc, c01, 16);
    v128.store(pc + strideC, c10);
    v128.store(pc + strideC, c11, 16);
    v128.store(pc + 2 * strideC, c20);
    v128.store(pc + 2 * strideC, c21, 16);
    v128.store(pc + 3 * strideC, c30);
    v128.store(pc + 3 * strideC, c31, 16);
  }
  if (j < N) for (let r = 0; r < 4; r++) rowTail(A + <usize>r * strideA, B, C + <usize>r * strideC, N, K, j);
}

export function matmul(a: usize, b: usize, c: usize, batches: i32, M: i32, N: i32, K: i32, bPeriod: i32): void {
  const strideA = <usize>K << 2;
  const strideC = <usize>N << 2;
  for (let bt = 0; bt < batches; bt++) {
    const A = a + (<usize>bt * <usize>M * <usize>K << 2);
    const B = b + (<usize>(bPeriod > 0 ? bt % bPeriod : bt) * <usize>K * <usize>N << 2);
    const C = c + (<usize>bt * <usize>M * <usize>N << 2);
    let i = 0;
    for (; i + 4 <= M; i += 4) fourRows(A + <usize>i * strideA, B, C + <usize>i * strideC, N, K);
    for (; i < M; i++) rowTail(A + <usize>i * strideA, B, C + <usize>i * strideC, N, K, 0);
  }
}
