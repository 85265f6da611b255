import { NodeProblem } from '../errors.js';
import { imageGeometry, toNHWC } from '../layout.js';
import type { NodeContext } from '../lower.js';
import { packPanels, padBias } from '../pack.js';
import { buf, data, f32, i32, mapValues, type Arg, type DataRef, type GemmEpilogue, type RtValue } from '../program.js';
import { product, Tensor } from '../tensor.js';
import { CODES } from '../abi/codes.js';
import type { OpHandler } from './index.js';

/**
 * Convolutions and pools over channels-last images (compiler/layout.ts). Weights are packed at
 * compile time for the kernel that reads them: GEMM panels for im2col/1×1 convs, [taps][C] for
 * depthwise. Bias, BatchNormalization and activations that follow fold into the packing and the
 * kernels' epilogue (GemmEpilogue, shared with Gemm).
 */

interface Window {
  spatial: number[]; // input H, W (1-D: [1, L])
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[]; // [top, left, bottom, right]
  out: number[];
}

/** Output size and pads from the attributes (pads, auto_pad, strides, dilations, ceil_mode). */
function convWindow(ctx: NodeContext, x: RtValue, kernelShape: number[], ceil = false): Window {
  const rank = x.dims.length - 2;
  if (rank !== 1 && rank !== 2) throw new NodeProblem(`${rank}-D windows are not supported (1-D and 2-D are)`);
  const spatial = x.dims.slice(2);
  const lift = (v: number[]) => (rank === 1 ? [1, v[0]] : v);
  const kernel = lift(kernelShape);
  const strides = lift(ctx.ints('strides') ?? new Array(rank).fill(1));
  const dilations = lift(ctx.ints('dilations') ?? new Array(rank).fill(1));
  const dims = lift(spatial);
  let pads = ctx.ints('pads') ?? new Array(2 * rank).fill(0);
  pads = rank === 1 ? [0, pads[0], 0, pads[1]] : pads;
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const extent = (i: number) => (kernel[i] - 1) * dilations[i] + 1;
  const out = [0, 1].map((i) => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(dims[i] / strides[i]);
      const total = Math.max((o - 1) * strides[i] + extent(i) - dims[i], 0);
      const small = Math.floor(total / 2);
      [pads[i], pads[i + 2]] = autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
      return o;
    }
    if (autoPad === 'VALID') {
      pads[i] = pads[i + 2] = 0;
      return Math.floor((dims[i] - extent(i)) / strides[i]) + 1;
    }
    const span = dims[i] + pads[i] + pads[i + 2] - extent(i);
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // A ceil_mode window must start inside the input or its leading padding.
    if (ceil && (o - 1) * strides[i] >= dims[i] + pads[i]) o--;
    return o;
  });
  if (out.some((o) => o < 1))
    throw new NodeProblem(`the window is larger than the input [${spatial}]`, 'invalid-graph');
  return { spatial: dims, kernel, strides, dilations, pads, out };
}

function outputValue(ctx: NodeContext, x: RtValue, channels: number, w: Window): RtValue {
  const dims = x.dims.length === 3 ? [x.dims[0], channels, w.out[1]] : [x.dims[0], channels, w.out[0], w.out[1]];
  return { ...ctx.newValue(dims, x.batched), layout: 'nhwc' };
}

/** The window parameters the conv and pool kernels share (compiler/abi/kernels.ts WINDOW). */
const windowArgs = (w: Window) => ({
  KH: i32(w.kernel[0]),
  KW: i32(w.kernel[1]),
  SH: i32(w.strides[0]),
  SW: i32(w.strides[1]),
  DH: i32(w.dilations[0]),
  DW: i32(w.dilations[1]),
  PT: i32(w.pads[0]),
  PL: i32(w.pads[1]),
  OH: i32(w.out[0]),
  OW: i32(w.out[1]),
});

const conv: OpHandler = {
  lower(ctx) {
    const x = toNHWC(ctx.program, ctx.rtLayout(0));
    const W = ctx.constant(1, 'weights W');
    const B = ctx.optionalConstant(2, 'bias B');
    const group = ctx.int('group', 1);
    const [Co, Cig] = W.dims;
    const C = x.dims[1];
    if (Cig * group !== C || Co % group !== 0)
      throw new NodeProblem(`weights [${W.dims}] with group ${group} do not fit ${C} input channels`, 'invalid-graph');
    const kernelShape = ctx.ints('kernel_shape') ?? W.dims.slice(2);
    const win = convWindow(ctx, x, kernelShape);
    const y = outputValue(ctx, x, Co, win);
    const [KH, KW] = win.kernel;
    const wv = W.toFloat32();
    const bias = B ? Float32Array.from(B.toFloat32()) : null;
    const epilogue: GemmEpilogue = { n: Co, scale: null, bias, act: CODES.ACT.NONE, p0: 0, p1: 0 };
    const { images } = imageGeometry(x);
    const [H, Wd] = win.spatial;
    // W[co][c][kh][kw]
    const weight = (co: number, c: number, kh: number, kw: number) => wv[((co * Cig + c) * KH + kh) * KW + kw];

    if (group === C && Co === C && Cig === 1) {
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
      ctx.program.addStep(
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
      return ctx.output(0, { ...y, gemm: epilogue });
    }

    const Cog = Co / group;
    const K = KH * KW * Cig;
    const pointwise = KH === 1 && KW === 1 && win.strides.every((s) => s === 1) && win.pads.every((p) => p === 0);
    const pixels = product(win.out);
    const rowsArg: Arg = x.batched ? { t: 'rows', times: x.dims[0] * pixels } : i32(x.dims[0] * pixels);
    const col = pointwise ? x : ctx.newValue([x.dims[0], pixels, K], x.batched);
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
            return weight(co0 + n, c, Math.floor(tap / KW), tap % KW) * (s ? s[co0 + n] : 1);
          }),
        );
        if (epilogue.bias) biasRef = ctx.program.addFloats(padBias(Cog, (n) => epilogue.bias![co0 + n]));
      });
      if (!pointwise) {
        ctx.program.addStep(
          'im2col',
          () => ({
            x: buf(x),
            col: buf(col),
            images,
            H: i32(H),
            W: i32(Wd),
            C: i32(C),
            c0: i32(g * Cig),
            cn: i32(Cig),
            ...windowArgs(win),
          }),
          [x],
          [col],
        );
      }
      const a: Arg = pointwise && group > 1 ? buf(x, g * Cig * 4) : buf(col);
      const lda = pointwise ? C : K;
      ctx.program.addStep(
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
    }
    ctx.output(0, { ...y, gemm: epilogue });
  },
};

/**
 * ConvTranspose: one GEMM per input pixel row (x [pixels, Ci] · W [Ci, KH·KW·Co]) into a column
 * buffer, then col2im adds each column into the output pixel it lands on (bias first). Groups: a block-diagonal W.
 */
const convTranspose: OpHandler = {
  lower(ctx) {
    const x = toNHWC(ctx.program, ctx.rtLayout(0));
    const W = ctx.constant(1, 'weights W');
    const B = ctx.optionalConstant(2, 'bias B');
    const group = ctx.int('group', 1);
    const [Ci, Cog] = W.dims;
    const Co = Cog * group;
    if (Ci % group !== 0)
      throw new NodeProblem(`${Ci} input channels do not split into ${group} groups`, 'invalid-graph');
    if (x.dims[1] !== Ci)
      throw new NodeProblem(`weights [${W.dims}] do not fit ${x.dims[1]} input channels`, 'invalid-graph');
    const rank = x.dims.length - 2;
    if (rank !== 1 && rank !== 2) throw new NodeProblem(`${rank}-D ConvTranspose is not supported`);
    const lift = (v: number[]) => (rank === 1 ? [1, v[0]] : v);
    const [KH, KW] = lift(ctx.ints('kernel_shape') ?? W.dims.slice(2));
    const [SH, SW] = lift(ctx.ints('strides') ?? new Array(rank).fill(1));
    const [DH, DW] = lift(ctx.ints('dilations') ?? new Array(rank).fill(1));
    const outPad = rank === 1 ? [0, ...(ctx.ints('output_padding') ?? [0])] : (ctx.ints('output_padding') ?? [0, 0]);
    const [H, Wd] = lift(x.dims.slice(2));
    let pads = ctx.ints('pads') ?? new Array(2 * rank).fill(0);
    pads = rank === 1 ? [0, pads[0], 0, pads[1]] : [...pads];
    const full = [0, 1].map((i) => [SH, SW][i] * ([H, Wd][i] - 1) + outPad[i] + ([KH, KW][i] - 1) * [DH, DW][i] + 1);
    const given = ctx.ints('output_shape');
    const autoPad = ctx.string('auto_pad', 'NOTSET');
    if (given || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const target = given ? lift(given.slice(-rank)) : [H * SH, Wd * SW];
      [0, 1].forEach((i) => {
        const total = full[i] - target[i];
        const small = Math.floor(total / 2);
        // ONNX: SAME_UPPER puts the odd pixel at the end; SAME_LOWER and an explicit output_shape at the start.
        [pads[i], pads[i + 2]] = autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
      });
    }
    const out = [0, 1].map((i) => full[i] - pads[i] - pads[i + 2]);
    if (out.some((o) => o < 1)) throw new NodeProblem('the output would be empty', 'invalid-graph');
    const y: RtValue = {
      ...ctx.newValue(rank === 1 ? [x.dims[0], Co, out[1]] : [x.dims[0], Co, out[0], out[1]], x.batched),
      layout: 'nhwc',
    };
    const wv = W.toFloat32();
    const N = KH * KW * Co;
    // B[ci][(kh·KW + kw)·Co + co] = W[ci][co - g·Cog][kh][kw] for co in ci's group g, else 0: groups
    // become one block-diagonal GEMM (group× the multiply-adds; grouped transposed convs are small).
    const Cig = Ci / group;
    const packed = ctx.program.addFloats(
      packPanels(Ci, N, (ci, n) => {
        const co = n % Co;
        const tap = (n - co) / Co;
        const g = Math.floor(ci / Cig);
        if (Math.floor(co / Cog) !== g) return 0;
        return wv[((ci * Cog + (co - g * Cog)) * KH + Math.floor(tap / KW)) * KW + (tap % KW)];
      }),
    );
    const biasRef = B ? ctx.program.addFloats(B.toFloat32()) : null;
    const { images } = imageGeometry(x);
    const pixels = H * Wd;
    const col = ctx.newValue([x.dims[0], pixels, N], x.batched);
    const m: Arg = x.batched ? { t: 'rows', times: x.dims[0] * pixels } : i32(x.dims[0] * pixels);
    ctx.program.addStep(
      'gemm',
      () => ({
        a: buf(x),
        lda: i32(Ci),
        w: data(packed),
        bias: data(null),
        c: buf(col),
        ldc: i32(N),
        M: m,
        N: i32(N),
        K: i32(Ci),
        act: i32(0),
        p0: f32(0),
        p1: f32(0),
      }),
      [x],
      [col],
    );
    ctx.program.addStep(
      'col2im',
      () => ({
        col: buf(col),
        y: buf(y),
        images,
        ...mapValues({ H, W: Wd, Co, KH, KW, SH, SW, DH, DW, PT: pads[0], PL: pads[1], OH: out[0], OW: out[1] }, i32),
        bias: data(biasRef),
      }),
      [col],
      [y],
    );
    ctx.output(0, y);
  },
};

function poolHandler(kind: 'max' | 'avg'): OpHandler {
  return {
    lower(ctx) {
      const x = toNHWC(ctx.program, ctx.rtLayout(0));
      if (ctx.isOutputUsed(1)) throw new NodeProblem('the Indices output is not supported');
      const win = convWindow(ctx, x, ctx.ints('kernel_shape') ?? [], ctx.int('ceil_mode', 0) !== 0);
      if (kind === 'avg' && win.dilations.some((d) => d !== 1))
        throw new NodeProblem('dilated AveragePool is not supported');
      const y = outputValue(ctx, x, x.dims[1], win);
      const { images, C } = imageGeometry(x);
      const [H, W] = win.spatial;
      if (kind === 'max') {
        ctx.program.addStep(
          'maxpool',
          () => ({ x: buf(x), y: buf(y), images, H: i32(H), W: i32(W), C: i32(C), ...windowArgs(win) }),
          [x],
          [y],
        );
      } else {
        const [KH, KW] = win.kernel;
        const [SH, SW] = win.strides;
        const [PT, PL, PB, PR] = win.pads;
        const include = ctx.int('count_include_pad', 0);
        ctx.program.addStep(
          'avgpool',
          () => ({
            x: buf(x),
            y: buf(y),
            images,
            ...mapValues({ H, W, C, KH, KW, SH, SW, PT, PL, PB, PR, OH: win.out[0], OW: win.out[1] }, i32),
            countIncludePad: i32(include),
          }),
          [x],
          [y],
        );
      }
      ctx.output(0, y);
    },
  };
}

function globalPool(kernel: 'global_avgpool' | 'global_maxpool'): OpHandler {
  return {
    fold(_ctx, [x]) {
      const [n, c] = x!.dims;
      const hw = product(x!.dims.slice(2));
      const v = x!.numbers;
      const out = Array.from({ length: n * c }, (_, i) => {
        const part = Array.from(v.subarray(i * hw, (i + 1) * hw));
        return kernel === 'global_avgpool' ? part.reduce((a, b) => a + b, 0) / hw : Math.max(...part);
      });
      return [Tensor.fromNumbers(x!.dtype, [n, c, ...x!.dims.slice(2).map(() => 1)], out)];
    },
    lower(ctx) {
      const x = toNHWC(ctx.program, ctx.rtLayout(0));
      const { images, C, HW } = imageGeometry(x);
      // [k, C, 1, 1]: the same bytes channels-last or not, so the result is plain.
      const y = ctx.newValue([x.dims[0], C, ...x.dims.slice(2).map(() => 1)], x.batched);
      ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), images, HW: i32(HW), C: i32(C) }), [x], [y]);
      ctx.output(0, y);
    },
  };
}

const lrn: OpHandler = {
  lower(ctx) {
    const x = toNHWC(ctx.program, ctx.rtLayout(0));
    const { images, C, HW } = imageGeometry(x);
    const y = { ...ctx.newValue(x.dims, x.batched), layout: 'nhwc' as const };
    const size = ctx.int('size', 1);
    const [alpha, beta, bias] = [ctx.float('alpha', 1e-4), ctx.float('beta', 0.75), ctx.float('bias', 1)];
    ctx.program.addStep(
      'lrn',
      () => ({
        x: buf(x),
        y: buf(y),
        images,
        HW: i32(HW),
        C: i32(C),
        size: i32(size),
        alpha: f32(alpha),
        beta: f32(beta),
        bias: f32(bias),
      }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

export const CONV_OPS: Record<string, OpHandler> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: poolHandler('max'),
  AveragePool: poolHandler('avg'),
  GlobalAveragePool: globalPool('global_avgpool'),
  GlobalMaxPool: globalPool('global_maxpool'),
  LRN: lrn,
};
