// Normalisation kernels of dist/kernels*.wasm over channels-last groups (instance_norm: ONNX
// InstanceNormalization and MeanVarianceNormalization) against double-precision references written from
// the ONNX definitions, with canaries after every output. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import {
  Arena,
  call,
  CANARY,
  TAIL,
  describeEachBuild,
  mismatch,
  randomArray,
  rng,
  type KernelExports as Kernels,
} from './kernel-harness.js';

/**
 * ONNX InstanceNormalization (epsOutside false): y = scale·(x − mean)/sqrt(var + eps) + B per image and
 * channel over the spatial values; MeanVarianceNormalization (epsOutside true, no scale/B): (x − mean) /
 * (sqrt(var) + eps), the ONNX function's form. var is the biased variance. x is [images, HW, C].
 */
function groupNormRef(
  x: Float32Array,
  images: number,
  HW: number,
  C: number,
  scale: Float32Array | null,
  bias: Float32Array | null,
  eps: number,
  epsOutside: boolean,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let n = 0; n < images; n++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < HW; p++) s += x[(n * HW + p) * C + c];
      const mean = s / HW;
      let q = 0;
      for (let p = 0; p < HW; p++) q += (x[(n * HW + p) * C + c] - mean) ** 2;
      const sd = Math.sqrt(q / HW + (epsOutside ? 0 : Math.fround(eps)));
      const a = (scale ? scale[c] : 1) / (epsOutside ? sd + Math.fround(eps) : sd);
      for (let p = 0; p < HW; p++) {
        const i = (n * HW + p) * C + c;
        y[i] = (x[i] - mean) * a + (bias ? bias[c] : 0);
      }
    }
  }
  return y;
}

describeEachBuild('norm kernels', (env) => {
  let k: Kernels;
  let arena: Arena;

  before(() => {
    k = env.k as Kernels;
    arena = env.arena;
  });

  function check(
    images: number,
    HW: number,
    C: number,
    opts: { affine: boolean; epsOutside: boolean; inPlace?: boolean; offset?: number; misalign?: number },
    seed: number,
  ): void {
    const rand = rng(seed);
    const what = `images ${images} HW ${HW} C ${C} ${JSON.stringify(opts)}`;
    arena.reset();
    const n = images * HW * C;
    const x = randomArray(n, rand, -2, 2).map((v) => v + (opts.offset ?? 0));
    const scale = opts.affine ? randomArray(C, rand, 0.5, 1.5) : null;
    const bias = opts.affine ? randomArray(C, rand) : null;
    const eps = opts.epsOutside ? 1e-9 : 1e-5;
    const misalign = opts.misalign ?? 0;
    const xp = arena.put(x, misalign);
    const yp = opts.inPlace ? xp : arena.out(n, misalign);
    if (opts.inPlace) arena.f32(xp + n * 4, TAIL).fill(CANARY);
    const scratch = arena.out(4 * C, 4);
    call(k, 'instance_norm', {
      x: xp,
      scale: scale ? arena.put(scale, 4) : 0,
      bias: bias ? arena.put(bias, 8) : 0,
      y: yp,
      scratch,
      images,
      HW,
      C,
      epsilon: eps,
      epsOutside: opts.epsOutside ? 1 : 0,
    });
    const ref = groupNormRef(x, images, HW, C, scale, bias, eps, opts.epsOutside);
    const got = arena.f32(yp, n + TAIL);
    // f32 data, statistics in f64: the error is a few ulps of |x − mean|·a, which the offset inflates.
    const atol = 2e-6 * (1 + Math.abs(opts.offset ?? 0));
    for (let i = 0; i < n; i++) {
      const m = mismatch(got[i], ref[i], 1e-5, atol * (scale ? 1.5 : 1));
      if (m) expect.fail(`${what} [${i}]: ${m}`);
    }
    for (let t = 0; t < TAIL; t++) expect(got[n + t], `${what}: wrote past the end (float ${t})`).to.equal(CANARY);
  }

  it('InstanceNormalization over every channel tail and group size', () => {
    let seed = 1;
    for (const C of [1, 2, 3, 4, 5, 8, 17]) {
      for (const HW of [1, 2, 7, 33]) {
        for (const images of [1, 3]) check(images, HW, C, { affine: true, epsOutside: false }, seed++);
      }
    }
  });

  it('MeanVarianceNormalization form (no scale or bias, epsilon outside the square root)', () => {
    let seed = 100;
    for (const C of [1, 4, 6])
      for (const HW of [2, 9, 40]) check(2, HW, C, { affine: false, epsOutside: true }, seed++);
  });

  it('in place, misaligned, and with a large mean (statistics in double precision)', () => {
    check(2, 50, 7, { affine: true, epsOutside: false, inPlace: true }, 200);
    check(1, 31, 5, { affine: true, epsOutside: false, misalign: 4 }, 201);
    check(2, 64, 9, { affine: true, epsOutside: false, offset: 1000 }, 202);
    check(1, 64, 3, { affine: false, epsOutside: true, offset: -500 }, 203);
  });

  it('a constant group gives the bias (variance 0), and nothing is written for empty sizes', () => {
    arena.reset();
    const C = 5,
      HW = 6;
    const x = new Float32Array(HW * C).fill(2.5);
    const bias = Float32Array.from({ length: C }, (_, c) => c - 2);
    const xp = arena.put(x);
    const yp = arena.out(HW * C);
    const scale = arena.put(new Float32Array(C).fill(3));
    const scratch = arena.out(4 * C);
    const args = { x: xp, scale, bias: arena.put(bias), y: yp, scratch, images: 1, HW, C, epsilon: 1e-5 };
    call(k, 'instance_norm', { ...args, epsOutside: 0 });
    const y = arena.f32(yp, HW * C);
    for (let i = 0; i < HW * C; i++) expect(y[i], `[${i}]`).to.equal(bias[i % C]);
    // MVN of a constant group: 0 / (0 + epsilon) = 0 (+ bias), never NaN.
    call(k, 'instance_norm', { ...args, epsilon: 1e-9, epsOutside: 1 });
    for (let i = 0; i < HW * C; i++) expect(y[i], `[${i}]`).to.equal(bias[i % C]);
    const empty = arena.out(4);
    for (const sizes of [
      { images: 0, HW, C },
      { images: 1, HW: 0, C },
      { images: 1, HW, C: 0 },
    ]) {
      call(k, 'instance_norm', { ...args, ...sizes, y: empty, epsOutside: 0 });
      expect(
        Array.from(arena.f32(empty, 4 + TAIL)).every((v) => v === CANARY),
        JSON.stringify(sizes),
      ).to.equal(true);
    }
  });
  it('layer_norm_stats: LayerNormalization mean and 1/sqrt(var + eps) per row, each output optional', () => {
    let seed = 300;
    for (const D of [1, 3, 4, 5, 16, 17, 37]) {
      for (const rows of [1, 3]) {
        arena.reset();
        const rand = rng(seed++);
        const x = randomArray(rows * D, rand, -2, 2).map((v) => v + (D === 17 ? 100 : 0));
        const eps = 1e-3;
        const xp = arena.put(x, (D % 4) * 4);
        const mean = arena.out(rows, 4);
        const invStd = arena.out(rows, 8);
        call(k, 'layer_norm_stats', { x: xp, mean, invStd, rows, D, epsilon: eps });
        const gotMean = arena.f32(mean, rows + TAIL);
        const gotInv = arena.f32(invStd, rows + TAIL);
        for (let r = 0; r < rows; r++) {
          const row = Array.from(x.subarray(r * D, (r + 1) * D));
          const m = row.reduce((a, b) => a + b, 0) / D;
          const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / D;
          const what = `D=${D} row ${r}`;
          const e1 = mismatch(gotMean[r], m, 1e-6, 1e-6);
          if (e1) expect.fail(`${what} mean: ${e1}`);
          const e2 = mismatch(gotInv[r], 1 / Math.sqrt(v + Math.fround(eps)), 1e-5, 0);
          if (e2) expect.fail(`${what} invStd: ${e2}`);
        }
        for (let t = 0; t < TAIL; t++) {
          expect(gotMean[rows + t], `D=${D}: mean wrote past the end`).to.equal(CANARY);
          expect(gotInv[rows + t], `D=${D}: invStd wrote past the end`).to.equal(CANARY);
        }
        // Either output alone: the other pointer 0 writes nothing there.
        const only = arena.out(rows);
        call(k, 'layer_norm_stats', { x: xp, mean: 0, invStd: only, rows, D, epsilon: eps });
        expect(Array.from(arena.f32(only, rows))).to.deep.equal(Array.from(gotInv.subarray(0, rows)));
      }
    }
    const untouched = arena.out(2);
    call(k, 'layer_norm_stats', { x: untouched, mean: untouched, invStd: untouched, rows: 0, D: 4, epsilon: 0 });
    call(k, 'layer_norm_stats', { x: untouched, mean: untouched, invStd: untouched, rows: 2, D: 0, epsilon: 0 });
    expect(Array.from(arena.f32(untouched, 2 + TAIL)).every((v) => v === CANARY)).to.equal(true);
  });
});
