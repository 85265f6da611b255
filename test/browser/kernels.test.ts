// Kernel library (dist/kernels.wasm, dist/kernels-relaxed.wasm) against plain double-precision JS
// references. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES, CONSTANTS } from '../../compiler/abi/codes.js';
import { familyMembers, KERNELS, type FamilyKernel } from '../../compiler/abi/kernels.js';
import {
  Arena,
  call,
  CANARY,
  clipRef,
  erfRef,
  geluRef,
  hardSigmoidRef,
  hardSwishRef,
  leakyRef,
  loadKernels,
  mismatch,
  packB,
  randomArray,
  rng,
  sigmoidRef,
  type KernelExports,
} from './kernel-harness.js';
import {
  celuRef,
  eluRef,
  mishRef,
  roundRef,
  SELU_ALPHA,
  SELU_GAMMA,
  seluRef,
  shrinkRef,
  softplusRef,
  softsignRef,
  thresholdedReluRef,
} from './math-refs.js';

type Kernels = KernelExports;

function expectClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
  inputs?: ArrayLike<number>,
): void {
  expect(got.length, `${what}: length`).to.equal(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const m = mismatch(got[i], ref[i], rtol, atol);
    if (m) expect.fail(`${what}[${i}]${inputs ? ` (x = ${inputs[i]})` : ''}: ${m}`);
  }
}

// ---- scalar references (double precision) ---------------------------------------------------------

// GEMM epilogue activations: every code of the ABI with its reference (a new code without one fails here).
const ACT_REFS: Record<keyof typeof CODES.ACT, { p0: number; p1: number; f: (x: number) => number }> = {
  NONE: { p0: 0, p1: 0, f: (x) => x },
  RELU: { p0: 0, p1: 0, f: (x) => Math.max(0, x) },
  LEAKY_RELU: { p0: 0.1, p1: 0, f: (x) => leakyRef(x, 0.1) },
  SIGMOID: { p0: 0, p1: 0, f: sigmoidRef },
  TANH: { p0: 0, p1: 0, f: Math.tanh },
  CLIP: { p0: -0.5, p1: 1.5, f: (x) => clipRef(x, -0.5, 1.5) },
  HARD_SIGMOID: { p0: 0.2, p1: 0.5, f: (x) => hardSigmoidRef(x, 0.2, 0.5) },
  HARD_SWISH: { p0: 0, p1: 0, f: hardSwishRef },
  GELU: { p0: 0, p1: 0, f: geluRef },
};
const ACTS = Object.entries(CODES.ACT).map(([name, code]) => ({
  code,
  name: name.toLowerCase(),
  ...ACT_REFS[name as keyof typeof CODES.ACT],
}));

// ---- GEMM helpers -----------------------------------------------------------------------------------

const NR = CONSTANTS.PANEL_WIDTH;

interface GemmCase {
  M: number;
  N: number;
  K: number;
  act: number;
  bias: boolean;
  ldaPad: number;
  ldcPad: number;
  aMisalign: number;
}

/** Runs one GEMM and checks every written value, plus the padding columns and the bytes after C. */
function checkGemm(k: Kernels, arena: Arena, rand: () => number, cs: GemmCase): void {
  const { M, N, K, ldaPad, ldcPad } = cs;
  const act = ACTS[cs.act];
  const lda = K + ldaPad;
  const ldc = N + ldcPad;
  arena.reset();
  const A = randomArray(M * lda, rand);
  const B = randomArray(K * N, rand);
  const biasValues = cs.bias ? randomArray(Math.ceil(N / NR) * NR, rand) : null;
  if (biasValues) biasValues.fill(0, N);
  const aPtr = arena.put(A, cs.aMisalign);
  const wPtr = arena.put(packB(B, K, N));
  const biasPtr = biasValues ? arena.put(biasValues) : 0;
  const cLen = (M - 1) * ldc + N;
  const tail = 16;
  const cPtr = arena.alloc(M * ldc + tail);
  arena.f32(cPtr, M * ldc + tail).fill(CANARY);

  call(k, 'gemm', {
    a: aPtr,
    lda,
    w: wPtr,
    bias: biasPtr,
    c: cPtr,
    ldc,
    M,
    N,
    K,
    act: act.code,
    p0: act.p0,
    p1: act.p1,
  });

  const C = arena.f32(cPtr, M * ldc + tail);
  const what = `gemm M=${M} N=${N} K=${K} act=${act.name} bias=${cs.bias} lda=${lda} ldc=${ldc}`;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = biasValues ? biasValues[j] : 0;
      let mag = Math.abs(sum);
      for (let kk = 0; kk < K; kk++) {
        const prod = A[i * lda + kk] * B[kk * N + j];
        sum += prod;
        mag += Math.abs(prod);
      }
      // f32 accumulation error bound, then activations are at most ~1.2-Lipschitz, plus their own error.
      const ref = act.f(sum);
      const atol = 2e-7 * (K + 8) * mag * 1.2 + 2e-6;
      const m = mismatch(C[i * ldc + j], ref, 2e-6, atol);
      if (m) expect.fail(`${what}: C[${i}][${j}] ${m}`);
    }
    for (let j = N; j < ldc && i * ldc + j < M * ldc; j++) {
      if (C[i * ldc + j] !== CANARY) expect.fail(`${what}: wrote padding C[${i}][${j}]`);
    }
  }
  for (let t = cLen; t < M * ldc + tail; t++) {
    if (C[t] !== CANARY) expect.fail(`${what}: wrote past the end of C at float ${t - cLen}`);
  }
}

// ---- the suites, once per build -------------------------------------------------------------------

const BUILDS = [
  { name: 'simd', url: '/dist/kernels.wasm' },
  { name: 'relaxed-simd', url: '/dist/kernels-relaxed.wasm' },
];

const SIZES = [1, 3, 7, 17, 63, 65, 127, 257];

for (const build of BUILDS) {
  describe(`kernels (${build.name})`, () => {
    let k: Kernels;
    let arena: Arena;

    before(async function () {
      const loaded = await loadKernels<Kernels>(build.url);
      if (!loaded) {
        // Only the relaxed build may be unsupported; the plain SIMD build must always load.
        expect(build.name, 'the SIMD build must validate').to.equal('relaxed-simd');
        this.skip();
        return;
      }
      k = loaded;
      arena = new Arena(k);
    });

    it('exports exactly the ABI table and a memory, with no start function side effects', () => {
      for (const name of Object.keys(KERNELS)) expect(typeof k[name], name).to.equal('function');
      const exported = Object.keys(k).filter((name) => name !== 'memory');
      expect(
        exported.filter((name) => !(name in KERNELS)),
        'exports outside the table',
      ).to.deep.equal([]);
      expect(k.memory).to.be.instanceOf(WebAssembly.Memory);
      // Nothing ran at instantiation: memory is all zeros.
      expect(new Uint8Array(k.memory.buffer).some((b) => b !== 0)).to.equal(false);
    });

    describe('gemm', function () {
      this.timeout(120000);

      // Every M×N×K combination of the sizes (512), cycling activation, bias, lda/ldc padding and a
      // misaligned A so each tail path meets each epilogue.
      for (const M of SIZES) {
        it(`M=${M}: all N×K in {${SIZES.join(',')}}²`, () => {
          const rand = rng(1000 + M);
          let n = 0;
          for (const N of SIZES) {
            for (const K of SIZES) {
              n++;
              checkGemm(k, arena, rand, {
                M,
                N,
                K,
                act: (M + 3 * N + 7 * K + n) % ACTS.length,
                bias: n % 2 === 0,
                ldaPad: n % 3 === 0 ? 0 : (n % 3) * 3,
                ldcPad: n % 4 === 0 ? 5 : 0,
                aMisalign: n % 5 === 0 ? 4 : 0,
              });
            }
          }
        });
      }

      it('every activation code with and without bias on tail-heavy shapes', () => {
        const rand = rng(7);
        const shapes = [
          [1, 257, 65],
          [5, 13, 7],
          [65, 3, 17],
          [2, 9, 1],
          [3, 16, 33],
          [6, 24, 8],
          [1, 1, 1],
          [4, 8, 4],
        ];
        for (const [M, N, K] of shapes) {
          for (let act = 0; act < ACTS.length; act++) {
            for (const bias of [false, true]) {
              checkGemm(k, arena, rand, { M, N, K, act, bias, ldaPad: 0, ldcPad: 0, aMisalign: 0 });
              checkGemm(k, arena, rand, { M, N, K, act, bias, ldaPad: 1, ldcPad: 3, aMisalign: 4 });
            }
          }
        }
      });

      it('large pre-activations saturate (sigmoid/tanh/clip/hard_swish/gelu)', () => {
        arena.reset();
        const M = 2,
          N = 9,
          K = 2;
        // A·B = ±1e4·column pattern: deep saturation for every activation.
        const A = new Float32Array([1e4, -1e4, -3e4, 2e4]);
        const B = new Float32Array(K * N).map((_, i) => (i % 3) - 1);
        const aPtr = arena.put(A);
        const wPtr = arena.put(packB(B, K, N));
        const cPtr = arena.alloc(M * N);
        for (const act of ACTS) {
          call(k, 'gemm', {
            a: aPtr,
            lda: K,
            w: wPtr,
            bias: 0,
            c: cPtr,
            ldc: N,
            M,
            N,
            K,
            act: act.code,
            p0: act.p0,
            p1: act.p1,
          });
          const C = arena.f32(cPtr, M * N);
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let kk = 0; kk < K; kk++) s += A[i * K + kk] * B[kk * N + j];
              const m = mismatch(C[i * N + j], act.f(s), 1e-6, 1e-7);
              if (m) expect.fail(`${act.name}(${s}): ${m}`);
            }
          }
        }
      });
    });

    describe('unary', () => {
      const SPECIAL = [
        0,
        -0,
        1e-8,
        -1e-8,
        1,
        -1,
        0.5,
        -0.5,
        0.625,
        -0.625,
        0.99,
        1.01,
        1.99,
        2.01,
        3,
        -3,
        5,
        -5,
        20,
        -20,
        88,
        -88,
        89,
        -89,
        1e30,
        -1e30,
        Infinity,
        -Infinity,
        NaN,
        1e-40,
        -1e-40,
        3.4e38,
      ];
      interface UnarySpec {
        ref: (x: number) => number;
        /** The kernel's own parameters after x, y, n (named as in the ABI table). */
        params?: Record<string, number>;
        rtol: number;
        atol: number;
        lo?: number;
        hi?: number;
      }
      // One entry per kernel of the family: a kernel added to the table without one fails below.
      const SPECS: Record<FamilyKernel<'unary'>, UnarySpec> = {
        unary_relu: { ref: (x) => Math.max(x, 0), rtol: 0, atol: 0 },
        unary_leaky_relu: { ref: (x) => leakyRef(x, Math.fround(0.01)), params: { alpha: 0.01 }, rtol: 0, atol: 0 },
        unary_sigmoid: { ref: sigmoidRef, rtol: 1e-6, atol: 1e-7, lo: -30, hi: 30 },
        unary_tanh: { ref: Math.tanh, rtol: 1e-6, atol: 1e-7, lo: -10, hi: 10 },
        unary_exp: { ref: Math.exp, rtol: 1e-6, atol: 1e-7, lo: -100, hi: 90 },
        unary_log: { ref: Math.log, rtol: 1e-6, atol: 1e-7, lo: 0, hi: 1e6 },
        unary_neg: { ref: (x) => -x, rtol: 0, atol: 0 },
        unary_abs: { ref: Math.abs, rtol: 0, atol: 0 },
        unary_sqrt: { ref: Math.sqrt, rtol: 0, atol: 0, lo: 0, hi: 1e6 },
        unary_reciprocal: { ref: (x) => 1 / x, rtol: 0, atol: 0 },
        unary_erf: { ref: erfRef, rtol: 1e-6, atol: 1e-6, lo: -5, hi: 5 },
        unary_clip: { ref: (x) => clipRef(x, 0, 6), params: { lo: 0, hi: 6 }, rtol: 0, atol: 0, lo: -10, hi: 10 },
        unary_hard_sigmoid: {
          ref: (x) => hardSigmoidRef(x, 0.2, 0.5),
          params: { alpha: 0.2, beta: 0.5 },
          rtol: 1e-6,
          atol: 1e-7,
          lo: -5,
          hi: 5,
        },
        unary_hard_swish: { ref: hardSwishRef, rtol: 1e-6, atol: 1e-7, lo: -6, hi: 6 },
        unary_gelu: { ref: geluRef, rtol: 1e-6, atol: 1e-6, lo: -8, hi: 8 },
        // 1, −1, 0, and NaN for NaN (onnxruntime 1.30 and numpy.sign)
        unary_sign: { ref: (x) => (Number.isNaN(x) ? NaN : +(x > 0) - +(x < 0)), rtol: 0, atol: 0 },
        // Math functions: within 2 ulp (2.4e-7 relative); math-kernels.test.ts measures ulps.
        unary_elu: { ref: (x) => eluRef(x, Math.fround(0.3)), params: { alpha: 0.3 }, rtol: 2.4e-7, atol: 0 },
        unary_selu: {
          ref: (x) => seluRef(x, SELU_ALPHA, SELU_GAMMA),
          params: { alpha: SELU_ALPHA, gamma: SELU_GAMMA },
          rtol: 2.4e-7,
          atol: 0,
        },
        unary_celu: { ref: (x) => celuRef(x, 2), params: { alpha: 2 }, rtol: 2.4e-7, atol: 0 },
        unary_thresholded_relu: {
          ref: (x) => thresholdedReluRef(x, 0.5),
          params: { alpha: 0.5 },
          rtol: 0,
          atol: 0,
        },
        unary_shrink: {
          ref: (x) => shrinkRef(x, Math.fround(0.3), 1.5),
          params: { bias: 0.3, lambd: 1.5 },
          rtol: 0,
          atol: 0,
        },
        unary_softplus: { ref: softplusRef, rtol: 2.4e-7, atol: 0 },
        unary_softsign: { ref: softsignRef, rtol: 2.4e-7, atol: 0 },
        unary_mish: { ref: mishRef, rtol: 2.4e-7, atol: 0 },
        unary_sin: { ref: Math.sin, rtol: 2.4e-7, atol: 0 },
        unary_cos: { ref: Math.cos, rtol: 2.4e-7, atol: 0 },
        unary_tan: { ref: Math.tan, rtol: 2.4e-7, atol: 0 },
        unary_asin: { ref: Math.asin, rtol: 2.4e-7, atol: 0, lo: -1, hi: 1 },
        unary_acos: { ref: Math.acos, rtol: 2.4e-7, atol: 0, lo: -1, hi: 1 },
        unary_atan: { ref: Math.atan, rtol: 2.4e-7, atol: 0 },
        unary_sinh: { ref: Math.sinh, rtol: 2.4e-7, atol: 0, lo: -90, hi: 90 },
        unary_cosh: { ref: Math.cosh, rtol: 2.4e-7, atol: 0, lo: -90, hi: 90 },
        unary_asinh: { ref: Math.asinh, rtol: 2.4e-7, atol: 0 },
        unary_acosh: { ref: Math.acosh, rtol: 2.4e-7, atol: 0, lo: 1, hi: 100 },
        unary_atanh: { ref: Math.atanh, rtol: 2.4e-7, atol: 0, lo: -1, hi: 1 },
        unary_floor: { ref: Math.floor, rtol: 0, atol: 0 },
        unary_ceil: { ref: Math.ceil, rtol: 0, atol: 0 },
        unary_round: { ref: roundRef, rtol: 0, atol: 0 },
      };

      it('every unary kernel of the table has a test spec', () => {
        for (const name of familyMembers('unary')) expect(SPECS[name as FamilyKernel<'unary'>], name).to.exist;
      });

      for (const [name, c] of Object.entries(SPECS) as [FamilyKernel<'unary'>, UnarySpec][]) {
        it(`${name}: special values, random values, tails, in place, unaligned`, () => {
          const fn = (x: number, y: number, n: number) => call(k, name, { x, y, n, ...c.params });
          const rand = rng((name.length - 'unary_'.length) * 31 + 5);
          const lo = c.lo ?? -100,
            hi = c.hi ?? 100;
          const inputs: Float32Array[] = [
            Float32Array.from(SPECIAL),
            randomArray(1001, rand, lo, hi),
            randomArray(203, rand, -1, 1),
            // wide magnitude range, both signs
            Float32Array.from({ length: 301 }, () => (rand() < 0.5 ? -1 : 1) * Math.pow(10, -38 + 76 * rand())),
            ...[1, 2, 3, 4, 5, 6, 7].map((n) => randomArray(n, rand, lo, hi)),
          ];
          const run = (x: Float32Array, inPlace: boolean, misalign: number): Float32Array => {
            arena.reset();
            const xPtr = arena.put(x, misalign);
            const yPtr = inPlace ? xPtr : arena.alloc(x.length + 4, misalign);
            if (!inPlace) arena.f32(yPtr, x.length + 4).fill(CANARY);
            fn(xPtr, yPtr, x.length);
            if (!inPlace) {
              const after = arena.f32(yPtr + x.length * 4, 4);
              for (let i = 0; i < 4; i++) if (after[i] !== CANARY) expect.fail(`${name} n=${x.length} wrote past y`);
            }
            return arena.f32(yPtr, x.length).slice();
          };
          for (const x of inputs) {
            const ref = Array.from(x, (v) => Math.fround(c.ref(v)));
            expectClose(run(x, false, 0), ref, c.rtol, c.atol, `${name} n=${x.length}`, x);
            expectClose(run(x, true, 0), ref, c.rtol, c.atol, `${name} in place n=${x.length}`, x);
            expectClose(run(x, false, 4), ref, c.rtol, c.atol, `${name} unaligned n=${x.length}`, x);
          }
          // n = 0 writes nothing.
          arena.reset();
          const yPtr = arena.put([CANARY]);
          fn(yPtr, yPtr, 0);
          expect(arena.f32(yPtr, 1)[0]).to.equal(CANARY);
        });
      }

      it('sigmoid/tanh saturate exactly and keep tiny values relative-accurate', () => {
        arena.reset();
        const x = Float32Array.from([1e30, -1e30, Infinity, -Infinity, 50, -50, 1e-8, -1e-8, 1e-20]);
        const p = arena.put(x);
        const y = arena.alloc(x.length);
        call(k, 'unary_sigmoid', { x: p, y, n: x.length });
        expect(Array.from(arena.f32(y, 4))).to.deep.equal([1, 0, 1, 0]);
        call(k, 'unary_tanh', { x: p, y, n: x.length });
        const t = arena.f32(y, x.length);
        expect(Array.from(t.slice(0, 6))).to.deep.equal([1, -1, 1, -1, 1, -1]);
        for (let i = 6; i < x.length; i++) expect(Math.abs(t[i] / x[i] - 1)).to.be.below(1e-6);
        call(k, 'unary_erf', { x: p, y, n: x.length });
        const e = arena.f32(y, x.length);
        for (let i = 6; i < x.length; i++)
          expect(Math.abs(e[i] / ((x[i] * 2) / Math.sqrt(Math.PI)) - 1)).to.be.below(1e-6);
      });
    });

    describe('binary', () => {
      interface BinCase {
        name: string;
        rows: number;
        dims: number[]; // output dims, dims[0] replaced by rows
        aStrides: number[];
        bStrides: number[];
        aLen: number;
        bLen: number;
        tableD0?: number; // what to write as d0 in the table (must be ignored)
      }
      const CASES: BinCase[] = [
        {
          name: 'same shape, collapsed to rank 1',
          rows: 1003,
          dims: [1003],
          aStrides: [1],
          bStrides: [1],
          aLen: 1003,
          bLen: 1003,
          tableD0: 7,
        },
        {
          name: 'same shape rank 3',
          rows: 3,
          dims: [3, 5, 7],
          aStrides: [35, 7, 1],
          bStrides: [35, 7, 1],
          aLen: 105,
          bLen: 105,
        },
        { name: 'b scalar', rows: 5, dims: [5, 13], aStrides: [13, 1], bStrides: [0, 0], aLen: 65, bLen: 1 },
        { name: 'a scalar', rows: 5, dims: [5, 13], aStrides: [0, 0], bStrides: [13, 1], aLen: 1, bLen: 65 },
        { name: 'b row vector', rows: 4, dims: [4, 10], aStrides: [10, 1], bStrides: [0, 1], aLen: 40, bLen: 10 },
        { name: 'b column vector', rows: 6, dims: [6, 11], aStrides: [11, 1], bStrides: [1, 0], aLen: 66, bLen: 6 },
        {
          name: '3-D middle broadcast',
          rows: 2,
          dims: [2, 4, 6],
          aStrides: [24, 6, 1],
          bStrides: [6, 0, 1],
          aLen: 48,
          bLen: 12,
        },
        {
          name: 'both broadcast (outer product)',
          rows: 7,
          dims: [7, 9],
          aStrides: [1, 0],
          bStrides: [0, 1],
          aLen: 7,
          bLen: 9,
        },
        {
          name: 'transposed a (general strides)',
          rows: 5,
          dims: [5, 6],
          aStrides: [1, 5],
          bStrides: [6, 1],
          aLen: 30,
          bLen: 30,
        },
        {
          name: 'rank 4 mixed',
          rows: 2,
          dims: [2, 3, 2, 5],
          aStrides: [30, 10, 5, 1],
          bStrides: [0, 5, 0, 1],
          aLen: 60,
          bLen: 15,
        },
        {
          name: 'rank 6 mixed',
          rows: 2,
          dims: [2, 2, 3, 1, 2, 3],
          aStrides: [36, 18, 6, 0, 3, 1],
          bStrides: [0, 3, 1, 0, 0, 6],
          aLen: 72,
          bLen: 18,
        },
        {
          name: 'batch broadcast (rows=0 stride)',
          rows: 3,
          dims: [3, 8],
          aStrides: [8, 1],
          bStrides: [0, 1],
          aLen: 24,
          bLen: 8,
        },
      ];
      interface BinarySpec {
        f: (a: number, b: number) => number;
        /** int32 operands and result (wrapping), bit-exact. */
        ints?: true;
      }
      // One entry per kernel of the family: a kernel added to the table without one fails below.
      const SPECS: Record<FamilyKernel<'binary'>, BinarySpec> = {
        binary_add: { f: (a, b) => a + b },
        binary_sub: { f: (a, b) => a - b },
        binary_mul: { f: (a, b) => a * b },
        binary_div: { f: (a, b) => a / b },
        binary_pow: { f: Math.pow },
        binary_max: { f: Math.max },
        binary_min: { f: Math.min },
        binary_less: { f: (a, b) => +(a < b) },
        binary_greater: { f: (a, b) => +(a > b) },
        binary_equal: { f: (a, b) => +(a === b) },
        binary_less_equal: { f: (a, b) => +(a <= b) },
        binary_greater_equal: { f: (a, b) => +(a >= b) },
        binary_add_i32: { f: (a, b) => (a + b) | 0, ints: true },
        binary_sub_i32: { f: (a, b) => (a - b) | 0, ints: true },
        binary_mul_i32: { f: Math.imul, ints: true },
        // PRelu (ONNX): x < 0 ? slope·x : x; NaN and −0 pass through unchanged.
        binary_prelu: { f: (a, b) => (a < 0 ? a * b : a) },
      };

      it('every binary kernel of the table has a test spec', () => {
        for (const name of familyMembers('binary')) expect(SPECS[name as FamilyKernel<'binary'>], name).to.exist;
      });

      const tableOf = (c: BinCase): number[] => [
        c.dims.length,
        c.tableD0 ?? c.dims[0],
        ...c.dims.slice(1),
        ...c.aStrides,
        ...c.bStrides,
      ];

      const reference = (
        c: BinCase,
        a: Float32Array,
        b: Float32Array,
        f: (a: number, b: number) => number,
        round: (v: number) => number = Math.fround,
      ): number[] => {
        const total = c.dims.reduce((p, d) => p * d, 1);
        const out: number[] = [];
        for (let lin = 0; lin < total; lin++) {
          let t = lin,
            ia = 0,
            ib = 0;
          for (let j = c.dims.length - 1; j >= 0; j--) {
            const idx = t % c.dims[j];
            t = Math.floor(t / c.dims[j]);
            ia += idx * c.aStrides[j];
            ib += idx * c.bStrides[j];
          }
          out.push(round(f(a[ia], b[ib])));
        }
        return out;
      };

      const operands = (c: BinCase, op: string, rand: () => number): [Float32Array, Float32Array] => {
        if (SPECS[`binary_${op}` as FamilyKernel<'binary'>].ints) {
          // Small values and values that wrap past int32 (held exactly in a float64 array here).
          const int = () => (rand() < 0.8 ? Math.round(2000 * rand() - 1000) : Math.round(2 ** 32 * rand()) | 0);
          return [
            Float64Array.from({ length: c.aLen }, int),
            Float64Array.from({ length: c.bLen }, int),
          ] as unknown as [Float32Array, Float32Array];
        }
        // Comparisons see equal operands too.
        if (op.includes('equal') || op === 'less' || op === 'greater') {
          const pick = () => Math.round(6 * rand() - 3) / 2;
          return [Float32Array.from({ length: c.aLen }, pick), Float32Array.from({ length: c.bLen }, pick)];
        }
        if (op !== 'pow') return [randomArray(c.aLen, rand, -10, 10), randomArray(c.bLen, rand, -4, 4)];
        // Negative bases with integer exponents, fractional exponents, zeros and specials.
        const bases = [-3, -2, -1.5, -1, -0.5, -0, 0, 0.5, 1, 1.5, 2, 3, 10, -Infinity, Infinity, NaN];
        const exps = [-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 2.5, -2.5, 7, Infinity, -Infinity, NaN];
        const pick = (set: number[]) => (rand() < 0.6 ? set[Math.floor(rand() * set.length)] : 4 * rand());
        return [
          Float32Array.from({ length: c.aLen }, () => pick(bases)),
          Float32Array.from({ length: c.bLen }, () => pick(exps)),
        ];
      };

      for (const [kernel, spec] of Object.entries(SPECS) as [FamilyKernel<'binary'>, BinarySpec][]) {
        const op = { name: kernel.slice('binary_'.length), f: spec.f };
        it(`${kernel} over broadcast tables`, () => {
          const fn = (a: number, b: number, y: number, rows: number, table: number) =>
            call(k, kernel, { a, b, y, rows, table });
          const rand = rng(op.name.charCodeAt(0) * 131 + op.name.charCodeAt(1));
          // pow is computed in f64 and rounded once; the rest must be bit-exact.
          const rtol = op.name === 'pow' ? 1e-6 : 0;
          const put = (v: Float32Array) => (spec.ints ? arena.putI32(Array.from(v)) : arena.put(v));
          const view = (p: number, n: number) => (spec.ints ? arena.i32(p, n) : arena.f32(p, n));
          for (const c of CASES) {
            const [a, b] = operands(c, op.name, rand);
            const ref = reference(c, a, b, op.f, spec.ints ? (v) => v | 0 : Math.fround);
            arena.reset();
            const aPtr = put(a);
            const bPtr = put(b);
            const table = arena.putI32(tableOf(c));
            const yPtr = arena.alloc(ref.length + 4);
            arena.f32(yPtr, ref.length + 4).fill(CANARY);
            fn(aPtr, bPtr, yPtr, c.rows, table);
            expectClose(view(yPtr, ref.length), ref, rtol, 0, `binary_${op.name} ${c.name}`);
            expect(
              Array.from(arena.f32(yPtr + ref.length * 4, 4)),
              `binary_${op.name} ${c.name}: past y`,
            ).to.deep.equal([CANARY, CANARY, CANARY, CANARY]);

            // In place over an operand laid out exactly like y.
            const contiguous = c.dims.map((_, j) => c.dims.slice(j + 1).reduce((p, d) => p * d, 1));
            const likeY = (strides: number[]) => strides.every((s, j) => s === contiguous[j] || c.dims[j] === 1);
            if (c.aLen === ref.length && likeY(c.aStrides)) {
              const a2 = put(a);
              fn(a2, bPtr, a2, c.rows, table);
              expectClose(view(a2, ref.length), ref, rtol, 0, `binary_${op.name} ${c.name} (y = a)`);
            }
            if (c.bLen === ref.length && likeY(c.bStrides)) {
              const b2 = put(b);
              fn(aPtr, b2, b2, c.rows, table);
              expectClose(view(b2, ref.length), ref, rtol, 0, `binary_${op.name} ${c.name} (y = b)`);
            }
          }
        });
      }

      it('binary_pow matches Math.pow on the sign and special-value rules', () => {
        const a = [-2, -2, -2, -0, -0, -0, 0, 1, 1, -1, -8, Infinity, -Infinity, -Infinity, 2, 0.5, NaN, 5];
        const b = [3, 2, 0.5, 3, -3, 0.5, -1, NaN, Infinity, Infinity, 1 / 3, -1, 3, 2, 10, 149, 0, -2];
        arena.reset();
        const aPtr = arena.put(a);
        const bPtr = arena.put(b);
        const table = arena.putI32([1, a.length, 1, 1]);
        const yPtr = arena.alloc(a.length);
        call(k, 'binary_pow', { a: aPtr, b: bPtr, y: yPtr, rows: a.length, table });
        const got = arena.f32(yPtr, a.length);
        for (let i = 0; i < a.length; i++) {
          const want = Math.fround(Math.pow(a[i], b[i]));
          if (!Object.is(got[i], want) && mismatch(got[i], want, 1e-6, 0) !== null) {
            expect.fail(`pow(${a[i]}, ${b[i]}) = ${got[i]}, want ${want}`);
          }
        }
        // exact small integer powers
        expect(got[0]).to.equal(-8);
        expect(got[1]).to.equal(4);
        expect(got[14]).to.equal(1024);

        // Exponent broadcast as the scalar 2 (the squared-difference pattern) takes a SIMD path.
        const two = arena.put([2]);
        const sq = arena.putI32([2, 0, 6, 6, 1, 0, 0]);
        const x = [-3, -0.5, 0, 1e20, -1e20, NaN, Infinity, -Infinity, 7, 1.5, -2, 0.25];
        const xPtr = arena.put(x);
        const y2 = arena.alloc(x.length);
        call(k, 'binary_pow', { a: xPtr, b: two, y: y2, rows: 2, table: sq });
        expectClose(
          arena.f32(y2, x.length),
          x.map((v) => Math.fround(v * v)),
          0,
          0,
          'pow(x, 2)',
        );
      });
    });

    describe('softmax / log_softmax', () => {
      const SHAPES: [number, number, number][] = [
        [1, 1, 1],
        [3, 10, 1],
        [2, 37, 1],
        [1, 1000, 1],
        [5, 3, 1],
        [4, 5, 3],
        [2, 7, 9],
        [3, 4, 4],
        [1, 6, 1],
        [2, 1, 5],
      ];
      const reference = (x: Float32Array, o: number, n: number, inner: number, log: boolean): number[] => {
        const y = new Array<number>(x.length);
        for (let oi = 0; oi < o; oi++) {
          for (let j = 0; j < inner; j++) {
            const at = (a: number) => (oi * n + a) * inner + j;
            let m = -Infinity;
            for (let a = 0; a < n; a++) m = Math.max(m, x[at(a)]);
            let s = 0;
            for (let a = 0; a < n; a++) s += Math.exp(x[at(a)] - m);
            for (let a = 0; a < n; a++) y[at(a)] = log ? x[at(a)] - m - Math.log(s) : Math.exp(x[at(a)] - m) / s;
          }
        }
        return y;
      };
      for (const log of [false, true]) {
        const name = log ? 'log_softmax' : 'softmax';
        it(`${name}: shapes with inner = 1 and > 1, large values, in place`, () => {
          const fn = (x: number, y: number, outer: number, axis: number, inner: number) =>
            call(k, log ? 'log_softmax' : 'softmax', { x, y, outer, axis, inner });
          const rand = rng(log ? 99 : 98);
          for (const [o, n, inner] of SHAPES) {
            for (const scale of [1, 30, 1e4]) {
              const x = randomArray(o * n * inner, rand, -scale, scale);
              if (scale === 1e4) x[0] = 1e4; // at least one at the top: a naive exp overflows
              const ref = reference(x, o, n, inner, log);
              const what = `${name} [${o},${n},${inner}] scale ${scale}`;
              arena.reset();
              const xPtr = arena.put(x);
              const yPtr = arena.alloc(x.length + 4);
              arena.f32(yPtr, x.length + 4).fill(CANARY);
              fn(xPtr, yPtr, o, n, inner);
              const got = arena.f32(yPtr, x.length);
              for (let i = 0; i < x.length; i++) {
                // log_softmax: absolute error scales with |x| (x - max is exact, log(sum) is not).
                const atol = log ? 2e-6 * (1 + Math.abs(x[i]) + scale) : 1e-7;
                const m = mismatch(got[i], ref[i], 1e-5, atol);
                if (m) expect.fail(`${what}[${i}]: ${m}`);
              }
              expect(Array.from(arena.f32(yPtr + x.length * 4, 4)), `${what}: past y`).to.deep.equal([
                CANARY,
                CANARY,
                CANARY,
                CANARY,
              ]);
              if (!log) {
                for (let oi = 0; oi < o; oi++) {
                  for (let j = 0; j < inner; j++) {
                    let s = 0;
                    for (let a = 0; a < n; a++) s += got[(oi * n + a) * inner + j];
                    expect(Math.abs(s - 1), `${what} sums to 1`).to.be.below(1e-5);
                  }
                }
              }
              fn(xPtr, xPtr, o, n, inner);
              expectClose(arena.f32(xPtr, x.length), got, 0, 0, `${what} in place`);
            }
          }
        });
      }
    });

    describe('copy / fill', () => {
      it('copy moves bytes, also overlapping in both directions', () => {
        arena.reset();
        const src = Float32Array.from({ length: 37 }, (_, i) => i + 0.5);
        const p = arena.put(src);
        const q = arena.alloc(40);
        arena.f32(q, 40).fill(CANARY);
        call(k, 'copy', { x: p, y: q, nbytes: 37 * 4 });
        expect(Array.from(arena.f32(q, 37))).to.deep.equal(Array.from(src));
        expect(arena.f32(q, 38)[37]).to.equal(CANARY);
        call(k, 'copy', { x: p, y: p + 8, nbytes: 20 * 4 }); // forward overlap
        expect(Array.from(arena.f32(p + 8, 20))).to.deep.equal(Array.from(src.slice(0, 20)));
        arena.f32(p, 37).set(src);
        call(k, 'copy', { x: p + 8, y: p, nbytes: 20 * 4 }); // backward overlap
        expect(Array.from(arena.f32(p, 20))).to.deep.equal(Array.from(src.slice(2, 22)));
      });

      it('fill writes exactly n floats for every tail length', () => {
        for (let n = 0; n <= 9; n++) {
          arena.reset();
          const p = arena.alloc(n + 4, 4);
          arena.f32(p, n + 4).fill(CANARY);
          call(k, 'fill', { y: p, n, v: -1.25 });
          const y = arena.f32(p, n + 4);
          for (let i = 0; i < n + 4; i++) expect(y[i], `n=${n} [${i}]`).to.equal(i < n ? -1.25 : CANARY);
        }
      });

      it('fill_u8 writes exactly n bytes at any alignment', () => {
        for (let n = 0; n <= 9; n++) {
          for (const misalign of [0, 1, 3]) {
            arena.reset();
            const p = arena.alloc(4, misalign);
            const bytes = arena.view(Uint8Array, p, n + 4);
            bytes.fill(0xaa);
            call(k, 'fill_u8', { y: p, n, v: 1 });
            for (let i = 0; i < n + 4; i++) expect(bytes[i], `n=${n} +${misalign} [${i}]`).to.equal(i < n ? 1 : 0xaa);
          }
        }
      });
    });
  });
}
