// maxpool_indices (MaxPool's Indices output) of dist/kernels*.wasm against a reference written from the
// ONNX MaxPool definition on the NCHW tensor: the flat index of each window's largest value (first one in
// row-major scan order), row-major or column-major (storage_order), with canaries after the output.
import { expect } from '@open-wc/testing';
import { Arena, call, describeEachBuild, randomArray, rng, type KernelExports as Kernels } from './kernel-harness.js';

interface Win {
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  DH: number;
  DW: number;
  PT: number;
  PL: number;
  PB: number;
  PR: number;
}

const outSize = (d: number, k: number, s: number, dil: number, p0: number, p1: number) =>
  Math.floor((d + p0 + p1 - ((k - 1) * dil + 1)) / s) + 1;

/** ONNX MaxPool Indices on x NCHW [N, C, H, W]. */
function indicesRef(x: Float32Array, N: number, C: number, H: number, W: number, w: Win, order: number): number[] {
  const OH = outSize(H, w.KH, w.SH, w.DH, w.PT, w.PB);
  const OW = outSize(W, w.KW, w.SW, w.DW, w.PL, w.PR);
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let best = -Infinity;
          let at = -1;
          for (let kh = 0; kh < w.KH; kh++)
            for (let kw = 0; kw < w.KW; kw++) {
              const h = oh * w.SH - w.PT + kh * w.DH;
              const ww = ow * w.SW - w.PL + kw * w.DW;
              if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
              const v = x[((n * C + c) * H + h) * W + ww];
              if (v > best || (at < 0 && v === best)) {
                best = v;
                at = order ? ww * H + h : h * W + ww;
              }
            }
          out.push(at < 0 ? -1 : (n * C + c) * H * W + at);
        }
  return out;
}

describeEachBuild('maxpool_indices', (env) => {
  let k: Kernels;
  let arena: Arena;

  before(() => {
    k = env.k as Kernels;
    arena = env.arena;
  });

  function check(N: number, C: number, H: number, W: number, w: Win, order: number, x: Float32Array): void {
    arena.reset();
    // The kernel reads channels-last x [N, H, W, C].
    const nhwc = new Float32Array(x.length);
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let p = 0; p < H * W; p++) nhwc[(n * H * W + p) * C + c] = x[(n * C + c) * H * W + p];
    const OH = outSize(H, w.KH, w.SH, w.DH, w.PT, w.PB);
    const OW = outSize(W, w.KW, w.SW, w.DW, w.PL, w.PR);
    const count = N * C * OH * OW;
    const xp = arena.put(nhwc);
    const yp = arena.alloc(2 * count + 8);
    const y = arena.view(BigInt64Array, yp, count + 4);
    y.fill(-7n);
    const { PB: _pb, PR: _pr, ...args } = w;
    call(k, 'maxpool_indices', { x: xp, y: yp, images: N, H, W, C, ...args, OH, OW, storageOrder: order });
    const want = indicesRef(x, N, C, H, W, w, order);
    const what = `N${N} C${C} ${H}×${W} ${JSON.stringify(w)} order ${order}`;
    expect(Array.from(y.subarray(0, count), Number), what).to.deep.equal(want);
    for (let t = 0; t < 4; t++) expect(y[count + t], `${what}: wrote past the end`).to.equal(-7n);
  }

  const plain: Win = { KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, PT: 0, PL: 0, PB: 0, PR: 0 };

  it('windows with strides, pads, dilations, and both storage orders', () => {
    let seed = 1;
    const wins: Win[] = [
      plain,
      { KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PT: 1, PL: 1, PB: 1, PR: 1 },
      { KH: 2, KW: 3, SH: 2, SW: 1, DH: 2, DW: 1, PT: 0, PL: 2, PB: 1, PR: 0 },
      { KH: 1, KW: 4, SH: 1, SW: 3, DH: 1, DW: 2, PT: 0, PL: 0, PB: 0, PR: 3 },
    ];
    for (const w of wins)
      for (const [N, C, H, W] of [
        [1, 1, 4, 4],
        [2, 3, 5, 7],
        [1, 5, 1, 9],
      ])
        for (const order of [0, 1]) {
          if (outSize(H, w.KH, w.SH, w.DH, w.PT, w.PB) < 1 || outSize(W, w.KW, w.SW, w.DW, w.PL, w.PR) < 1) continue;
          check(N, C, H, W, w, order, randomArray(N * C * H * W, rng(seed++), -3, 3));
        }
  });

  it('ties give the first in scan order; NaN is never chosen; -Infinity is', () => {
    const x = Float32Array.from([1, 2, 2, 0, 5, 5, 5, 5, NaN, 3, NaN, NaN, -Infinity, -Infinity, -Infinity, -Infinity]);
    check(1, 1, 4, 4, plain, 0, x);
    // The expected values spelled out from the definition (not only the reference above).
    arena.reset();
    const xp = arena.put(x);
    const yp = arena.alloc(8);
    call(k, 'maxpool_indices', {
      x: xp,
      y: yp,
      images: 1,
      H: 4,
      W: 4,
      C: 1,
      KH: 2,
      KW: 2,
      SH: 2,
      SW: 2,
      DH: 1,
      DW: 1,
      PT: 0,
      PL: 0,
      OH: 2,
      OW: 2,
      storageOrder: 0,
    });
    // Windows: [1,2 / 5,5] → 4 (value 5 at h1 w0); [2,0 / 5,5] → 6; [NaN,3 / -inf,-inf] → 9; [NaN,NaN / -inf,-inf] → 14.
    expect(Array.from(arena.view(BigInt64Array, yp, 4), Number)).to.deep.equal([4, 6, 9, 14]);
  });
});
