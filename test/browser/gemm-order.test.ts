// GEMM summation order (assembly/gemm.ts): every element of C sums its K products in one fixed order in
// every code path (4×8 and 6×8 tiles, tail rows and columns, the 1-row path), so equal columns of B give
// bit-identical columns of C and a row's result does not depend on how many rows the call has. Models with
// constant weights (every logit equal) depend on it: a softmax over equal logits must be exactly 1/N.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { Arena, call, loadKernels, packB, randomArray, rng, type KernelExports } from './kernel-harness.js';

const BUILDS = [
  { name: 'simd', url: '/dist/kernels.wasm' },
  { name: 'relaxed-simd', url: '/dist/kernels-relaxed.wasm' },
];

// M: the 1-row path, 2-3 rows in a 4-row tile, full tiles, and a lone last row after full tiles; for the
// relaxed build's 6-row tiles, 6-row tiles followed by 1, 2, 3, 4 or 5 rows (7, 8, 9, 10, 17) or none (12).
const MS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 17];
// N: one partial panel, full panels, 1-3 panels after groups of 4 (the 1-row path), and 1000 (ImageNet).
const NS = [1, 3, 7, 8, 9, 16, 17, 24, 25, 31, 33, 40, 57, 1000];
const KS = [1, 2, 3, 5, 17, 64, 255];

/** B [K×N] whose every column is `column`. */
function equalColumns(column: Float32Array, N: number): Float32Array {
  const K = column.length;
  const B = new Float32Array(K * N);
  for (let k = 0; k < K; k++) B.fill(column[k], k * N, (k + 1) * N);
  return B;
}

for (const build of BUILDS) {
  describe(`gemm summation order (${build.name})`, function () {
    this.timeout(120000);
    let k: KernelExports;
    let arena: Arena;

    before(async function () {
      const loaded = await loadKernels<KernelExports>(build.url);
      if (!loaded) {
        expect(build.name, 'the SIMD build must validate').to.equal('relaxed-simd');
        this.skip();
        return;
      }
      k = loaded;
      arena = new Arena(k);
    });

    /** C = A·B (+ bias, act) with B packed; returns C [M×N]. */
    function gemm(A: Float32Array, B: Float32Array, M: number, N: number, K: number, bias?: Float32Array, act = 0) {
      arena.reset();
      const a = arena.put(A);
      const w = arena.put(packB(B, K, N));
      let biasPtr = 0;
      if (bias) {
        const padded = new Float32Array(Math.ceil(N / 8) * 8);
        padded.set(bias);
        biasPtr = arena.put(padded);
      }
      const c = arena.alloc(M * N);
      call(k, 'gemm', { a, lda: K, w, bias: biasPtr, c, ldc: N, M, N, K, act, p0: 0, p1: 0 });
      return arena.f32(c, M * N).slice();
    }

    it('equal columns of B give bit-identical columns of C, for every M, N, K', () => {
      const rand = rng(14);
      for (const M of MS) {
        for (const N of NS) {
          for (const K of KS) {
            // Mixed signs and magnitudes, so that the order of the additions changes the rounding.
            const A = randomArray(M * K, rand, -100, 100);
            const column = randomArray(K, rand, -3, 3);
            const C = gemm(A, equalColumns(column, N), M, N, K);
            for (let i = 0; i < M; i++) {
              const first = C[i * N];
              for (let j = 1; j < N; j++) {
                if (!Object.is(C[i * N + j], first))
                  expect.fail(`M=${M} N=${N} K=${K}: C[${i}][${j}] = ${C[i * N + j]}, C[${i}][0] = ${first}`);
              }
            }
          }
        }
      }
    });

    it('equal columns stay equal through an equal bias and the activations', () => {
      const rand = rng(15);
      for (const act of [CODES.ACT.NONE, CODES.ACT.RELU, CODES.ACT.SIGMOID, CODES.ACT.TANH, CODES.ACT.GELU]) {
        for (const [M, N, K] of [
          [1, 1000, 256],
          [5, 1000, 64],
          [3, 25, 33],
        ]) {
          const A = randomArray(M * K, rand, -1, 1);
          const C = gemm(A, equalColumns(randomArray(K, rand), N), M, N, K, new Float32Array(N).fill(0.375), act);
          for (let i = 0; i < M; i++) {
            for (let j = 1; j < N; j++) {
              if (!Object.is(C[i * N + j], C[i * N]))
                expect.fail(`act ${act} M=${M} N=${N} K=${K}: C[${i}][${j}] ${C[i * N + j]} ≠ C[${i}][0] ${C[i * N]}`);
            }
          }
        }
      }
    });

    it('a row gives the same bits alone (the 1-row path) as inside a batch (4- and 6-row tiles)', () => {
      const rand = rng(16);
      for (const [M, N, K] of [
        [4, 33, 100],
        [9, 1000, 64],
        [7, 17, 255],
        [13, 40, 70],
      ]) {
        const A = randomArray(M * K, rand, -10, 10);
        const B = randomArray(K * N, rand, -1, 1);
        const batch = gemm(A, B, M, N, K);
        for (let i = 0; i < M; i++) {
          const alone = gemm(A.slice(i * K, (i + 1) * K), B, 1, N, K);
          for (let j = 0; j < N; j++) {
            if (!Object.is(alone[j], batch[i * N + j]))
              expect.fail(
                `M=${M} N=${N} K=${K}: row ${i} col ${j}: alone ${alone[j]}, in the batch ${batch[i * N + j]}`,
              );
          }
        }
      }
    });

    it('a softmax over the logits of constant weights is exactly 1/N in every class', () => {
      // As the ONNX zoo's "light" models: constant weights, large activations, 1000 classes.
      const rand = rng(17);
      for (const [M, N, K] of [
        [1, 1000, 1024],
        [2, 1000, 512],
        [5, 10, 333],
      ]) {
        const A = randomArray(M * K, rand, -20, 60);
        const C = gemm(A, equalColumns(new Float32Array(K).fill(0.7), N), M, N, K);
        arena.reset();
        const x = arena.put(C);
        const y = arena.alloc(M * N);
        call(k, 'softmax', { x, y, outer: M, axis: N, inner: 1 });
        const P = arena.f32(y, M * N);
        const want = Math.fround(1 / N);
        for (let i = 0; i < M * N; i++) {
          if (P[i] !== want) expect.fail(`M=${M} N=${N} K=${K}: p[${i}] = ${P[i]}, want ${want} (logit ${C[i]})`);
        }
      }
    });
  });
}
