import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { i32, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { toNHWC } from '../lowering/layout.js';
import { add, ceilDiv, floorDiv, isConst, max, min, mul, sub, type Size } from '../shape/size.js';

/**
 * The sliding window of convolutions and pools: output size and pads from the attributes (pads, auto_pad,
 * strides, dilations, ceil_mode), and the window parameters the kernels share.
 */

export interface Window {
  spatial: Size[]; // input H, W (1-D: [1, L])
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: Size[]; // [top, left, bottom, right]
  out: Size[];
}

/**
 * Output size and pads from the attributes (pads, auto_pad, strides, dilations, ceil_mode), as sizes: a
 * symbolic height or width gives symbolic output sizes (and, for SAME padding, symbolic pads).
 */
export function convWindow(ctx: NodeContext, x: RtValue, kernelShape: number[], ceil = false): Window {
  const rank = x.dims.length - 2;
  if (rank !== 1 && rank !== 2) throw new NodeProblem(`${rank}-D windows are not supported (1-D and 2-D are)`);
  const spatial = x.dims.slice(2);
  const lift = <T>(v: T[], one: T) => (rank === 1 ? [one, v[0]] : v);
  const listed = (name: string, v: number[], count: number, least: number) => {
    if (v.length !== count || v.some((n) => !Number.isSafeInteger(n) || n < least))
      throw new NodeProblem(
        `"${name}" is [${v}]; it needs ${count} integers of at least ${least} for a ${rank}-D window`,
        'invalid-graph',
      );
    return v;
  };
  const kernel = lift(listed('kernel_shape', kernelShape, rank, 1), 1);
  const strides = lift(listed('strides', ctx.ints('strides') ?? new Array(rank).fill(1), rank, 1), 1);
  const dilations = lift(listed('dilations', ctx.ints('dilations') ?? new Array(rank).fill(1), rank, 1), 1);
  const dims = lift(spatial, 1 as Size);
  const given = listed('pads', ctx.ints('pads') ?? new Array(2 * rank).fill(0), 2 * rank, 0);
  const pads: Size[] = rank === 1 ? [0, given[0], 0, given[1]] : [...given];
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const extent = (i: number) => (kernel[i] - 1) * dilations[i] + 1;
  const out = [0, 1].map((i): Size => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = ceilDiv(dims[i], strides[i]);
      const total = max(sub(add(mul(sub(o, 1), strides[i]), extent(i)), dims[i]), 0);
      const small = floorDiv(total, 2);
      [pads[i], pads[i + 2]] = autoPad === 'SAME_UPPER' ? [small, sub(total, small)] : [sub(total, small), small];
      return o;
    }
    if (autoPad === 'VALID') {
      pads[i] = pads[i + 2] = 0;
      return add(floorDiv(sub(dims[i], extent(i)), strides[i]), 1);
    }
    const span = sub(add(add(dims[i], pads[i]), pads[i + 2]), extent(i));
    if (!ceil) return add(floorDiv(span, strides[i]), 1);
    // A ceil_mode window must start inside the input or its leading padding: one fewer when the last
    // would start past it, (o − 1)·s ≥ d + pad, i.e. o > ⌈(d + pad) / s⌉ (onnxruntime's rule).
    const o = add(ceilDiv(span, strides[i]), 1);
    const past = min(max(sub(o, ceilDiv(add(dims[i], pads[i]), strides[i])), 0), 1);
    return sub(o, past);
  });
  if (out.some((o) => isConst(o) && o < 1))
    throw new NodeProblem(`the window is larger than the input ${shapeToString(spatial)}`, 'invalid-graph');
  return { spatial: dims, kernel, strides, dilations, pads, out };
}

/** Input `i` of a conv, pool or instance norm (or `x` made from it): an image, channels-last in memory. */
export function imageInput(ctx: NodeContext, i = 0, x = ctx.rtLayout(i)): RtValue {
  if (x.dims.length !== 3 && x.dims.length !== 4)
    throw new NodeProblem(`expects an N×C×L or N×C×H×W input, got ${shapeToString(x.dims)}`, 'invalid-graph');
  return toNHWC(ctx.program, x);
}

export function outputValue(ctx: NodeContext, x: RtValue, channels: Size, w: Window): RtValue {
  const dims = x.dims.length === 3 ? [x.dims[0], channels, w.out[1]] : [x.dims[0], channels, w.out[0], w.out[1]];
  return { ...ctx.newValue(dims), layout: 'nhwc', rowAxis: imageRows(x) };
}

/** Rows survive an image op on the images' axis; on any other they are mixed with their neighbours. */
export const imageRows = (x: RtValue): RtValue['rowAxis'] =>
  x.rowAxis === 0 || x.rowAxis === 'none' ? x.rowAxis : undefined;

/** The window parameters the conv and pool kernels share (compiler/abi/kernels.ts WINDOW). */
export const windowArgs = (w: Window) => ({
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
