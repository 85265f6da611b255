// Conv / pool / layout kernels of dist/kernels*.wasm (NHWC) against plain double-precision JS
// references on odd shapes, with canary floats after every output. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES, CONSTANTS } from '../../compiler/abi/codes.js';
import {
  Arena,
  call,
  CANARY,
  TAIL,
  erfRef,
  hardSigmoidRef,
  loadKernels,
  mismatch,
  packB,
  randomArray,
  rng,
  type KernelExports as Kernels,
  type Ptr,
} from './kernel-harness.js';

const NR = CONSTANTS.PANEL_WIDTH;
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** Compares n outputs (atol per element may be an array) and checks the canaries after them. */
function expectOut(
  arena: Arena,
  p: Ptr,
  ref: ArrayLike<number>,
  rtol: number,
  atol: number | ArrayLike<number>,
  what: string,
): void {
  const got = arena.f32(p, ref.length + TAIL);
  for (let i = 0; i < ref.length; i++) {
    const m = mismatch(got[i], ref[i], rtol, typeof atol === 'number' ? atol : atol[i]);
    if (m) expect.fail(`${what}[${i}]: ${m}`);
  }
  for (let t = 0; t < TAIL; t++) {
    if (got[ref.length + t] !== CANARY) expect.fail(`${what}: wrote past the end (float ${t})`);
  }
}

// ---- activations (codes shared with gemm) -------------------------------------------------------

// Every epilogue code of the ABI with its reference (a new code without one fails here).
const ACT_REFS: Record<keyof typeof CODES.ACT, { p0: number; p1: number; f: (x: number) => number }> = {
  NONE: { p0: 0, p1: 0, f: (x) => x },
  RELU: { p0: 0, p1: 0, f: (x) => Math.max(0, x) },
  LEAKY_RELU: { p0: 0.1, p1: 0, f: (x) => (x < 0 ? x * Math.fround(0.1) : x) },
  SIGMOID: { p0: 0, p1: 0, f: (x) => 1 / (1 + Math.exp(-x)) },
  TANH: { p0: 0, p1: 0, f: Math.tanh },
  CLIP: { p0: 0, p1: 6, f: (x) => Math.max(0, Math.min(6, x)) },
  HARD_SIGMOID: { p0: 0.2, p1: 0.5, f: (x) => hardSigmoidRef(x, Math.fround(0.2), 0.5) },
  HARD_SWISH: { p0: 0, p1: 0, f: (x) => x * hardSigmoidRef(x, 1 / 6, 0.5) },
  GELU: { p0: 0, p1: 0, f: (x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2)) },
};
const ACTS = Object.entries(CODES.ACT).map(([name, code]) => ({
  code,
  name: name.toLowerCase(),
  ...ACT_REFS[name as keyof typeof CODES.ACT],
}));

// ---- shapes -------------------------------------------------------------------------------------

interface Geometry {
  images: number;
  H: number;
  W: number;
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
  OH: number;
  OW: number;
}

/** Floor-mode output size; null when the dilated kernel does not fit the padded input. */
function outSize(n: number, k: number, s: number, d: number, p0: number, p1: number): number | null {
  const span = (k - 1) * d + 1;
  return n + p0 + p1 < span ? null : Math.floor((n + p0 + p1 - span) / s) + 1;
}

/** ONNX/PyTorch ceil_mode size: ceil, minus a last window that would start past the input and left pad. */
function ceilOutSize(n: number, k: number, s: number, d: number, p0: number, p1: number): number | null {
  const span = (k - 1) * d + 1;
  if (n + p0 + p1 < span) return null;
  let o = Math.ceil((n + p0 + p1 - span) / s) + 1;
  if ((o - 1) * s >= n + p0) o--;
  return o;
}

const CS = [1, 3, 4, 5, 8, 17, 32];
const HWS = [1, 2, 5, 7, 8, 13];
const KS = [1, 3, 5, 7];

/** Random geometry with pads < kernel extent (as ONNX requires) and at least one output. */
function randomGeometry(rand: () => number, ks: readonly number[], dilation: boolean, ceil = false): Geometry {
  for (;;) {
    const H = pick(rand, HWS),
      W = pick(rand, HWS);
    const KH = pick(rand, ks),
      KW = rand() < 0.7 ? KH : pick(rand, ks);
    const SH = 1 + Math.floor(rand() * 2),
      SW = 1 + Math.floor(rand() * 2);
    const DH = dilation ? 1 + Math.floor(rand() * 2) : 1,
      DW = dilation ? 1 + Math.floor(rand() * 2) : 1;
    const padMax = (k: number, d: number) => Math.min(3, (k - 1) * d);
    const pad = (k: number, d: number) => Math.floor(rand() * (padMax(k, d) + 1));
    const PT = pad(KH, DH),
      PB = pad(KH, DH),
      PL = pad(KW, DW),
      PR = pad(KW, DW);
    const size = ceil ? ceilOutSize : outSize;
    const OH = size(H, KH, SH, DH, PT, PB),
      OW = size(W, KW, SW, DW, PL, PR);
    if (OH === null || OW === null || OH < 1 || OW < 1) continue;
    return { images: 1 + Math.floor(rand() * 2), H, W, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, OH, OW };
  }
}

const describeGeometry = (g: Geometry): string =>
  `n${g.images} ${g.H}x${g.W} k${g.KH}x${g.KW} s${g.SH},${g.SW} d${g.DH},${g.DW} pad t${g.PT} l${g.PL} b${g.PB} r${g.PR} -> ${g.OH}x${g.OW}`;

// ---- references (double precision, NHWC) ----------------------------------------------------------

function im2colRef(x: Float32Array, g: Geometry, C: number, c0: number, cn: number): Float32Array {
  const cols = g.KH * g.KW * cn;
  const out = new Float32Array(g.images * g.OH * g.OW * cols);
  let r = 0;
  for (let n = 0; n < g.images; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++, r++) {
        for (let kh = 0; kh < g.KH; kh++) {
          for (let kw = 0; kw < g.KW; kw++) {
            const ih = oh * g.SH - g.PT + kh * g.DH,
              iw = ow * g.SW - g.PL + kw * g.DW;
            for (let c = 0; c < cn; c++) {
              const v = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[((n * g.H + ih) * g.W + iw) * C + c0 + c] : 0;
              out[r * cols + (kh * g.KW + kw) * cn + c] = v;
            }
          }
        }
      }
    }
  }
  return out;
}

/** Grouped conv; weights [Co][Ci/groups][KH][KW]; returns values and per-element error bounds. */
function convRef(
  x: Float32Array,
  wt: Float32Array,
  bias: Float32Array | null,
  g: Geometry,
  Ci: number,
  Co: number,
  groups: number,
  act: (v: number) => number,
): { y: Float64Array; atol: Float64Array } {
  const cn = Ci / groups,
    coPg = Co / groups;
  const size = g.images * g.OH * g.OW * Co;
  const y = new Float64Array(size),
    atol = new Float64Array(size);
  for (let n = 0; n < g.images; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let co = 0; co < Co; co++) {
          const gi = Math.floor(co / coPg);
          let s = bias ? bias[co] : 0,
            mag = Math.abs(s),
            terms = 1;
          for (let kh = 0; kh < g.KH; kh++) {
            const ih = oh * g.SH - g.PT + kh * g.DH;
            if (ih < 0 || ih >= g.H) continue;
            for (let kw = 0; kw < g.KW; kw++) {
              const iw = ow * g.SW - g.PL + kw * g.DW;
              if (iw < 0 || iw >= g.W) continue;
              for (let c = 0; c < cn; c++) {
                const p =
                  x[((n * g.H + ih) * g.W + iw) * Ci + gi * cn + c] * wt[((co * cn + c) * g.KH + kh) * g.KW + kw];
                s += p;
                mag += Math.abs(p);
                terms++;
              }
            }
          }
          const i = ((n * g.OH + oh) * g.OW + ow) * Co + co;
          y[i] = act(s);
          atol[i] = 2e-7 * (terms + 8) * mag * 1.2 + 2e-6;
        }
      }
    }
  }
  return { y, atol };
}

function poolRef(x: Float32Array, g: Geometry, C: number, kind: 'max' | 'avg', countIncludePad: boolean): Float64Array {
  const y = new Float64Array(g.images * g.OH * g.OW * C);
  for (let n = 0; n < g.images; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let c = 0; c < C; c++) {
          let acc = kind === 'max' ? -Infinity : 0,
            count = 0,
            padCountH = 0,
            padCountW = 0;
          for (let kh = 0; kh < g.KH; kh++) {
            const ih = oh * g.SH - g.PT + kh * g.DH;
            if (ih >= -g.PT && ih < g.H + g.PB) padCountH++;
          }
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.SW - g.PL + kw * g.DW;
            if (iw >= -g.PL && iw < g.W + g.PR) padCountW++;
          }
          for (let kh = 0; kh < g.KH; kh++) {
            const ih = oh * g.SH - g.PT + kh * g.DH;
            if (ih < 0 || ih >= g.H) continue;
            for (let kw = 0; kw < g.KW; kw++) {
              const iw = ow * g.SW - g.PL + kw * g.DW;
              if (iw < 0 || iw >= g.W) continue;
              const v = x[((n * g.H + ih) * g.W + iw) * C + c];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          if (kind === 'avg') {
            const div = countIncludePad ? padCountH * padCountW : count;
            acc = div > 0 ? acc / div : 0;
          }
          y[((n * g.OH + oh) * g.OW + ow) * C + c] = acc;
        }
      }
    }
  }
  return y;
}

// ---- suites -------------------------------------------------------------------------------------

const BUILDS = [
  { name: 'simd', url: '/dist/kernels.wasm' },
  { name: 'relaxed-simd', url: '/dist/kernels-relaxed.wasm' },
];

for (const build of BUILDS) {
  describe(`conv kernels (${build.name})`, function () {
    this.timeout(120000);
    let k: Kernels;
    let arena: Arena;

    before(async function () {
      const loaded = await loadKernels(build.url);
      if (!loaded) {
        expect(build.name, 'the SIMD build must validate').to.equal('relaxed-simd');
        this.skip();
        return;
      }
      k = loaded;
      arena = new Arena(k);
    });

    /** One grouped conv via im2col per group + gemm writing the group's column slice. */
    function checkConv(
      rand: () => number,
      g: Geometry,
      Ci: number,
      Co: number,
      groups: number,
      actIndex: number,
      withBias: boolean,
    ): void {
      const act = ACTS[actIndex];
      const cn = Ci / groups,
        coPg = Co / groups;
      const K = g.KH * g.KW * cn,
        M = g.images * g.OH * g.OW;
      const what = `conv ${describeGeometry(g)} Ci=${Ci} Co=${Co} groups=${groups} act=${act.name} bias=${withBias}`;
      arena.reset();
      const x = randomArray(g.images * g.H * g.W * Ci, rand);
      const wt = randomArray(Co * cn * g.KH * g.KW, rand);
      const bias = withBias ? randomArray(Co, rand) : null;
      const xPtr = arena.put(x);
      const yPtr = arena.out(M * Co);
      for (let gi = 0; gi < groups; gi++) {
        // B[(kh·KW + kw)·cn + c][co] = W[g·coPg + co][c][kh][kw]
        const B = new Float32Array(K * coPg);
        for (let co = 0; co < coPg; co++) {
          for (let c = 0; c < cn; c++) {
            for (let kh = 0; kh < g.KH; kh++) {
              for (let kw = 0; kw < g.KW; kw++) {
                B[((kh * g.KW + kw) * cn + c) * coPg + co] = wt[(((gi * coPg + co) * cn + c) * g.KH + kh) * g.KW + kw];
              }
            }
          }
        }
        const wPtr = arena.put(packB(B, K, coPg));
        let bPtr = 0;
        if (bias) {
          const b = new Float32Array(Math.ceil(coPg / NR) * NR);
          b.set(bias.subarray(gi * coPg, (gi + 1) * coPg));
          bPtr = arena.put(b);
        }
        const colPtr = arena.out(M * K);
        call(k, 'im2col', {
          x: xPtr,
          col: colPtr,
          images: g.images,
          H: g.H,
          W: g.W,
          C: Ci,
          c0: gi * cn,
          cn,
          KH: g.KH,
          KW: g.KW,
          SH: g.SH,
          SW: g.SW,
          DH: g.DH,
          DW: g.DW,
          PT: g.PT,
          PL: g.PL,
          OH: g.OH,
          OW: g.OW,
        });
        expectOut(arena, colPtr, im2colRef(x, g, Ci, gi * cn, cn), 0, 0, `${what}: im2col group ${gi}`);
        call(k, 'gemm', {
          a: colPtr,
          lda: K,
          w: wPtr,
          bias: bPtr,
          c: yPtr + gi * coPg * 4,
          ldc: Co,
          M,
          N: coPg,
          K,
          act: act.code,
          p0: act.p0,
          p1: act.p1,
        });
      }
      const ref = convRef(x, wt, bias, g, Ci, Co, groups, act.f);
      expectOut(arena, yPtr, ref.y, 2e-6, ref.atol, what);
    }

    it('im2col + gemm: random grouped convs over C, H/W, 1/3/5/7 kernels, strides, dilations, asymmetric pads', () => {
      const rand = rng(11);
      for (let i = 0; i < 160; i++) {
        const g = randomGeometry(rand, KS, true);
        const groups = pick(rand, [1, 1, 1, 2, 3, 4]);
        const Ci = groups * pick(rand, i % 2 ? [1, 3, 4, 5, 8] : CS);
        const Co = groups * pick(rand, [1, 3, 8, 9, 17]);
        checkConv(rand, g, Ci, Co, groups, i % ACTS.length, i % 3 !== 0);
      }
    });

    it('im2col + gemm: the common convs (3×3 pad 1 stride 1/2, 1×1 stride 2, 7×7 stride 2 pad 3 stem)', () => {
      const rand = rng(12);
      const base = { images: 1, DH: 1, DW: 1 };
      const cases: [Geometry, number, number, number][] = [
        [{ ...base, H: 13, W: 13, KH: 3, KW: 3, SH: 1, SW: 1, PT: 1, PL: 1, PB: 1, PR: 1, OH: 13, OW: 13 }, 32, 17, 1],
        [{ ...base, H: 8, W: 7, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1, PB: 1, PR: 1, OH: 4, OW: 4 }, 3, 32, 1],
        [{ ...base, H: 7, W: 8, KH: 1, KW: 1, SH: 2, SW: 2, PT: 0, PL: 0, PB: 0, PR: 0, OH: 4, OW: 4 }, 17, 8, 1],
        [
          { ...base, images: 2, H: 13, W: 13, KH: 7, KW: 7, SH: 2, SW: 2, PT: 3, PL: 3, PB: 3, PR: 3, OH: 7, OW: 7 },
          3,
          8,
          1,
        ],
        [{ ...base, H: 8, W: 8, KH: 3, KW: 3, SH: 1, SW: 1, PT: 1, PL: 1, PB: 1, PR: 1, OH: 8, OW: 8 }, 32, 32, 4],
        [{ ...base, H: 5, W: 5, KH: 1, KW: 1, SH: 1, SW: 1, PT: 0, PL: 0, PB: 0, PR: 0, OH: 5, OW: 5 }, 8, 8, 8],
      ];
      for (const [g, Ci, Co, groups] of cases) checkConv(rand, g, Ci, Co, groups, 1, true);
    });

    /** Depthwise conv with weights [KH·KW][Cp], bias [Cp]. */
    function checkDepthwise(
      rand: () => number,
      g: Geometry,
      C: number,
      actIndex: number,
      withBias: boolean,
      misalign = 0,
    ): void {
      const act = ACTS[actIndex];
      const Cp = Math.ceil(C / 4) * 4;
      const what = `depthwise ${describeGeometry(g)} C=${C} act=${act.name} bias=${withBias}`;
      arena.reset();
      const x = randomArray(g.images * g.H * g.W * C, rand, -2, 2);
      const wt = randomArray(C * g.KH * g.KW, rand); // ONNX [C][1][KH][KW]
      const bias = withBias ? randomArray(C, rand) : null;
      const packed = new Float32Array(g.KH * g.KW * Cp);
      for (let c = 0; c < C; c++) {
        for (let t = 0; t < g.KH * g.KW; t++) packed[t * Cp + c] = wt[c * g.KH * g.KW + t];
      }
      const bPacked = new Float32Array(Cp);
      if (bias) bPacked.set(bias);
      const xPtr = arena.put(x, misalign);
      const wPtr = arena.put(packed);
      const bPtr = bias ? arena.put(bPacked) : 0;
      const yPtr = arena.out(g.images * g.OH * g.OW * C, misalign);
      call(k, 'conv_depthwise', {
        x: xPtr,
        w: wPtr,
        bias: bPtr,
        y: yPtr,
        images: g.images,
        H: g.H,
        W: g.W,
        C,
        KH: g.KH,
        KW: g.KW,
        SH: g.SH,
        SW: g.SW,
        DH: g.DH,
        DW: g.DW,
        PT: g.PT,
        PL: g.PL,
        OH: g.OH,
        OW: g.OW,
        act: act.code,
        p0: act.p0,
        p1: act.p1,
      });
      const ref = convRef(x, wt, bias, g, C, C, C, act.f);
      expectOut(arena, yPtr, ref.y, 2e-6, ref.atol, what);
    }

    it('conv_depthwise: random shapes, 1/3/5/7 kernels, strides, dilations, asymmetric pads, every activation', () => {
      const rand = rng(21);
      for (let i = 0; i < 250; i++) {
        const g = randomGeometry(rand, KS, true);
        checkDepthwise(rand, g, pick(rand, CS), i % ACTS.length, i % 4 !== 1, i % 7 === 3 ? 4 : 0);
      }
    });

    it('conv_depthwise: 3×3 pad 1 stride 1 and 2 (interior fast path) for every C and activation', () => {
      const rand = rng(22);
      for (const C of [...CS, 16, 20, 144]) {
        for (const s of [1, 2]) {
          for (const [H, W] of [
            [13, 13],
            [8, 7],
            [5, 8],
            [2, 13],
            [1, 1],
          ]) {
            for (let a = 0; a < ACTS.length; a++) {
              if (a > 1 && C !== 17 && C !== 32) continue; // every activation on two channel counts
              const OH = Math.floor((H + 2 - 3) / s) + 1,
                OW = Math.floor((W + 2 - 3) / s) + 1;
              const g: Geometry = {
                images: 1 + (C % 2),
                H,
                W,
                KH: 3,
                KW: 3,
                SH: s,
                SW: s,
                DH: 1,
                DW: 1,
                PT: 1,
                PL: 1,
                PB: 1,
                PR: 1,
                OH,
                OW,
              };
              checkDepthwise(rand, g, C, a, a % 2 === 0);
            }
          }
        }
      }
      // dilation 2 with pad 2 and an asymmetric pad (TF 'SAME' stride 2: pad only bottom/right)
      checkDepthwise(
        rand,
        {
          images: 1,
          H: 13,
          W: 13,
          KH: 3,
          KW: 3,
          SH: 1,
          SW: 1,
          DH: 2,
          DW: 2,
          PT: 2,
          PL: 2,
          PB: 2,
          PR: 2,
          OH: 13,
          OW: 13,
        },
        8,
        5,
        true,
      );
      checkDepthwise(
        rand,
        { images: 1, H: 8, W: 8, KH: 3, KW: 3, SH: 2, SW: 2, DH: 1, DW: 1, PT: 0, PL: 0, PB: 1, PR: 1, OH: 4, OW: 4 },
        32,
        5,
        true,
      );
    });

    it('maxpool: floor and ceil_mode output sizes, dilation, asymmetric pads (padding never wins)', () => {
      const rand = rng(31);
      for (let i = 0; i < 200; i++) {
        const ceil = i % 2 === 1;
        const g = randomGeometry(rand, [1, 2, 3, 5], true, ceil);
        const C = pick(rand, CS);
        arena.reset();
        // Mostly negative inputs: a zero from padding would win a max.
        const x = randomArray(g.images * g.H * g.W * C, rand, -10, -1);
        const xPtr = arena.put(x);
        const yPtr = arena.out(g.images * g.OH * g.OW * C);
        call(k, 'maxpool', {
          x: xPtr,
          y: yPtr,
          images: g.images,
          H: g.H,
          W: g.W,
          C,
          KH: g.KH,
          KW: g.KW,
          SH: g.SH,
          SW: g.SW,
          DH: g.DH,
          DW: g.DW,
          PT: g.PT,
          PL: g.PL,
          OH: g.OH,
          OW: g.OW,
        });
        expectOut(
          arena,
          yPtr,
          poolRef(x, g, C, 'max', false),
          0,
          0,
          `maxpool ${describeGeometry(g)} C=${C} ceil=${ceil}`,
        );
      }
    });

    it('avgpool: count_include_pad 0/1, floor and ceil_mode (taps past the padding never count)', () => {
      const rand = rng(32);
      for (let i = 0; i < 240; i++) {
        const ceil = i % 2 === 1;
        const cip = (i >> 1) % 2 === 1;
        const g = randomGeometry(rand, [1, 2, 3, 5, 7], false, ceil);
        const C = pick(rand, CS);
        arena.reset();
        const x = randomArray(g.images * g.H * g.W * C, rand, -3, 3);
        const xPtr = arena.put(x);
        const yPtr = arena.out(g.images * g.OH * g.OW * C);
        call(k, 'avgpool', {
          x: xPtr,
          y: yPtr,
          images: g.images,
          H: g.H,
          W: g.W,
          C,
          KH: g.KH,
          KW: g.KW,
          SH: g.SH,
          SW: g.SW,
          PT: g.PT,
          PL: g.PL,
          PB: g.PB,
          PR: g.PR,
          OH: g.OH,
          OW: g.OW,
          countIncludePad: cip ? 1 : 0,
        });
        expectOut(
          arena,
          yPtr,
          poolRef(x, g, C, 'avg', cip),
          1e-5,
          3e-6,
          `avgpool ${describeGeometry(g)} C=${C} ceil=${ceil} count_include_pad=${cip}`,
        );
      }
      // A ceil_mode window hanging past the bottom/right padding: 3×3 s2 on 7×7, pads 1 (top/left) / 0.
      const g: Geometry = {
        images: 1,
        H: 7,
        W: 7,
        KH: 3,
        KW: 3,
        SH: 2,
        SW: 2,
        DH: 1,
        DW: 1,
        PT: 1,
        PL: 1,
        PB: 0,
        PR: 0,
        OH: 4,
        OW: 4,
      };
      expect(ceilOutSize(7, 3, 2, 1, 1, 0)).to.equal(4);
      for (const cip of [false, true]) {
        arena.reset();
        const C = 5;
        const x = randomArray(49 * C, rand);
        const xPtr = arena.put(x);
        const yPtr = arena.out(16 * C);
        call(k, 'avgpool', {
          x: xPtr,
          y: yPtr,
          images: 1,
          H: 7,
          W: 7,
          C,
          KH: 3,
          KW: 3,
          SH: 2,
          SW: 2,
          PT: 1,
          PL: 1,
          PB: 0,
          PR: 0,
          OH: 4,
          OW: 4,
          countIncludePad: cip ? 1 : 0,
        });
        const ref = poolRef(x, g, C, 'avg', cip);
        expectOut(arena, yPtr, ref, 1e-5, 3e-6, `avgpool ceil corner cip=${cip}`);
        // Bottom-right window covers rows/cols 5..7: 7 is past the input and the (zero) padding → /4 both ways.
        const at = (h: number, w: number) => x[(h * 7 + w) * C];
        const corner = (at(5, 5) + at(5, 6) + at(6, 5) + at(6, 6)) / 4;
        expect(Math.abs(arena.f32(yPtr, 16 * C)[15 * C] - corner)).to.be.below(1e-6);
        // Top-left window includes the padding row/column: /9 with count_include_pad, /4 without.
        const tl = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / (cip ? 9 : 4);
        expect(Math.abs(arena.f32(yPtr, 16 * C)[0] - tl)).to.be.below(1e-6);
      }
    });

    it('global_avgpool / global_maxpool', () => {
      const rand = rng(41);
      for (const C of [...CS, 64, 1280]) {
        for (const HW of [1, 2, 7, 49, 169]) {
          const images = 1 + (C % 3);
          arena.reset();
          const x = randomArray(images * HW * C, rand, -5, 5);
          const xPtr = arena.put(x);
          const avg = new Float64Array(images * C),
            mx = new Float64Array(images * C).fill(-Infinity);
          for (let n = 0; n < images; n++) {
            for (let p = 0; p < HW; p++) {
              for (let c = 0; c < C; c++) {
                const v = x[(n * HW + p) * C + c];
                avg[n * C + c] += v / HW;
                mx[n * C + c] = Math.max(mx[n * C + c], v);
              }
            }
          }
          const a = arena.out(images * C),
            m = arena.out(images * C);
          call(k, 'global_avgpool', { x: xPtr, y: a, images, HW, C });
          call(k, 'global_maxpool', { x: xPtr, y: m, images, HW, C });
          expectOut(arena, a, avg, 1e-5, 1e-5 * Math.sqrt(HW), `global_avgpool HW=${HW} C=${C}`);
          expectOut(arena, m, mx, 0, 0, `global_maxpool HW=${HW} C=${C}`);
        }
      }
    });

    it('nchw_to_nhwc / nhwc_to_nchw: C = 1, 3, 4, 5, 17, 32, 64 and odd HW, round trip', () => {
      const rand = rng(51);
      for (const C of [1, 2, 3, 4, 5, 17, 32, 64]) {
        for (const HW of [1, 2, 3, 5, 7, 16, 49, 169, 225]) {
          const images = 1 + (HW % 2);
          arena.reset();
          const x = randomArray(images * C * HW, rand);
          const ref = new Float32Array(x.length);
          for (let n = 0; n < images; n++) {
            for (let c = 0; c < C; c++)
              for (let p = 0; p < HW; p++) ref[(n * HW + p) * C + c] = x[(n * C + c) * HW + p];
          }
          const xPtr = arena.put(x);
          const yPtr = arena.out(x.length);
          const zPtr = arena.out(x.length);
          call(k, 'nchw_to_nhwc', { x: xPtr, y: yPtr, images, C, HW });
          expectOut(arena, yPtr, ref, 0, 0, `nchw_to_nhwc n=${images} C=${C} HW=${HW}`);
          call(k, 'nhwc_to_nchw', { x: yPtr, y: zPtr, images, C, HW });
          expectOut(arena, zPtr, x, 0, 0, `nhwc_to_nchw n=${images} C=${C} HW=${HW}`);
        }
      }
    });

    it('transpose: random permutations of rank 2–6 (rows replaces d0), strided views', () => {
      const rand = rng(61);
      for (let i = 0; i < 300; i++) {
        const R = 2 + (i % 5);
        const shape = Array.from({ length: R }, () => 1 + Math.floor(rand() * (R > 4 ? 4 : 7)));
        const perm = Array.from({ length: R }, (_, j) => j);
        for (let j = R - 1; j > 0; j--) {
          const t = Math.floor(rand() * (j + 1));
          [perm[j], perm[t]] = [perm[t], perm[j]];
        }
        if (i % 10 === 0) perm.sort((a, b) => a - b); // identity: one merged run
        const inStride = new Array<number>(R);
        inStride[R - 1] = 1;
        for (let j = R - 2; j >= 0; j--) inStride[j] = inStride[j + 1] * shape[j + 1];
        const dims = perm.map((p) => shape[p]);
        const strides = perm.map((p) => inStride[p]);
        const total = shape.reduce((a, b) => a * b, 1);
        arena.reset();
        const x = randomArray(total, rand);
        const ref = new Float32Array(total);
        const idx = new Array<number>(R).fill(0);
        for (let o = 0; o < total; o++) {
          let off = 0;
          for (let j = 0; j < R; j++) off += idx[j] * strides[j];
          ref[o] = x[off];
          for (let j = R - 1; j >= 0; j--) {
            if (++idx[j] < dims[j]) break;
            idx[j] = 0;
          }
        }
        const xPtr = arena.put(x);
        const yPtr = arena.out(total);
        const table = arena.putI32([R, 999, ...dims.slice(1), ...strides]); // d0 is ignored
        call(k, 'strided_copy', { x: xPtr, y: yPtr, rows: dims[0], table });
        expectOut(arena, yPtr, ref, 0, 0, `transpose shape [${shape}] perm [${perm}]`);
      }
      // Strided views: every other column of a 5×9 matrix (Slice step 2), and a broadcast (stride 0).
      arena.reset();
      const m = Float32Array.from({ length: 45 }, (_, i) => i);
      const mPtr = arena.put(m);
      const y1 = arena.out(25);
      call(k, 'strided_copy', { x: mPtr, y: y1, rows: 5, table: arena.putI32([2, 0, 5, 9, 2]) });
      expectOut(
        arena,
        y1,
        Array.from({ length: 25 }, (_, i) => Math.floor(i / 5) * 9 + (i % 5) * 2),
        0,
        0,
        'transpose step 2',
      );
      const y2 = arena.out(27);
      call(k, 'strided_copy', { x: mPtr, y: y2, rows: 3, table: arena.putI32([3, 0, 3, 3, 9, 0, 1]) });
      expectOut(
        arena,
        y2,
        Array.from({ length: 27 }, (_, i) => Math.floor(i / 9) * 9 + (i % 3)),
        0,
        0,
        'transpose broadcast',
      );
    });

    it('copy_strided: concat/split/slice chunk copies, tails and contiguous case', () => {
      const rand = rng(71);
      for (const chunk of [1, 2, 3, 4, 5, 7, 16, 33, 100]) {
        for (const count of [1, 2, 5, 13]) {
          for (const [sPad, dPad] of [
            [0, 0],
            [3, 0],
            [0, 5],
            [8, 1],
          ]) {
            const srcStride = chunk + sPad,
              dstStride = chunk + dPad;
            arena.reset();
            const x = randomArray(count * srcStride, rand);
            const xPtr = arena.put(x, 4 * (chunk % 3));
            const yLen = (count - 1) * dstStride + chunk;
            const yPtr = arena.out(yLen);
            const ref = new Float32Array(yLen).fill(CANARY);
            for (let i = 0; i < count; i++)
              for (let j = 0; j < chunk; j++) ref[i * dstStride + j] = x[i * srcStride + j];
            call(k, 'copy_blocks', { x: xPtr, y: yPtr, count, chunk, srcStride, dstStride });
            expectOut(
              arena,
              yPtr,
              ref,
              0,
              0,
              `copy_strided count=${count} chunk=${chunk} src=${srcStride} dst=${dstStride}`,
            );
          }
        }
      }
    });

    it('lrn across channels (NHWC), even and odd sizes', () => {
      const rand = rng(81);
      for (const C of [1, 3, 4, 5, 8, 17, 32, 96]) {
        for (const [size, alpha, beta, bias] of [
          [5, 1e-4, 0.75, 1],
          [3, 0.5, 0.5, 2],
          [4, 0.02, 1.2, 0.5],
          [1, 1, 0.75, 1],
        ]) {
          const images = 2,
            HW = 7;
          arena.reset();
          const x = randomArray(images * HW * C, rand, -4, 4);
          const xPtr = arena.put(x);
          const yPtr = arena.out(x.length);
          call(k, 'lrn', { x: xPtr, y: yPtr, images, HW, C, size, alpha, beta, bias });
          const ref = new Float64Array(x.length);
          const lo = Math.floor((size - 1) / 2),
            hi = Math.ceil((size - 1) / 2);
          for (let p = 0; p < images * HW; p++) {
            for (let c = 0; c < C; c++) {
              let s = 0;
              for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) s += x[p * C + j] ** 2;
              ref[p * C + c] =
                x[p * C + c] / (Math.fround(bias) + (Math.fround(alpha) / size) * s) ** Math.fround(beta);
            }
          }
          expectOut(arena, yPtr, ref, 1e-5, 1e-7, `lrn C=${C} size=${size}`);
        }
      }
    });

    it('layer_norm: tails, offsets, optional bias, in place', () => {
      const rand = rng(91);
      for (const D of [1, 2, 3, 4, 5, 15, 16, 17, 64, 255, 768, 1001]) {
        for (const [offset, spread] of [
          [0, 1],
          [10, 1],
          [3, 1e-3],
          [-50, 20],
        ]) {
          for (const withBias of [true, false]) {
            const rows = 3;
            arena.reset();
            const x = randomArray(rows * D, rand, offset - spread, offset + spread);
            const scale = randomArray(D, rand, 0.5, 2);
            const bias = randomArray(D, rand);
            const eps = 1e-5;
            const ref = new Float64Array(rows * D),
              atol = new Float64Array(rows * D);
            for (let r = 0; r < rows; r++) {
              let m = 0;
              for (let i = 0; i < D; i++) m += x[r * D + i];
              m /= D;
              let v = 0;
              for (let i = 0; i < D; i++) v += (x[r * D + i] - m) ** 2;
              v /= D;
              const rs = 1 / Math.sqrt(v + Math.fround(eps));
              for (let i = 0; i < D; i++) {
                ref[r * D + i] = (x[r * D + i] - m) * rs * scale[i] + (withBias ? bias[i] : 0);
                // f32 inputs: the mean itself is only known to ~|mean|·2^-24, scaled by 1/std.
                atol[r * D + i] = 2e-6 + 2 * 6e-8 * Math.abs(m) * rs * scale[i];
              }
            }
            const xPtr = arena.put(x);
            const sPtr = arena.put(scale);
            const bPtr = withBias ? arena.put(bias) : 0;
            const yPtr = arena.out(rows * D);
            const what = `layer_norm D=${D} offset=${offset} spread=${spread} bias=${withBias}`;
            call(k, 'layer_norm', { x: xPtr, scale: sPtr, bias: bPtr, y: yPtr, rows, D, epsilon: eps });
            expectOut(arena, yPtr, ref, 1e-5, atol, what);
            const got = Array.from(arena.f32(yPtr, rows * D));
            call(k, 'layer_norm', { x: xPtr, scale: sPtr, bias: bPtr, y: xPtr, rows, D, epsilon: eps });
            expect(Array.from(arena.f32(xPtr, rows * D)), `${what} in place`).to.deep.equal(got);
          }
        }
      }
    });
  });
}
