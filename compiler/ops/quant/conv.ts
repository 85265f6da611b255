import type { OpHandler } from '../op.js';
import { NodeProblem } from '../../errors.js';
import type { NodeContext } from '../../lowering/context.js';
import { buf, data, i32, type PtrArg, type RtValue } from '../../program.js';
import { shapeToString } from '../../shape/shapes.js';
import { ceilDiv, isConst, mul, type Size } from '../../shape/size.js';
import { convWindow, imageRows, windowArgs, type Window } from '../window.js';
import { widenRows } from './pack.js';
import {
  channelValues,
  operand,
  perChannel,
  perTensor,
  ptrOf,
  required,
  storageFor,
  type Operand,
} from './operands.js';

/**
 * ConvInteger (10) and QLinearConv (10): 1-D and 2-D convolutions of uint8/int8 N×C×(H×)W images in
 * plain layout, with groups, strides, dilations, pads and auto_pad, as exact i32 sums: per group an
 * im2col packed for the i16 GEMM (zero points subtracted, so padding is the zero point), then the GEMM
 * against the widened weights (at compile time when constant). QLinearConv then adds its i32 bias and
 * requantizes per output channel. x's zero point is one value; w's one value or one per output channel.
 */

const Q8 = ['uint8', 'int8'] as const;

interface ConvGeometry {
  win: Window;
  images: Size;
  C: number;
  Co: number;
  group: number;
  Cig: number;
  Cog: number;
  K: number;
  pixels: Size;
  outDims: Size[];
}

function geometry(ctx: NodeContext, x: Operand, w: Operand): ConvGeometry {
  if (x.dims.length !== 3 && x.dims.length !== 4)
    throw new NodeProblem(`expects an N×C×L or N×C×H×W input, got ${shapeToString(x.dims)}`, 'invalid-graph');
  if (w.dims.length !== x.dims.length)
    throw new NodeProblem(
      `the weights ${shapeToString(w.dims)} do not fit the input ${shapeToString(x.dims)}`,
      'invalid-graph',
    );
  const wd = w.dims.map((d) => {
    if (!isConst(d)) throw new NodeProblem(`the weights' shape ${shapeToString(w.dims)} must be fixed`);
    return d;
  });
  const C = x.dims[1];
  if (!isConst(C)) throw new NodeProblem(`the input's channel count ${shapeToString([C])} must be fixed`);
  const group = ctx.int('group', 1);
  const [Co, Cig] = wd;
  if (!(group >= 1) || Cig * group !== C || Co % group !== 0)
    throw new NodeProblem(
      `weights ${shapeToString(wd)} with group ${group} do not fit ${C} input channels`,
      'invalid-graph',
    );
  const kernelShape = ctx.ints('kernel_shape') ?? wd.slice(2);
  if (kernelShape.some((k, i) => k !== wd[2 + i]))
    throw new NodeProblem(
      `kernel_shape [${kernelShape}] differs from the weights ${shapeToString(wd)}`,
      'invalid-graph',
    );
  // convWindow reads only the image's dims: the same geometry as the float convolution's.
  const image = { dims: x.dims } as RtValue;
  const win = convWindow(ctx, image, kernelShape);
  const [KH, KW] = win.kernel;
  const outDims = x.dims.length === 3 ? [x.dims[0], Co, win.out[1]] : [x.dims[0], Co, win.out[0], win.out[1]];
  return {
    win,
    images: x.dims[0],
    C,
    Co,
    group,
    Cig,
    Cog: Co / group,
    K: Cig * KH * KW,
    pixels: mul(win.out[0], win.out[1]),
    outDims,
  };
}

/** W16 [Co, Kp]: the weights minus their zero points, at compile time when constant. */
function weights(
  ctx: NodeContext,
  w: Operand,
  zp: Operand | undefined,
  g: ConvGeometry,
): { ptr: PtrArg; reads: RtValue[] } {
  const perChannelZp = perChannel(ctx, zp, g.Co, 'w_zero_point') === 'channels';
  if (w.tensor && (!zp || zp.tensor)) {
    const v = w.tensor.numbers;
    const z = channelValues(zp, g.Co, 0);
    return {
      ptr: data(
        ctx.program.addData(
          widenRows(
            g.Co,
            g.K,
            (r, k) => v[r * g.K + k],
            (r) => z[r],
          ),
        ),
      ),
      reads: [],
    };
  }
  const y = ctx.newValue([g.Co * (g.K + (g.K % 2)) * 2], 'uint8');
  const [wp, zpp] = [ptrOf(ctx, w), ptrOf(ctx, zp)];
  ctx.program.addStep(
    'q_widen',
    () => ({
      x: wp,
      signed: i32(w.type === 'int8' ? 1 : 0),
      zp: zpp,
      zpPeriod: i32(perChannelZp ? g.Co : 0),
      y: buf(y),
      rows: i32(g.Co),
      K: i32(g.K),
    }),
    [...w.reads, ...(zp?.reads ?? [])],
    [y],
  );
  return { ptr: buf(y), reads: [y] };
}

/** The exact i32 sums [N, Co, (OH,) OW] of the convolution. */
function integerConv(
  ctx: NodeContext,
  x: Operand,
  xZp: Operand | undefined,
  w: Operand,
  wZp: Operand | undefined,
  g: ConvGeometry,
): RtValue {
  perTensor(ctx, xZp, 'x_zero_point');
  const W16 = weights(ctx, w, wZp, g);
  const Kp = g.K + (g.K % 2);
  const packed = mul(mul(ceilDiv(g.pixels, 8), 8), Kp);
  const col = ctx.newValue([mul(mul(g.images, packed), 2)], 'uint8');
  const acc = ctx.newValue(g.outDims, 'int32');
  const [xp, zpp] = [ptrOf(ctx, x), ptrOf(ctx, xZp)];
  const [H, W] = g.win.spatial;
  const { KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = windowArgs(g.win);
  for (let k = 0; k < g.group; k++) {
    ctx.program.addStep(
      'q_im2col',
      () => ({
        x: xp,
        signed: i32(x.type === 'int8' ? 1 : 0),
        zp: zpp,
        col: buf(col),
        images: i32(g.images),
        C: i32(g.C),
        H: i32(H),
        W: i32(W),
        c0: i32(k * g.Cig),
        cn: i32(g.Cig),
        ...{ KH, KW, SH, SW, DH, DW, PT, PL, OH, OW },
      }),
      [...x.reads, ...(xZp?.reads ?? [])],
      [col],
    );
    const a: PtrArg =
      W16.ptr.t === 'buf' ? buf(W16.reads[0], k * g.Cog * Kp * 2) : offsetData(W16.ptr, k * g.Cog * Kp * 2);
    ctx.program.addStep(
      'qgemm',
      () => ({
        a,
        b: buf(col),
        c: buf(acc, mul(mul(k * g.Cog, g.pixels), 4)),
        batches: i32(g.images),
        M: i32(g.Cog),
        N: i32(g.pixels),
        K: i32(g.K),
        aPeriod: i32(1),
        bPeriod: i32(0),
        cStride: i32(mul(g.Co, g.pixels)),
      }),
      [col, ...W16.reads],
      [acc],
    );
  }
  return acc;
}

/** A data-segment pointer `bytes` further on. */
function offsetData(p: PtrArg, bytes: number): PtrArg {
  if (p.t !== 'data') throw new Error('internal error: not a data pointer');
  return bytes === 0 ? p : { t: 'data', d: { offset: p.d.offset + bytes, bytes: p.d.bytes - bytes } };
}

const rowsOf = (x: Operand): RtValue['rowAxis'] => (x.reads.length ? imageRows(x.reads[0]) : 'none');

const convInteger: OpHandler = {
  inputs: 'x w x_zero_point? w_zero_point?',
  lower(ctx) {
    const x = required(ctx, 0, 'x', [...Q8]);
    const w = required(ctx, 1, 'w', [...Q8]);
    const xZp = operand(ctx, 2, 'x_zero_point', [x.type]);
    const wZp = operand(ctx, 3, 'w_zero_point', [w.type]);
    const g = geometry(ctx, x, w);
    ctx.output(0, { ...integerConv(ctx, x, xZp, w, wZp, g), rowAxis: rowsOf(x) });
  },
};

const qLinearConv: OpHandler = {
  inputs: 'x x_scale x_zero_point? w w_scale w_zero_point? y_scale y_zero_point? B?',
  lower(ctx) {
    const x = required(ctx, 0, 'x', [...Q8]);
    const xScale = required(ctx, 1, 'x_scale', ['float32']);
    const xZp = operand(ctx, 2, 'x_zero_point', [x.type]);
    const w = required(ctx, 3, 'w', [...Q8]);
    const wScale = required(ctx, 4, 'w_scale', ['float32']);
    const wZp = operand(ctx, 5, 'w_zero_point', [w.type]);
    const yScale = required(ctx, 6, 'y_scale', ['float32']);
    const yZp = operand(ctx, 7, 'y_zero_point', [...Q8]);
    const bias = operand(ctx, 8, 'B', ['int32']);
    for (const [o, what] of [
      [xScale, 'x_scale'],
      [yScale, 'y_scale'],
      [yZp, 'y_zero_point'],
    ] as const)
      perTensor(ctx, o, what);
    const g = geometry(ctx, x, w);
    const wScales = perChannel(ctx, wScale, g.Co, 'w_scale') === 'channels' ? g.Co : 1;
    if (bias && perChannel(ctx, bias, g.Co, 'B') !== 'channels' && g.Co !== 1)
      throw new NodeProblem(`the bias B must hold ${g.Co} values, one per output channel`, 'invalid-graph');
    const acc = integerConv(ctx, x, xZp, w, wZp, g);
    const type = yZp?.type ?? x.type;
    const y: RtValue = { ...ctx.newValue(g.outDims, storageFor(type)), rowAxis: rowsOf(x) };
    const [bp, xs, ws, ysp, yzp] = [bias, xScale, wScale, yScale, yZp].map((o) => ptrOf(ctx, o));
    ctx.program.addStep(
      type === 'int8' ? 'q_requantize_i8' : 'q_requantize_u8',
      () => ({
        acc: buf(acc),
        bias: bp,
        xScale: xs,
        wScale: ws,
        wScales: i32(wScales),
        yScale: ysp,
        yZp: yzp,
        y: buf(y),
        outer: i32(g.images),
        channels: i32(g.Co),
        inner: i32(g.pixels),
      }),
      [acc, ...[bias, xScale, wScale, yScale, yZp].flatMap((o) => o?.reads ?? [])],
      [y],
    );
    ctx.output(0, y);
  },
};

export const QCONV_OPS: Record<string, OpHandler> = { ConvInteger: convInteger, QLinearConv: qLinearConv };
