// The batched MatMul kernel (assembly/matmul.ts: B read in place, 4×8 register tiles, then narrower ones)
// through the ABI table, against a reference written from the definition in float32 arithmetic: each
// C[i][j] summed over k = 0, 1, … with one rounded multiply and one rounded add per term, the order the
// kernel promises for every tile. Shapes cover every tile and tail (rows mod 4, columns mod 8 and mod 4,
// K of 1), a B repeating with a period, and attention's shapes. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import {
  Arena,
  CANARY,
  TAIL,
  call,
  describeEachBuild,
  randomArray,
  rng,
  type KernelExports,
} from './kernel-harness.js';

const f = Math.fround;

/** C[b] = A[b] · B[b mod period] (period 0: one B per A), in float32, k ascending. */
function matmulRef(A: Float32Array, B: Float32Array, batches: number, M: number, N: number, K: number, period: number) {
  const C = new Float32Array(batches * M * N);
  for (let bt = 0; bt < batches; bt++) {
    const bb = period > 0 ? bt % period : bt;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc = f(acc + f(A[(bt * M + i) * K + k] * B[(bb * K + k) * N + j]));
        C[(bt * M + i) * N + j] = acc;
      }
  }
  return C;
}

describeEachBuild('matmul kernel', (env) => {
  let k: KernelExports;
  let arena: Arena;
  before(() => {
    k = env.k;
    arena = env.arena;
  });

  const cases: [batches: number, M: number, N: number, K: number, period: number][] = [
    [1, 1, 1, 1, 0],
    [1, 4, 8, 1, 0],
    [1, 5, 9, 3, 0],
    [1, 7, 13, 8, 0],
    [1, 9, 17, 13, 0],
    [1, 3, 4, 2, 0],
    [2, 6, 12, 5, 0],
    [3, 4, 20, 7, 1],
    [4, 5, 11, 6, 2],
    [4, 64, 64, 8, 0], // Q·Kᵀ of 4 heads of width 8
    [4, 64, 8, 64, 0], // P·V
    [1, 33, 40, 70, 0],
  ];
  for (const [batches, M, N, K, period] of cases)
    it(`batches ${batches}, ${M}×${K} · ${K}×${N}, B period ${period}: every element as the float32 definition`, () => {
      arena.reset();
      const rand = rng(batches * 1000 + M * 100 + N * 10 + K);
      const A = randomArray(batches * M * K, rand);
      const bCount = period > 0 ? period : batches;
      const B = randomArray(bCount * K * N, rand);
      const c = arena.out(batches * M * N);
      call(k, 'matmul', {
        a: arena.put(A),
        b: arena.put(B),
        c,
        batches,
        M,
        N,
        K,
        bPeriod: period,
      });
      const got = arena.f32(c, batches * M * N + TAIL);
      const want = matmulRef(A, B, batches, M, N, K, period);
      for (let i = 0; i < want.length; i++)
        if (!Object.is(got[i], want[i])) expect.fail(`C[${i}] = ${got[i]}, the definition gives ${want[i]}`);
      for (let i = want.length; i < want.length + TAIL; i++) expect(got[i], 'nothing written past C').to.equal(CANARY);
    });

  it('a slice of rows (as the threads run one) writes the same bits as the whole product', () => {
    arena.reset();
    const [M, N, K] = [11, 19, 9];
    const rand = rng(7);
    const a = arena.put(randomArray(M * K, rand));
    const b = arena.put(randomArray(K * N, rand));
    const whole = arena.out(M * N);
    call(k, 'matmul', { a, b, c: whole, batches: 1, M, N, K, bPeriod: 0 });
    const parts = arena.out(M * N);
    for (const [lo, hi] of [
      [0, 3],
      [3, 8],
      [8, 11],
    ])
      call(k, 'matmul', { a: a + lo * K * 4, b, c: parts + lo * N * 4, batches: 1, M: hi - lo, N, K, bPeriod: 0 });
    expect(Array.from(arena.f32(parts, M * N))).to.deep.equal(Array.from(arena.f32(whole, M * N)));
  });
});
