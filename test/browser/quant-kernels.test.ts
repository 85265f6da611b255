// The quantization kernels of dist/kernels*.wasm (assembly/quantize.ts, qgemm.ts, qpack.ts,
// requantize.ts) against references written from the ONNX definitions: QuantizeLinear y =
// saturate(round_half_even(x / scale) + zp) with x / scale a float32 division, DequantizeLinear
// y = (x − zp) · scale, DynamicQuantizeLinear's scale and zero point, the integer products of
// MatMulInteger and ConvInteger exactly, and QLinear requantization y = saturate(round(acc · s) + zp) with
// s = a_scale · b_scale / y_scale in float32. Where ONNX leaves a case open (NaN), the reference is what
// onnxruntime computes on x86 (the lower bound). Exact comparison, canaries after every output, odd
// addresses, every SIMD tail. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { packB, widenRows } from '../../compiler/ops/quant/pack.js';
import { call, rng, type Arena, type KernelExports } from './kernel-harness.js';
import { describeEachBuild } from './resample-harness.js';

const f = Math.fround;
const CANARY = 0xa5;

function rint(v: number): number {
  const r = Math.floor(v);
  const d = v - r;
  return d < 0.5 ? r : d > 0.5 ? r + 1 : r % 2 === 0 ? r : r + 1;
}

/** ONNX saturation to [qmin, qmax] of round(v) + zp (NaN: onnxruntime's lower bound). */
function saturate(v: number, zp: number, signed: boolean): number {
  const [qmin, qmax] = signed ? [-128, 127] : [0, 255];
  if (Number.isNaN(v)) return qmin;
  return Math.min(qmax, Math.max(qmin, rint(Math.max(-1e10, Math.min(1e10, v))) + zp));
}

const quantizeRef = (x: number, s: number, zp: number, signed: boolean) => saturate(f(x / s), zp, signed);

/** Bytes of `n` elements of a typed array kind at p, with canary bytes after them. */
function outBlock(arena: Arena, k: KernelExports, bytes: number, misalign: number): number {
  const p = arena.alloc(Math.ceil(bytes / 4) + 2, misalign);
  new Uint8Array(k.memory.buffer, p, bytes + 16).fill(CANARY);
  return p;
}

function expectCanaries(k: KernelExports, p: number, bytes: number, what: string) {
  const tail = new Uint8Array(k.memory.buffer, p + bytes, 16);
  for (let i = 0; i < 16; i++) if (tail[i] !== CANARY) expect.fail(`${what}: wrote past the end (byte ${i})`);
}

function putBytes(arena: Arena, k: KernelExports, values: ArrayLike<number>, signed: boolean, misalign = 0): number {
  const a = signed ? Int8Array.from(values) : Uint8Array.from(values);
  return arena.putTyped(a, misalign);
}

/** Floats worth testing: ties at every half step, large and special values. */
function testFloats(n: number, s: number, rand: () => number): Float32Array {
  const specials = [
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    1e30,
    -1e30,
    0.5 * s,
    1.5 * s,
    2.5 * s,
    -0.5 * s,
    -2.5 * s,
    127.5 * s,
    128.5 * s,
  ];
  return Float32Array.from({ length: n }, (_, i) =>
    i < specials.length && rand() < 0.6
      ? specials[i]
      : rand() < 0.3
        ? (Math.round(rand() * 600 - 300) / 2) * s
        : (rand() - 0.5) * 600 * s,
  );
}

describeEachBuild('quantization kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;
  before(() => ({ k, arena } = env));

  for (const signed of [false, true]) {
    const T = signed ? 'i8' : 'u8';
    it(`quantize_${T} and dequantize_${T}: per tensor and per axis, every tail, ties to even, saturation`, () => {
      const rand = rng(signed ? 11 : 10);
      const shapes: [number, number, number][] = [
        [1, 1, 1],
        [1, 1, 15],
        [1, 1, 16],
        [1, 1, 37],
        [2, 3, 5],
        [1, 4, 17],
        [3, 2, 1],
        [1, 1, 0],
        [2, 5, 33],
      ];
      for (const [outer, axis, inner] of shapes) {
        arena.reset();
        const n = outer * axis * inner;
        const scales = Float32Array.from({ length: axis }, () => f((rand() < 0.5 ? 0.02 : 0.3) * (0.5 + rand())));
        if (axis > 2) scales[1] = -scales[1]; // a negative scale is arithmetic all the same
        const zps = Array.from({ length: axis }, () =>
          signed ? Math.floor(rand() * 256) - 128 : Math.floor(rand() * 256),
        );
        const x = testFloats(n, scales[0], rand);
        const misalign = n % 3 === 0 ? 4 : 0;
        const xp = arena.putTyped(x, misalign);
        const sp = arena.put(scales);
        const noZp = rand() < 0.25;
        const zp = noZp ? 0 : putBytes(arena, k, zps, signed, 1);
        const yp = outBlock(arena, k, n, 3);
        call(k, signed ? 'quantize_i8' : 'quantize_u8', { x: xp, scale: sp, zp, y: yp, outer, axis, inner });
        const got = signed ? new Int8Array(k.memory.buffer, yp, n) : new Uint8Array(k.memory.buffer, yp, n);
        for (let i = 0; i < n; i++) {
          const a = Math.floor(i / inner) % axis;
          const want = quantizeRef(x[i], scales[a], noZp ? 0 : zps[a], signed);
          if (got[i] !== want)
            expect.fail(
              `quantize_${T} [${outer},${axis},${inner}] at ${i}: x ${x[i]} / ${scales[a]} got ${got[i]}, want ${want}`,
            );
        }
        expectCanaries(k, yp, n, `quantize_${T}`);

        // Dequantize what was quantized.
        const q = Array.from(got);
        const qp = putBytes(arena, k, q, signed, 2);
        const dp = arena.out(n, 4);
        call(k, signed ? 'dequantize_i8' : 'dequantize_u8', { x: qp, scale: sp, zp, y: dp, outer, axis, inner });
        const d = arena.f32(dp, n + 8);
        for (let i = 0; i < n; i++) {
          const a = Math.floor(i / inner) % axis;
          const want = f((q[i] - (noZp ? 0 : zps[a])) * scales[a]);
          if (!Object.is(d[i], want)) expect.fail(`dequantize_${T} at ${i}: got ${d[i]}, want ${want}`);
        }
        for (let t = 0; t < 8; t++) if (d[n + t] !== -7777.25) expect.fail(`dequantize_${T}: wrote past the end`);
      }
    });
  }

  it('dequantize_i32: y = (x − zp) · scale, in place', () => {
    arena.reset();
    const rand = rng(12);
    const n = 23;
    const x = Int32Array.from({ length: n }, (_, i) =>
      i < 4 ? [2 ** 31 - 1, -(2 ** 31), 16777217, -3][i] : Math.floor((rand() - 0.5) * 1e6),
    );
    const xp = arena.putTyped(x);
    const sp = arena.put([0.125, 3]);
    call(k, 'dequantize_i32', { x: xp, scale: sp, zp: 0, y: xp, outer: 1, axis: 2, inner: 0 });
    call(k, 'dequantize_i32', { x: xp, scale: sp, zp: 0, y: xp, outer: 1, axis: 1, inner: n });
    const got = arena.f32(xp, n);
    for (let i = 0; i < n; i++) expect(got[i], `at ${i}`).to.equal(f(f(x[i]) * 0.125));
  });

  it('dynamic_quantize: scale and zero point from the range with 0, then QuantizeLinear', () => {
    const rand = rng(13);
    const inputs: number[][] = [
      [0, 2, -3, -2.5, 1.34, 0.5],
      [-1.0, -2.1, -1.3, -2.5, -3.34, -4.0],
      [1, 2.1, 1.3, 2.5, 3.34, 4.0, 1.5, 2.6, 3.9, 4.0, 3.0, 2.345],
      [0, 0, 0, 0, 0],
      [5],
      [NaN, 1, -1, NaN, 2, 3, 4, 5, 6],
      Array.from({ length: 41 }, () => (rand() - 0.3) * 20),
      [],
    ];
    for (const values of inputs) {
      arena.reset();
      const x = Float32Array.from(values);
      const n = x.length;
      const xp = arena.putTyped(x, 4);
      const yp = outBlock(arena, k, n, 1);
      const sp = arena.out(1);
      const zp = outBlock(arena, k, 1, 2);
      call(k, 'dynamic_quantize', { x: xp, y: yp, scaleOut: sp, zpOut: zp, n });
      // The ONNX definition: min/max include 0; zp = saturate(round(0 − min / scale)).
      const finite = Array.from(x).filter((v) => !Number.isNaN(v));
      const lo = Math.min(0, ...finite);
      const hi = Math.max(0, ...finite);
      const scale = hi === lo ? 1 : f(f(hi - lo) / 255);
      const zero = Math.min(255, Math.max(0, rint(Math.min(255, Math.max(0, f(0 - f(lo / scale)))))));
      expect(arena.f32(sp, 1)[0], `scale of [${values}]`).to.equal(scale);
      expect(new Uint8Array(k.memory.buffer, zp, 1)[0], `zero point of [${values}]`).to.equal(zero);
      const got = new Uint8Array(k.memory.buffer, yp, n);
      for (let i = 0; i < n; i++)
        expect(got[i], `y[${i}] of [${values}]`).to.equal(quantizeRef(x[i], scale, zero, false));
      expectCanaries(k, yp, n, 'dynamic_quantize y');
      expectCanaries(k, zp, 1, 'dynamic_quantize zero point');
    }
  });

  /** Exact integer product of batched A [ba, M, K] and B [bb, K, N] with zero points (periods as qgemm). */
  function productRef(
    A: number[],
    B: number[],
    t: number,
    dims: { M: number; N: number; K: number; ba: number; bb: number },
    za: (m: number) => number,
    zb: (n: number) => number,
  ): number[] {
    const { M, N, K } = dims;
    const at = dims.ba === 1 ? 0 : t;
    const bt = dims.bb === 1 ? 0 : t;
    const out: number[] = [];
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let kk = 0; kk < K; kk++) s += (A[(at * M + m) * K + kk] - za(m)) * (B[(bt * K + kk) * N + n] - zb(n));
        out.push(s | 0);
      }
    return out;
  }

  it('q_widen + q_pack_b + qgemm: exact products over every M, N, K tail, batches and periods, u8 and i8', () => {
    const rand = rng(14);
    const cases = [
      { M: 1, N: 1, K: 1, batches: 1, ba: 1, bb: 1 },
      { M: 4, N: 8, K: 2, batches: 1, ba: 1, bb: 1 },
      { M: 5, N: 9, K: 7, batches: 1, ba: 1, bb: 1 },
      { M: 3, N: 3, K: 4, batches: 2, ba: 2, bb: 2 },
      { M: 7, N: 13, K: 33, batches: 3, ba: 3, bb: 1 },
      { M: 2, N: 17, K: 5, batches: 3, ba: 1, bb: 3 },
      { M: 9, N: 4, K: 1, batches: 1, ba: 1, bb: 1 },
      { M: 0, N: 5, K: 3, batches: 1, ba: 1, bb: 1 },
      { M: 3, N: 2, K: 0, batches: 1, ba: 1, bb: 1 },
    ];
    for (const c of cases) {
      for (const [sa, sb] of [
        [false, false],
        [false, true],
        [true, true],
        [true, false],
      ]) {
        arena.reset();
        const { M, N, K, batches, ba, bb } = c;
        const val = (s: boolean) => (s ? Math.floor(rand() * 256) - 128 : Math.floor(rand() * 256));
        const A = Array.from({ length: ba * M * K }, () => val(sa));
        const B = Array.from({ length: bb * K * N }, () => val(sb));
        const perRow = rand() < 0.5;
        const perCol = rand() < 0.5;
        const zA = Array.from({ length: perRow ? M : 1 }, () => val(sa));
        const zB = Array.from({ length: perCol ? N : 1 }, () => val(sb));
        const Kp = K + (K % 2);
        const a16 = arena.alloc((ba * M * Kp) / 2 + 4);
        call(k, 'q_widen', {
          x: putBytes(arena, k, A, sa, 1),
          signed: sa ? 1 : 0,
          zp: putBytes(arena, k, zA, sa, 3),
          zpPeriod: perRow ? M : 0,
          y: a16,
          rows: ba * M,
          K,
        });
        const packedBytes = Math.ceil(N / 8) * 8 * Kp * 2;
        const bp = arena.alloc((bb * packedBytes) / 4 + 4);
        call(k, 'q_pack_b', {
          b: putBytes(arena, k, B, sb, 2),
          signed: sb ? 1 : 0,
          zp: putBytes(arena, k, zB, sb),
          zpPerColumn: perCol ? 1 : 0,
          packed: bp,
          batches: bb,
          K,
          N,
        });
        // The compiler packs constants in the same layout (compiler/ops/quant/pack.ts).
        const ours = packB(
          bb,
          K,
          N,
          (t, kk, n) => B[(t * K + kk) * N + n],
          (n) => zB[perCol ? n : 0],
        );
        expect(Array.from(new Uint8Array(k.memory.buffer, bp, bb * packedBytes)), 'compile-time packing').to.deep.equal(
          Array.from(ours),
        );
        const widened = widenRows(
          ba * M,
          K,
          (r, kk) => A[r * K + kk],
          (r) => zA[perRow ? r % M : 0],
        );
        expect(Array.from(new Uint8Array(k.memory.buffer, a16, widened.length)), 'compile-time widening').to.deep.equal(
          Array.from(widened),
        );
        const cStride = M * N + 3; // batches apart by more than a matrix: nothing between them is written
        const cp = arena.out(batches * cStride);
        call(k, 'qgemm', {
          a: a16,
          b: bp,
          c: cp,
          batches,
          M,
          N,
          K,
          aPeriod: ba === 1 ? 1 : 0,
          bPeriod: bb === 1 ? 1 : 0,
          cStride,
        });
        const got = arena.i32(cp, batches * cStride + 8);
        const what = `qgemm ${JSON.stringify(c)} signed ${sa}/${sb}`;
        for (let t = 0; t < batches; t++) {
          const want = productRef(
            A,
            B,
            t,
            c,
            (m) => zA[perRow ? m : 0],
            (n) => zB[perCol ? n : 0],
          );
          for (let i = 0; i < M * N; i++)
            if (got[t * cStride + i] !== want[i])
              expect.fail(`${what}: batch ${t} [${i}] got ${got[t * cStride + i]}, want ${want[i]}`);
          const gap = new Float32Array(got.buffer, got.byteOffset + (t * cStride + M * N) * 4, 3);
          for (const g of gap) if (g !== -7777.25) expect.fail(`${what}: wrote between batches`);
        }
      }
    }
  });

  it('q_im2col + qgemm: integer convolutions (strides, dilations, pads, groups) equal the direct sum', () => {
    const rand = rng(15);
    const cases = [
      { C: 1, H: 3, W: 3, Co: 1, KH: 2, KW: 2, S: [1, 1], D: [1, 1], P: [1, 1, 1, 1], group: 1 },
      { C: 3, H: 7, W: 6, Co: 4, KH: 3, KW: 3, S: [2, 1], D: [1, 2], P: [1, 0, 2, 1], group: 1 },
      { C: 4, H: 5, W: 5, Co: 6, KH: 1, KW: 3, S: [1, 2], D: [1, 1], P: [0, 1, 0, 1], group: 2 },
      { C: 2, H: 1, W: 19, Co: 3, KH: 1, KW: 4, S: [1, 3], D: [1, 1], P: [0, 2, 0, 0], group: 1 },
      { C: 3, H: 4, W: 4, Co: 3, KH: 3, KW: 3, S: [1, 1], D: [1, 1], P: [1, 1, 1, 1], group: 3 },
    ];
    for (const c of cases) {
      for (const signed of [false, true]) {
        arena.reset();
        const images = 2;
        const { C, H, W, Co, KH, KW, group } = c;
        const [SH, SW] = c.S;
        const [DH, DW] = c.D;
        const [PT, PL, PB, PR] = c.P;
        const OH = Math.floor((H + PT + PB - (KH - 1) * DH - 1) / SH) + 1;
        const OW = Math.floor((W + PL + PR - (KW - 1) * DW - 1) / SW) + 1;
        const Cig = C / group;
        const Cog = Co / group;
        const K = Cig * KH * KW;
        const Kp = K + (K % 2);
        const P = OH * OW;
        const val = () => (signed ? Math.floor(rand() * 256) - 128 : Math.floor(rand() * 256));
        const X = Array.from({ length: images * C * H * W }, val);
        const Wt = Array.from({ length: Co * K }, val);
        const xz = val();
        const wz = Array.from({ length: Co }, val);
        const xp = putBytes(arena, k, X, signed, 1);
        const zp = putBytes(arena, k, [xz], signed, 2);
        const w16 = arena.alloc((Co * Kp) / 2 + 4);
        call(k, 'q_widen', {
          x: putBytes(arena, k, Wt, signed),
          signed: signed ? 1 : 0,
          zp: putBytes(arena, k, wz, signed),
          zpPeriod: Co,
          y: w16,
          rows: Co,
          K,
        });
        const colBytes = images * Math.ceil(P / 8) * 8 * Kp * 2;
        const col = arena.alloc(colBytes / 4 + 4);
        const acc = arena.out(images * Co * P);
        for (let g = 0; g < group; g++) {
          call(k, 'q_im2col', {
            x: xp,
            signed: signed ? 1 : 0,
            zp,
            col,
            images,
            C,
            H,
            W,
            c0: g * Cig,
            cn: Cig,
            KH,
            KW,
            SH,
            SW,
            DH,
            DW,
            PT,
            PL,
            OH,
            OW,
          });
          call(k, 'qgemm', {
            a: w16 + g * Cog * Kp * 2,
            b: col,
            c: acc + g * Cog * P * 4,
            batches: images,
            M: Cog,
            N: P,
            K,
            aPeriod: 1,
            bPeriod: 0,
            cStride: Co * P,
          });
        }
        const got = arena.i32(acc, images * Co * P + 8);
        for (let i = 0; i < images; i++)
          for (let co = 0; co < Co; co++)
            for (let oh = 0; oh < OH; oh++)
              for (let ow = 0; ow < OW; ow++) {
                const g = Math.floor(co / Cog);
                let s = 0;
                for (let ci = 0; ci < Cig; ci++)
                  for (let kh = 0; kh < KH; kh++)
                    for (let kw = 0; kw < KW; kw++) {
                      const ih = oh * SH - PT + kh * DH;
                      const iw = ow * SW - PL + kw * DW;
                      // Padding holds the zero point: it adds nothing.
                      const xv =
                        ih >= 0 && ih < H && iw >= 0 && iw < W ? X[((i * C + g * Cig + ci) * H + ih) * W + iw] : xz;
                      s += (xv - xz) * (Wt[co * K + (ci * KH + kh) * KW + kw] - wz[co]);
                    }
                const at = ((i * Co + co) * OH + oh) * OW + ow;
                if (got[at] !== s)
                  expect.fail(
                    `conv ${JSON.stringify(c)} signed ${signed}: [${i},${co},${oh},${ow}] got ${got[at]}, want ${s}`,
                  );
              }
        for (let t = 0; t < 8; t++)
          if (arena.f32(acc, images * Co * P + 8)[images * Co * P + t] !== -7777.25)
            expect.fail('conv: wrote past the end');
      }
    }
  });

  for (const signed of [false, true]) {
    const T = signed ? 'i8' : 'u8';
    it(`q_requantize_${T}: per-tensor and per-channel scales, bias, across channels and along pixels`, () => {
      const rand = rng(signed ? 17 : 16);
      const shapes: [number, number, number][] = [
        [1, 1, 1],
        [3, 9, 1],
        [2, 4, 1],
        [1, 3, 13],
        [2, 5, 4],
        [1, 1, 0],
      ];
      for (const [outer, channels, inner] of shapes) {
        for (const perChannel of [false, true]) {
          arena.reset();
          const n = outer * channels * inner;
          const acc = Int32Array.from({ length: n }, (_, i) =>
            i === 0 ? 2 ** 31 - 1 : i === 1 ? -(2 ** 31) : Math.floor((rand() - 0.5) * (rand() < 0.5 ? 5000 : 2e6)),
          );
          const withBias = rand() < 0.6;
          const bias = Int32Array.from({ length: channels }, () => Math.floor((rand() - 0.5) * 3000));
          const xs = f(0.01 + rand() * 0.05);
          const ws = Float32Array.from({ length: perChannel ? channels : 1 }, () => f(0.001 + rand() * 0.02));
          const ys = f(0.05 + rand() * 0.2);
          const z = signed ? Math.floor(rand() * 256) - 128 : Math.floor(rand() * 256);
          const withZp = rand() < 0.8;
          const yp = outBlock(arena, k, n, 1);
          call(k, signed ? 'q_requantize_i8' : 'q_requantize_u8', {
            acc: arena.putTyped(acc),
            bias: withBias ? arena.putTyped(bias) : 0,
            xScale: arena.put([xs]),
            wScale: arena.putTyped(ws),
            wScales: ws.length,
            yScale: arena.put([ys]),
            yZp: withZp ? putBytes(arena, k, [z], signed, 3) : 0,
            y: yp,
            outer,
            channels,
            inner,
          });
          const got = signed ? new Int8Array(k.memory.buffer, yp, n) : new Uint8Array(k.memory.buffer, yp, n);
          for (let i = 0; i < n; i++) {
            const c = Math.floor(i / inner) % channels;
            const s = f(f(xs * ws[perChannel ? c : 0]) / ys);
            const a = (acc[i] + (withBias ? bias[c] : 0)) | 0;
            const want = saturate(f(f(a) * s), withZp ? z : 0, signed);
            if (got[i] !== want)
              expect.fail(`q_requantize_${T} [${outer},${channels},${inner}] at ${i}: got ${got[i]}, want ${want}`);
          }
          expectCanaries(k, yp, n, `q_requantize_${T}`);
        }
      }
    });
  }
});
