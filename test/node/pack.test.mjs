// The weight packer (compiler/pack.ts) on its own: the panel layout the GEMM kernel reads, zero padding
// past the last column, and the real kernel (dist/kernels.wasm) computing x·B from packed panels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { packPanels, padBias, PANEL_WIDTH } from '../../dist/compiler/pack.js';
import { KERNELS } from '../../dist/compiler/abi/kernels.js';
import { rng } from './rng.mjs';

const SIZES = [
  [1, 1],
  [3, 8],
  [5, 9],
  [7, 17],
  [64, 63],
  [33, 130],
];

test('each B[k][n] lands in panel ⌊n/8⌋, row k, lane n mod 8; lanes past N are zero', () => {
  for (const [K, N] of SIZES) {
    const at = (k, n) => 1 + k * 1000 + n; // distinct, never zero
    const out = packPanels(K, N, at);
    const panels = Math.ceil(N / PANEL_WIDTH);
    assert.equal(out.length, panels * K * PANEL_WIDTH, `[${K}, ${N}] length`);
    const seen = new Set();
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const i = (Math.floor(n / PANEL_WIDTH) * K + k) * PANEL_WIDTH + (n % PANEL_WIDTH);
        assert.equal(out[i], at(k, n), `[${K}, ${N}] B[${k}][${n}]`);
        seen.add(i);
      }
    }
    out.forEach((v, i) => seen.has(i) || assert.equal(v, 0, `[${K}, ${N}] padding at ${i}`));
  }
});

test('a bias is padded with zeros to whole panels', () => {
  for (const N of [1, 7, 8, 9, 130]) {
    const bias = padBias(N, (n) => n + 0.5);
    assert.equal(bias.length, Math.ceil(N / PANEL_WIDTH) * PANEL_WIDTH);
    bias.forEach((v, n) => assert.equal(v, n < N ? n + 0.5 : 0));
  }
});

test('the GEMM kernel computes x·B + bias from the packer’s panels (against float64)', async () => {
  const bytes = readFileSync(new URL('../../dist/kernels.wasm', import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const k = instance.exports;
  const mem = () => new Float32Array(k.memory.buffer);
  const random = rng(7);
  for (const [K, N] of SIZES) {
    for (const M of [1, 2, 5]) {
      const B = Float64Array.from({ length: K * N }, () => random() * 2 - 1);
      const x = Float64Array.from({ length: M * K }, () => random() * 2 - 1);
      const b = Float64Array.from({ length: N }, () => random() * 2 - 1);
      const w = packPanels(K, N, (kk, n) => B[kk * N + n]);
      const bias = padBias(N, (n) => b[n]);
      // Regions far above the library's own data, 16-byte aligned.
      const [xPtr, wPtr, bPtr, cPtr] = [1 << 20, 2 << 20, 3 << 20, 4 << 20];
      mem().set(x, xPtr / 4);
      mem().set(w, wPtr / 4);
      mem().set(bias, bPtr / 4);
      const args = { a: xPtr, lda: K, w: wPtr, bias: bPtr, c: cPtr, ldc: N, M, N, K, act: 0, p0: 0, p1: 0 };
      k.gemm(...KERNELS.gemm.params.map(([name]) => args[name]));
      const c = mem().subarray(cPtr / 4, cPtr / 4 + M * N);
      for (let i = 0; i < M; i++) {
        for (let n = 0; n < N; n++) {
          let want = b[n];
          for (let kk = 0; kk < K; kk++) want += x[i * K + kk] * B[kk * N + n];
          const got = c[i * N + n];
          assert.ok(
            Math.abs(got - want) <= 1e-5 + 1e-5 * Math.abs(want),
            `[${M}x${K}]·[${K}x${N}] at (${i}, ${n}): ${got} vs ${want}`,
          );
        }
      }
    }
  }
});
