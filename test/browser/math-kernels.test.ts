// Accuracy of the unary math kernels (assembly/unary.ts with vtrig, varc, vhyper, vact): the largest
// distance, in float32 ulps, from the correctly rounded float32 of a double-precision reference, over
// dense random ranges (tiny to huge, subnormal to 3.4e38) and special values. The kernels compute in f64
// and round once, so they are held to 1 ulp (the reference itself is f64, then rounded).
import { expect } from '@open-wc/testing';
import type { FamilyKernel } from '../../compiler/abi/kernels.js';
import { Arena, call, rng, type KernelExports, describeEachBuild } from './kernel-harness.js';
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
  ulpDistance,
} from './math-refs.js';

interface Accuracy {
  ref: (x: number) => number;
  params?: Record<string, number>;
  /** Largest ulp distance allowed. */
  ulps: number;
  /** Where the function is defined (random inputs are drawn there as well as everywhere). */
  domain?: [number, number];
}

const ALPHA = Math.fround(0.7);
const FUNCTIONS: Partial<Record<FamilyKernel<'unary'>, Accuracy>> = {
  unary_sin: { ref: Math.sin, ulps: 1 },
  unary_cos: { ref: Math.cos, ulps: 1 },
  unary_tan: { ref: Math.tan, ulps: 1 },
  unary_asin: { ref: Math.asin, ulps: 1, domain: [-1, 1] },
  unary_acos: { ref: Math.acos, ulps: 1, domain: [-1, 1] },
  unary_atan: { ref: Math.atan, ulps: 1 },
  unary_sinh: { ref: Math.sinh, ulps: 1, domain: [-90, 90] },
  unary_cosh: { ref: Math.cosh, ulps: 1, domain: [-90, 90] },
  unary_asinh: { ref: Math.asinh, ulps: 1 },
  unary_acosh: { ref: Math.acosh, ulps: 1, domain: [1, 10] },
  unary_atanh: { ref: Math.atanh, ulps: 1, domain: [-1, 1] },
  unary_elu: { ref: (x) => eluRef(x, ALPHA), params: { alpha: ALPHA }, ulps: 1, domain: [-20, 1] },
  unary_selu: {
    ref: (x) => seluRef(x, SELU_ALPHA, SELU_GAMMA),
    params: { alpha: SELU_ALPHA, gamma: SELU_GAMMA },
    ulps: 1,
    domain: [-20, 5],
  },
  unary_celu: { ref: (x) => celuRef(x, ALPHA), params: { alpha: ALPHA }, ulps: 1, domain: [-20, 1] },
  unary_softplus: { ref: softplusRef, ulps: 1, domain: [-30, 30] },
  unary_mish: { ref: mishRef, ulps: 1, domain: [-30, 30] },
  unary_softsign: { ref: softsignRef, ulps: 1 },
};

/** Magnitudes 2^-149 .. 2^127 with both signs, uniform in the exponent. */
const anyFloat = (rand: () => number) => (rand() < 0.5 ? -1 : 1) * Math.pow(2, -149 + 277 * rand());

const RANGES: [string, (rand: () => number) => number][] = [
  ['|x| < 1e-6', (r) => (r() - 0.5) * 2e-6],
  ['|x| < 1', (r) => r() * 2 - 1],
  ['|x| < 4', (r) => (r() - 0.5) * 8],
  ['|x| < 100', (r) => (r() - 0.5) * 200],
  ['|x| < 1e5', (r) => (r() - 0.5) * 2e5],
  ['|x| < 1e9', (r) => (r() - 0.5) * 2e9],
  ['any float', anyFloat],
];

const SPECIAL = [
  0,
  -0,
  1e-45,
  -1e-45,
  1e-40,
  -1e-40,
  1.1754942e-38,
  0.5,
  -0.5,
  1,
  -1,
  Math.fround(Math.PI / 2),
  Math.fround(Math.PI),
  -Math.fround(Math.PI),
  Math.fround(2 * Math.PI),
  20,
  -20,
  88.7,
  89.5,
  -89.5,
  16777216,
  5e7,
  -5e7,
  4.9999996e7,
  1e30,
  -1e30,
  3.4028235e38,
  -3.4028235e38,
  Infinity,
  -Infinity,
  NaN,
];

describeEachBuild('unary math kernels, accuracy', (env) => {
  let k: KernelExports;
  let arena: Arena;

  before(() => {
    k = env.k as KernelExports;
    arena = env.arena;
  });

  /** Runs kernel `name` over xs; returns the largest ulp distance and where. */
  /** Unary kernel `name` over `xs` (with its attributes `params`): its outputs. */
  function unaryOut(name: FamilyKernel<'unary'>, xs: Float32Array, params: Record<string, number> = {}): Float32Array {
    arena.reset();
    const x = arena.put(xs);
    const y = arena.alloc(xs.length);
    call(k, name, { x, y, n: xs.length, ...params } as never);
    return arena.f32(y, xs.length);
  }

  function worst(name: FamilyKernel<'unary'>, spec: Accuracy, xs: Float32Array): { ulps: number; x: number } {
    const got = unaryOut(name, xs, spec.params);
    let w = { ulps: 0, x: NaN };
    for (let i = 0; i < xs.length; i++) {
      const u = ulpDistance(got[i], Math.fround(spec.ref(xs[i])));
      if (u > w.ulps) w = { ulps: u, x: xs[i] };
    }
    return w;
  }

  for (const [name, spec] of Object.entries(FUNCTIONS) as [FamilyKernel<'unary'>, Accuracy][]) {
    it(`${name}: within ${spec.ulps} ulp on special values and dense random ranges`, () => {
      const rand = rng(name.length * 7919);
      const ranges = [...RANGES];
      if (spec.domain) {
        const [lo, hi] = spec.domain;
        ranges.push([`[${lo}, ${hi}]`, (r) => lo + (hi - lo) * r()]);
      }
      const report: string[] = [];
      const s = worst(name, spec, Float32Array.from(SPECIAL));
      if (s.ulps > spec.ulps) expect.fail(`${name}(${s.x}): ${s.ulps} ulp from the correctly rounded value`);
      for (const [label, draw] of ranges) {
        const xs = Float32Array.from({ length: 50000 }, () => draw(rand));
        const w = worst(name, spec, xs);
        report.push(`${label}: ${w.ulps}`);
        if (w.ulps > spec.ulps)
          expect.fail(`${name}(${w.x}) [${label}]: ${w.ulps} ulp from the correctly rounded value`);
      }
    });
  }

  it('floor, ceil and round (half to even) are exact, keep −0, ±Inf and NaN', () => {
    const rand = rng(3);
    const xs = Float32Array.from([
      ...[0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 1e-40, -1e-40, 8388607.5, 8388608.5],
      ...[16777216, 1e30, -1e30, Infinity, -Infinity, NaN],
      ...Array.from({ length: 3000 }, () => (rand() - 0.5) * 2000),
      ...Array.from({ length: 1000 }, () => Math.round((rand() - 0.5) * 40) / 2), // every half
    ]);
    const refs: [FamilyKernel<'unary'>, (x: number) => number][] = [
      ['unary_floor', Math.floor],
      ['unary_ceil', Math.ceil],
      ['unary_round', roundRef],
    ];
    for (const [name, ref] of refs) {
      const got = unaryOut(name, xs);
      for (let i = 0; i < xs.length; i++) {
        if (!Object.is(got[i], Math.fround(ref(xs[i]))))
          expect.fail(`${name}(${xs[i]}) = ${got[i]}, want ${ref(xs[i])}`);
      }
    }
  });

  it('thresholded_relu and shrink follow the ONNX definitions exactly (NaN gives 0)', () => {
    const xs = Float32Array.from([
      -3,
      -1.5,
      -1,
      -0.75,
      -0,
      0,
      0.75,
      1,
      1.0000001,
      1.5,
      3,
      1e30,
      -1e30,
      Infinity,
      -Infinity,
      NaN,
    ]);
    const cases: [FamilyKernel<'unary'>, Record<string, number>, (x: number) => number][] = [
      ['unary_thresholded_relu', { alpha: 1 }, (x) => thresholdedReluRef(x, 1)],
      ['unary_thresholded_relu', { alpha: -1 }, (x) => thresholdedReluRef(x, -1)],
      ['unary_shrink', { bias: 0.5, lambd: 1 }, (x) => shrinkRef(x, 0.5, 1)],
      ['unary_shrink', { bias: 0, lambd: 0.5 }, (x) => shrinkRef(x, 0, 0.5)],
      ['unary_shrink', { bias: 2, lambd: 0 }, (x) => shrinkRef(x, 2, 0)],
    ];
    for (const [name, params, ref] of cases) {
      const got = unaryOut(name, xs, params);
      for (let i = 0; i < xs.length; i++) {
        const want = Math.fround(ref(xs[i]));
        // ±0 are the same output here (the ONNX definitions write 0 for "otherwise").
        if (!(got[i] === want || (Number.isNaN(got[i]) && Number.isNaN(want))))
          expect.fail(`${name} ${JSON.stringify(params)} (${xs[i]}) = ${got[i]}, want ${want}`);
      }
    }
  });

  it('sin and tan keep the sign of ±0; large arguments reduce exactly (Payne–Hanek lanes mixed with small ones)', () => {
    // Lanes of one vector take the slow path together: small lanes must not change.
    const xs = Float32Array.from([-0, 0.5, 1e30, 3, 2.5e38, -0, 1e-30, 7e7]);
    for (const [name, ref] of [
      ['unary_sin', Math.sin],
      ['unary_tan', Math.tan],
      ['unary_cos', Math.cos],
    ] as [FamilyKernel<'unary'>, (x: number) => number][]) {
      const got = unaryOut(name, xs);
      for (let i = 0; i < xs.length; i++) {
        const want = Math.fround(ref(xs[i]));
        if (!Object.is(got[i], want) && ulpDistance(got[i], want) > 1)
          expect.fail(`${name}(${xs[i]}) = ${got[i]}, want ${want}`);
        if (xs[i] === 0 && name !== 'unary_cos')
          expect(Object.is(got[i], xs[i]), `${name}(${xs[i]}) sign`).to.equal(true);
      }
    }
  });
});
