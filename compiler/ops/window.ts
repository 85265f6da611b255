import { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { type RtValue, i32 } from '../program.js';

/**
 * The sliding window of convolutions and pools: output size and pads from the attributes (pads, auto_pad,
 * strides, dilations, ceil_mode), and the window parameters the kernels share.
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
export function convWindow(ctx: NodeContext, x: RtValue, kernelShape: number[], ceil = false): Window {
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

export function outputValue(ctx: NodeContext, x: RtValue, channels: number, w: Window): RtValue {
  const dims = x.dims.length === 3 ? [x.dims[0], channels, w.out[1]] : [x.dims[0], channels, w.out[0], w.out[1]];
  return { ...ctx.newValue(dims, x.batched), layout: 'nhwc' };
}

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
