import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import { lowerConvRuntimeW } from './conv-runtime.js';
import { convWindow, depthPass, imageInput, imageRows, outputValue, windowArgs, type Window } from './window.js';
import { imageGeometry } from '../lowering/layout.js';
import { packPanels, padBias } from '../pack.js';
import { add, floorDiv, isConst, mul, product, sameSize, sizeToString, sub, type Size } from '../shape/size.js';
import { stridedCopy } from './strided.js';
import { type Arg, type DataRef, type GemmEpilogue, type RtValue, buf, data, f32, i32, mapValues } from '../program.js';

/**
 * Convolutions and pools over channels-last images (compiler/layout.ts). Weights are packed at
 * compile time for the kernel that reads them: GEMM panels for im2col/1×1 convs, [taps][C] for
 * depthwise. Bias, BatchNormalization and activations that follow fold into the packing and the
 * kernels' epilogue (GemmEpilogue, shared with Gemm).
 */

const conv: OpHandler = {
  inputs: 'X W B?',
  lower(ctx) {
    if (ctx.input(1)!.kind !== 'const') return ctx.output(0, lowerConvRuntimeW(ctx));
    const x = imageInput(ctx);
    const W = ctx.constant(1, 'weights W');
    const B = ctx.optionalConstant(2, 'bias B');
    const group = ctx.int('group', 1);
    const [Co, Cig] = W.dims;
    const C = x.dims[1];
    if (!isConst(C)) throw new NodeProblem(`the input's channel count ${sizeToString(C)} must be fixed`);
    if (Cig * group !== C || Co % group !== 0)
      throw new NodeProblem(`weights [${W.dims}] with group ${group} do not fit ${C} input channels`, 'invalid-graph');
    const kernelShape = ctx.ints('kernel_shape') ?? W.dims.slice(2);
    const win = convWindow(ctx, x, kernelShape, false, true);
    const y = outputValue(ctx, x, Co, win);
    const [KH, KW] = win.kernel;
    const KD = win.depth?.kernel ?? 1;
    if (W.dims.length !== x.dims.length || product(W.dims.slice(2)) !== KD * KH * KW)
      throw new NodeProblem(`weights [${W.dims}] do not fit kernel_shape [${kernelShape}]`, 'invalid-graph');
    const wv = W.toFloat32();
    const bias = B ? Float32Array.from(B.toFloat32()) : null;
    const epilogue: GemmEpilogue = { n: Co, scale: null, bias, act: CODES.ACT.NONE, p0: 0, p1: 0 };
    const { images } = imageGeometry(x);
    const [H, Wd] = win.spatial;
    // W[co][c][kd][kh][kw] (kd = 0 for 1-D and 2-D)
    const weight = (co: number, c: number, kh: number, kw: number, kd = 0) =>
      wv[(((co * Cig + c) * KD + kd) * KH + kh) * KW + kw];

    if (group === C && Co === C && Cig === 1 && !win.depth) {
      // Depthwise: weights [taps][Cp], bias [Cp], both padded to whole vectors.
      const Cp = Math.ceil(C / 4) * 4;
      let packed: DataRef | null = null;
      let biasRef: DataRef | null = null;
      ctx.program.beforeLayout(() => {
        const s = epilogue.scale;
        const w = new Float32Array(KH * KW * Cp);
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++)
            for (let c = 0; c < C; c++) w[(kh * KW + kw) * Cp + c] = weight(c, 0, kh, kw) * (s ? s[c] : 1);
        packed = ctx.program.addFloats(w);
        if (epilogue.bias)
          biasRef = ctx.program.addFloats(Float32Array.from({ length: Cp }, (_, c) => (c < C ? epilogue.bias![c] : 0)));
      });
      const step = ctx.program.addStep(
        'conv_depthwise',
        () => ({
          x: buf(x),
          w: data(packed),
          bias: data(biasRef),
          y: buf(y),
          images,
          H: i32(H),
          W: i32(Wd),
          C: i32(C),
          ...windowArgs(win),
          act: i32(epilogue.act),
          p0: f32(epilogue.p0),
          p1: f32(epilogue.p1),
        }),
        [x],
        [y],
      );
      step.epilogue = epilogue;
      return ctx.output(0, y);
    }

    const Cog = Co / group;
    // im2col's row order is k = ((kd·KH + kh)·KW + kw)·Cig + c.
    const K = KD * KH * KW * Cig;
    const flat = (w: Window) =>
      w.kernel.every((k) => k === 1) && w.strides.every((s) => s === 1) && w.pads.every((p) => p === 0);
    const depth = win.depth && depthPass(win);
    const flatHW = flat(win);
    const pointwise = flatHW && (!depth || flat(depth));
    const pixels = mul(product(win.out), win.depth?.out ?? 1);
    const rowsArg = i32(mul(x.dims[0], pixels));
    const col = pointwise ? x : ctx.newValue([x.dims[0], pixels, K]);
    // 3-D: the (H, W) unrolling per depth slice (skipped when it is the identity), then the depth one over it.
    const K1 = KH * KW * Cig;
    const planes = depth && !flatHW ? ctx.newValue([x.dims[0], x.dims[2], product(win.out), K1]) : null;
    for (let g = 0; g < group; g++) {
      let packed: DataRef | null = null;
      let biasRef: DataRef | null = null;
      ctx.program.beforeLayout(() => {
        const s = epilogue.scale;
        const co0 = g * Cog;
        packed = ctx.program.addFloats(
          packPanels(K, Cog, (k, n) => {
            const c = k % Cig;
            const tap = (k - c) / Cig;
            const hw = tap % (KH * KW);
            const kd = (tap - hw) / (KH * KW);
            return weight(co0 + n, c, Math.floor(hw / KW), hw % KW, kd) * (s ? s[co0 + n] : 1);
          }),
        );
        if (epilogue.bias) biasRef = ctx.program.addFloats(padBias(Cog, (n) => epilogue.bias![co0 + n]));
      });
      const unroll = (src: RtValue, dst: RtValue, [n, h, w, c]: Size[], c0: number, cn: number, w2: Window) =>
        ctx.program.addStep(
          'im2col',
          () => ({
            x: buf(src),
            col: buf(dst),
            images: i32(n),
            H: i32(h),
            W: i32(w),
            C: i32(c),
            c0: i32(c0),
            cn: i32(cn),
            ...windowArgs(w2),
          }),
          [src],
          [dst],
        );
      if (!pointwise && !depth) unroll(x, col, [x.dims[0], H, Wd, C], g * Cig, Cig, win);
      else if (!pointwise && depth) {
        const [N, , D] = x.dims;
        const plane = product(win.out);
        // Each plane pixel's K1 values are the depth pass's "channels"; without a (H, W) pass, x's own.
        if (planes) unroll(x, planes, [mul(N, D), H, Wd, C], g * Cig, Cig, win);
        if (planes) unroll(planes, col, [N, D, plane, K1], 0, K1, depth);
        else unroll(x, col, [N, D, plane, C], g * Cig, Cig, depth);
      }
      const a: Arg = pointwise && group > 1 ? buf(x, g * Cig * 4) : buf(col);
      const lda = pointwise ? C : K;
      const step = ctx.program.addStep(
        'gemm',
        () => ({
          a,
          lda: i32(lda),
          w: data(packed),
          bias: data(biasRef),
          c: buf(y, g * Cog * 4),
          ldc: i32(Co),
          M: rowsArg,
          N: i32(Cog),
          K: i32(K),
          act: i32(epilogue.act),
          p0: f32(epilogue.p0),
          p1: f32(epilogue.p1),
        }),
        [pointwise ? x : col],
        [y],
      );
      step.epilogue = epilogue; // one epilogue for every group's GEMM
    }
    ctx.output(0, y);
  },
};

/**
 * ConvTranspose: one GEMM per input pixel row (x [pixels, Ci] · W [Ci, KH·KW·Co]) into a column
 * buffer, then col2im adds each column into the output pixel it lands on (bias first). Groups: a block-diagonal W.
 */
const convTranspose: OpHandler = {
  inputs: 'X W B?',
  lower(ctx) {
    const x = imageInput(ctx);
    const wIn = ctx.input(1)!;
    const W = wIn.kind === 'const' ? wIn.tensor : null;
    const wDims = W ? W.dims : wIn.kind === 'rt' && wIn.dims.every(isConst) ? (wIn.dims as number[]) : null;
    if (!wDims) throw new NodeProblem('a run-time W needs fixed sizes');
    const group = ctx.int('group', 1);
    if (!W && group !== 1) throw new NodeProblem(`a run-time W with group ${group} is not supported (group 1 is)`);
    const [Ci, Cog] = wDims;
    const Co = Cog * group;
    if (Ci % group !== 0)
      throw new NodeProblem(`${Ci} input channels do not split into ${group} groups`, 'invalid-graph');
    if (x.dims[1] !== Ci)
      throw new NodeProblem(`weights [${wDims}] do not fit ${sizeToString(x.dims[1])} input channels`, 'invalid-graph');
    const rank = x.dims.length - 2;
    if (wDims.length !== x.dims.length)
      throw new NodeProblem(`weights [${wDims}] do not have the input's ${x.dims.length} dimensions`, 'invalid-graph');
    for (const [name, count, least] of [
      ['kernel_shape', rank, 1],
      ['strides', rank, 1],
      ['dilations', rank, 1],
      ['pads', 2 * rank, 0],
      ['output_padding', rank, 0],
    ] as const) {
      const v = ctx.ints(name);
      if (v && (v.length < count || v.some((n) => !Number.isSafeInteger(n) || n < least)))
        throw new NodeProblem(`"${name}" is [${v}]; it needs ${count} integers of at least ${least}`, 'invalid-graph');
    }
    // Per axis ([D,] H, W; 1-D as H = 1): 3-D adds the depth axis in front.
    const lift = <T>(v: T[], one: T) => (rank === 1 ? [one, v[0]] : v);
    const kernel = lift(ctx.ints('kernel_shape') ?? wDims.slice(2), 1);
    const strides = lift(ctx.ints('strides') ?? new Array(rank).fill(1), 1);
    const dilations = lift(ctx.ints('dilations') ?? new Array(rank).fill(1), 1);
    const outPad = lift(ctx.ints('output_padding') ?? new Array(rank).fill(0), 0);
    const dims = lift(x.dims.slice(2), 1 as Size);
    const axes = dims.length;
    if (product(kernel) !== product(wDims.slice(2)))
      throw new NodeProblem(`weights [${wDims}] do not fit kernel_shape [${kernel}]`, 'invalid-graph');
    const given0 = ctx.ints('pads') ?? new Array(2 * rank).fill(0);
    const pads: Size[] = rank === 1 ? [0, given0[0], 0, given0[1]] : [...given0];
    const full = dims.map((d, i) => add(mul(strides[i], sub(d, 1)), outPad[i] + (kernel[i] - 1) * dilations[i] + 1));
    const given = ctx.ints('output_shape');
    const autoPad = ctx.string('auto_pad', 'NOTSET');
    if (given || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const target: Size[] = given ? lift(given.slice(-rank), 1) : dims.map((d, i) => mul(d, strides[i]));
      dims.forEach((_, i) => {
        const total = sub(full[i], target[i]);
        const small = floorDiv(total, 2);
        // ONNX: SAME_UPPER puts the odd pixel at the end; SAME_LOWER and an explicit output_shape at the start.
        [pads[i], pads[i + axes]] = autoPad === 'SAME_UPPER' ? [small, sub(total, small)] : [sub(total, small), small];
      });
    }
    const out = dims.map((_, i) => sub(sub(full[i], pads[i]), pads[i + axes]));
    if (out.some((o) => isConst(o) && o < 1)) throw new NodeProblem('the output would be empty', 'invalid-graph');
    const y: RtValue = {
      ...ctx.newValue([x.dims[0], Co, ...(rank === 1 ? [out[1]] : out)]),
      layout: 'nhwc',
      rowAxis: imageRows(x),
    };
    // The GEMM's columns are (kh, kw, kd, co): kd next to co, so the (H, W) col2im treats (kd, co) as its
    // channels and the depth col2im then sums those planes over depth (3-D), as im2col runs in Conv.
    const [KD, KH, KW] = axes === 3 ? kernel : [1, ...kernel];
    const N = KH * KW * KD * Co;
    const pixels = product(dims);
    const col = ctx.newValue([x.dims[0], pixels, N]);
    const m = mul(x.dims[0], pixels);
    if (W) {
      const wv = W.toFloat32();
      // B[ci][((kh·KW + kw)·KD + kd)·Co + co] = W[ci][co - g·Cog][kd][kh][kw] for co in ci's group g, else 0:
      // groups become one block-diagonal GEMM (group× the multiply-adds; grouped transposed convs are small).
      const Cig = Ci / group;
      const packed = ctx.program.addFloats(
        packPanels(Ci, N, (ci, n) => {
          const co = n % Co;
          const rest = (n - co) / Co;
          const kd = rest % KD;
          const hw = (rest - kd) / KD;
          const g = Math.floor(ci / Cig);
          if (Math.floor(co / Cog) !== g) return 0;
          return wv[(((ci * Cog + (co - g * Cog)) * KD + kd) * KH + Math.floor(hw / KW)) * KW + (hw % KW)];
        }),
      );
      ctx.program.addStep(
        'gemm',
        () => ({
          a: buf(x),
          lda: i32(Ci),
          w: data(packed),
          bias: data(null),
          c: buf(col),
          ldc: i32(N),
          M: i32(m),
          N: i32(N),
          K: i32(Ci),
          act: i32(0),
          p0: f32(0),
          p1: f32(0),
        }),
        [x],
        [col],
      );
    } else {
      // W at run time: [Ci, Co, KD, KH·KW] → [Ci, KH·KW, KD, Co] per call (one strided copy), then matmul.
      const T = KD * KH * KW;
      const b = stridedCopy(ctx, ctx.rt(1), [Ci, KH * KW, KD, Co], [Co * T, 1, KH * KW, T], 0);
      ctx.program.addStep(
        'matmul',
        () => ({
          a: buf(x),
          b: buf(b),
          c: buf(col),
          batches: i32(1),
          M: i32(m),
          N: i32(N),
          K: i32(Ci),
          bPeriod: i32(0),
        }),
        [x, b],
        [col],
      );
    }
    const bIn = ctx.input(2);
    if (bIn && !sameSize((bIn.kind === 'const' ? bIn.tensor.dims : bIn.dims)[0] ?? -1, Co))
      throw new NodeProblem(`B needs one value per output channel ([${Co}])`, 'invalid-graph');
    const biasRt = bIn && bIn.kind !== 'const' ? ctx.rt(2) : null;
    const bias = biasRt
      ? buf(biasRt)
      : data(bIn?.kind === 'const' ? ctx.program.addFloats(bIn.tensor.toFloat32()) : null);
    const hw = axes - 2;
    const [H, Wd, OH, OW] = [dims[hw], dims[hw + 1], out[hw], out[hw + 1]];
    const sumInto = (src: RtValue, dst: RtValue, n: Size, p: Record<string, Size>, b: Arg, reads: RtValue[]) =>
      ctx.program.addStep(
        'col2im',
        () => ({ col: buf(src), y: buf(dst), images: i32(n), ...mapValues(p, i32), bias: b }),
        reads,
        [dst],
      );
    const [SH, SW, DH, DW, PT, PL] = [
      strides[hw],
      strides[hw + 1],
      dilations[hw],
      dilations[hw + 1],
      pads[hw],
      pads[hw + 1],
    ];
    const plane = { H, W: Wd, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW };
    if (axes === 2) sumInto(col, y, x.dims[0], { ...plane, Co }, bias, biasRt ? [col, biasRt] : [col]);
    else {
      // The (H, W) sums per input depth slice, with (kd, co) as channels, then the depth sums over them.
      const [Nn, , D] = x.dims;
      const planes = ctx.newValue([Nn, D, OH, OW, KD * Co]);
      sumInto(col, planes, mul(Nn, D), { ...plane, Co: KD * Co }, data(null), [col]);
      const OHW = mul(OH, OW);
      const deep = { H: D, W: OHW, KH: KD, KW: 1, SH: strides[0], SW: 1, DH: dilations[0], DW: 1 };
      sumInto(
        planes,
        y,
        Nn,
        { ...deep, PT: pads[0], PL: 0, OH: out[0], OW: OHW, Co },
        bias,
        biasRt ? [planes, biasRt] : [planes],
      );
    }
    ctx.output(0, y);
  },
};

export const CONV_OPS: Record<string, OpHandler> = { Conv: conv, ConvTranspose: convTranspose };
