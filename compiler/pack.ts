/**
 * Weight packing for the GEMM micro-kernel (assembly/gemm.ts): B[K×N] as ceil(N/8) panels of K rows × 8
 * columns, contiguous, zero-padded past column N-1, so the kernel streams each panel with aligned loads.
 */
import { CONSTANTS } from './abi/codes.js';

export const PANEL_WIDTH = CONSTANTS.PANEL_WIDTH;

/** `at(k, n)` reads B[k][n] in whatever layout the model stores it. */
export function packPanels(K: number, N: number, at: (k: number, n: number) => number): Float32Array {
  const panels = Math.ceil(N / PANEL_WIDTH);
  const out = new Float32Array(panels * K * PANEL_WIDTH);
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < K; k++) {
      const row = (p * K + k) * PANEL_WIDTH;
      for (let j = 0; j < PANEL_WIDTH; j++) {
        const n = p * PANEL_WIDTH + j;
        if (n < N) out[row + j] = at(k, n);
      }
    }
  }
  return out;
}

/** A bias vector padded to whole panels. */
export function padBias(N: number, at: (n: number) => number): Float32Array {
  const out = new Float32Array(Math.ceil(N / PANEL_WIDTH) * PANEL_WIDTH);
  for (let n = 0; n < N; n++) out[n] = at(n);
  return out;
}
