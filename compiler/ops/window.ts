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
  /** A 3-D window's depth axis (D of N×C×D×H×W); the fields above are then its H and W. */
  depth?: DepthWindow;
}

/** One axis of a window: its input size, kernel, stride, dilation, leading and trailing pads, output size. */
export interface DepthWindow {
  size: Size;
  kernel: number;
  stride: number;
  dilation: number;
  padLo: Size;
  padHi: Size;
  out: Size;
}

/**
 * Output size and pads from the attributes (pads, auto_pad, strides, dilations, ceil_mode), as sizes: a
 * symbolic height or width gives symbolic output sizes (and, for SAME padding, symbolic pads). 3-D windows
 * only where the op says it computes them (`depth`): their depth axis is `Window.depth`.
 */
export function convWindow(ctx: NodeContext, x: RtValue, kernelShape: number[], ceil = false, depth = false): Window {
  const rank = x.dims.length - 2;
  if (rank < 1 || rank > (depth ? 3 : 2))
    throw new NodeProblem(`${rank}-D windows are not supported (1-D and 2-D${depth ? ' and 3-D' : ''} are)`);
  const spatial = x.dims.slice(2);
  // 1-D windows run as 2-D ones of height 1.
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
  const axes = dims.length;
  // [begin per axis…, end per axis…], as ONNX lists them.
  const pads: Size[] = rank === 1 ? [0, given[0], 0, given[1]] : [...given];
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const extent = (i: number) => (kernel[i] - 1) * dilations[i] + 1;
  const out = dims.map((d, i): Size => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = ceilDiv(d, strides[i]);
      const total = max(sub(add(mul(sub(o, 1), strides[i]), extent(i)), d), 0);
      const small = floorDiv(total, 2);
      [pads[i], pads[i + axes]] = autoPad === 'SAME_UPPER' ? [small, sub(total, small)] : [sub(total, small), small];
      return o;
    }
    if (autoPad === 'VALID') {
      pads[i] = pads[i + axes] = 0;
      return add(floorDiv(sub(d, extent(i)), strides[i]), 1);
    }
    const span = sub(add(add(d, pads[i]), pads[i + axes]), extent(i));
    if (!ceil) return add(floorDiv(span, strides[i]), 1);
    // A ceil_mode window must start inside the input or its leading padding: one fewer when the last
    // would start past it, (o − 1)·s ≥ d + pad, i.e. o > ⌈(d + pad) / s⌉ (onnxruntime's rule).
    const o = add(ceilDiv(span, strides[i]), 1);
    const past = min(max(sub(o, ceilDiv(add(d, pads[i]), strides[i])), 0), 1);
    return sub(o, past);
  });
  if (out.some((o) => isConst(o) && o < 1))
    throw new NodeProblem(`the window is larger than the input ${shapeToString(spatial)}`, 'invalid-graph');
  const hw = [axes - 2, axes - 1];
  return {
    spatial: hw.map((i) => dims[i]),
    kernel: hw.map((i) => kernel[i]),
    strides: hw.map((i) => strides[i]),
    dilations: hw.map((i) => dilations[i]),
    pads: [pads[axes - 2], pads[axes - 1], pads[2 * axes - 2], pads[2 * axes - 1]],
    out: hw.map((i) => out[i]),
    depth:
      axes === 3
        ? {
            size: dims[0],
            kernel: kernel[0],
            stride: strides[0],
            dilation: dilations[0],
            padLo: pads[0],
            padHi: pads[3],
            out: out[0],
          }
        : undefined,
  };
}

/** Input `i` of a conv, pool or instance norm (or `x` made from it): an image, channels-last in memory. */
export function imageInput(ctx: NodeContext, i = 0, x = ctx.rtLayout(i)): RtValue {
  if (x.dims.length < 3 || x.dims.length > 5)
    throw new NodeProblem(
      `expects an N×C×L, N×C×H×W or N×C×D×H×W input, got ${shapeToString(x.dims)}`,
      'invalid-graph',
    );
  return toNHWC(ctx.program, x);
}

export function outputValue(ctx: NodeContext, x: RtValue, channels: Size, w: Window): RtValue {
  const spatial = x.dims.length === 3 ? [w.out[1]] : w.depth ? [w.depth.out, ...w.out] : w.out;
  const dims = [x.dims[0], channels, ...spatial];
  return { ...ctx.newValue(dims), layout: 'nhwc', rowAxis: imageRows(x) };
}

/** Rows survive an image op on the images' axis; on any other they are mixed with their neighbours. */
export const imageRows = (x: RtValue): RtValue['rowAxis'] =>
  x.rowAxis === 0 || x.rowAxis === 'none' ? x.rowAxis : undefined;

/**
 * A 3-D window's depth pass, as the 2-D kernels' window: its "rows" are the depth slices and each "row" one
 * plane of OH·OW outputs of the (H, W) pass, so a 3-D pool or im2col is the 2-D one per slice, then this.
 */
export function depthPass(w: Window): Window {
  const d = w.depth!;
  const plane = mul(w.out[0], w.out[1]);
  return {
    spatial: [d.size, plane],
    kernel: [d.kernel, 1],
    strides: [d.stride, 1],
    dilations: [d.dilation, 1],
    pads: [d.padLo, 0, d.padHi, 0],
    out: [d.out, plane],
  };
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
