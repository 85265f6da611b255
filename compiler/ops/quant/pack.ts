/**
 * Integer-product operands packed at compile time, in the layouts of assembly/qgemm.ts (what its
 * q_widen and q_pack_b kernels write at run time): values minus their zero point, as i16.
 */

/** Kp: K rounded up to even (the i16 GEMM consumes rows in pairs). */
export const evenK = (K: number): number => K + (K % 2);

/** A16 [rows, Kp]: get(r, k) − zp(r), the pad column 0. */
export function widenRows(
  rows: number,
  K: number,
  get: (r: number, k: number) => number,
  zp: (r: number) => number,
): Uint8Array {
  const Kp = evenK(K);
  const out = new Int16Array(rows * Kp);
  for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) out[r * Kp + k] = get(r, k) - zp(r);
  return new Uint8Array(out.buffer);
}

/** i16 offset of B[k, n] in a packed B of Kp/2 row pairs a panel (assembly/qgemm.ts packedIndex). */
export function packedIndex(k: number, n: number, K2: number): number {
  return ((((n >> 3) * K2 + (k >> 1)) * 2 + ((n & 7) >> 2)) << 3) + ((n & 3) << 1) + (k & 1);
}

/** i16 elements of one packed B of K × N. */
export const packedElements = (K: number, N: number): number => Math.ceil(N / 8) * 8 * evenK(K);

/** Packed B (batches of them, one after another): get(t, k, n) − zp(n). */
export function packB(
  batches: number,
  K: number,
  N: number,
  get: (t: number, k: number, n: number) => number,
  zp: (n: number) => number,
): Uint8Array {
  const size = packedElements(K, N);
  const K2 = evenK(K) / 2;
  const out = new Int16Array(batches * size);
  for (let t = 0; t < batches; t++)
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++) out[t * size + packedIndex(k, n, K2)] = get(t, k, n) - zp(n);
  return new Uint8Array(out.buffer);
}
