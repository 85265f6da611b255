// Batched MatMul (attention's Q·Kᵀ and P·V, and constant per-head weights): C[i] = A[i] · B[i mod
// bPeriod] for `batches` contiguous row-major matrices A [M×K], C [M×N] and B [K×N]; bPeriod ≤ 0 means
// no wrap (B has as many matrices as A). B is not pre-packed, so each C row is a SIMD axpy over B's rows.

export function matmul(a: usize, b: usize, c: usize, batches: i32, M: i32, N: i32, K: i32, bPeriod: i32): void {
  const n4 = N & ~3;
  for (let bt = 0; bt < batches; bt++) {
    const A = a + (<usize>(bt * M * K) << 2);
    const B = b + (<usize>((bPeriod > 0 ? bt % bPeriod : bt) * K * N) << 2);
    const C = c + (<usize>(bt * M * N) << 2);
    for (let i = 0; i < M; i++) {
      const row = C + (<usize>(i * N) << 2);
      for (let j = 0; j < N; j++) store<f32>(row + (<usize>j << 2), 0);
      for (let k = 0; k < K; k++) {
        const s = load<f32>(A + (<usize>(i * K + k) << 2));
        const sv = f32x4.splat(s);
        const brow = B + (<usize>(k * N) << 2);
        let j = 0;
        for (; j < n4; j += 4) {
          const at = <usize>j << 2;
          v128.store(row + at, f32x4.add(v128.load(row + at), f32x4.mul(sv, v128.load(brow + at))));
        }
        for (; j < N; j++) {
          const at = <usize>j << 2;
          store<f32>(row + at, load<f32>(row + at) + s * load<f32>(brow + at));
        }
      }
    }
  }
}
