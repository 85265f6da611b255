import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { physicalDims, physicalPerm } from '../lowering/layout.js';
import { bytesOf } from '../lowering/storage.js';
import { buf, data, ELEMENT_BYTES, f32, i32, type PtrArg, type RtValue } from '../program.js';
import { add, mul, sameSize, sum, type Size } from '../shape/size.js';
import { Tensor } from '../tensor.js';
import type { OpHandler } from './op.js';
import { ASPECT, resizeLengths, type Given } from './resize-lengths.js';
import { runtimeInput } from './strided.js';

/**
 * Resize (opsets 10–19) and Upsample (7–9): one `resize` call for float32 (every mode), `resize_nearest`
 * for other element types (nearest). Channels-last images are resized as they are held (the kernel runs
 * over the trailing channels). The table of lengths and scales is built in resize-lengths.ts.
 */

const MODES: Record<string, number> = {
  nearest: CODES.RESIZE.NEAREST,
  linear: CODES.RESIZE.LINEAR,
  bilinear: CODES.RESIZE.LINEAR, // Upsample's older name
  cubic: CODES.RESIZE.CUBIC,
};
const COORDS: Record<string, number> = {
  half_pixel: CODES.COORD.HALF_PIXEL,
  asymmetric: CODES.COORD.ASYMMETRIC,
  pytorch_half_pixel: CODES.COORD.PYTORCH_HALF_PIXEL,
  tf_half_pixel_for_nearest: CODES.COORD.TF_HALF_PIXEL_FOR_NN,
  align_corners: CODES.COORD.ALIGN_CORNERS,
  tf_crop_and_resize: CODES.COORD.TF_CROP_AND_RESIZE,
  half_pixel_symmetric: CODES.COORD.HALF_PIXEL_SYMMETRIC,
};
const NEARESTS: Record<string, number> = {
  round_prefer_floor: CODES.NEAREST.ROUND_PREFER_FLOOR,
  round_prefer_ceil: CODES.NEAREST.ROUND_PREFER_CEIL,
  floor: CODES.NEAREST.FLOOR,
  ceil: CODES.NEAREST.CEIL,
};

function choice(ctx: NodeContext, name: string, fallback: string, table: Record<string, number>): number {
  const v = ctx.string(name, fallback);
  const code = table[v];
  if (code === undefined)
    throw new NodeProblem(`${name} "${v}" is not one of ${Object.keys(table).join(', ')}`, 'invalid-graph');
  return code;
}

/** Taps per output (resizeScratchBytes). */
const taps = (mode: number): number => (mode === CODES.RESIZE.NEAREST ? 1 : mode === CODES.RESIZE.LINEAR ? 2 : 4);

/** resizeScratchBytes (compiler/abi/resample.ts) over sizes: planned at the output lengths' bounds. */
function scratchBytes(mode: number, outs: Size[]): Size {
  const T = taps(mode);
  const perAxis = sum(outs.map((n) => mul(2 * T + 1, n)));
  const last = outs.length ? outs[outs.length - 1] : 0;
  return add(mul(4, add(perAxis, mul(T, add(last, 1)))), 112 * outs.length + 160);
}

/** Input i as scales or sizes, or undefined when it is absent or empty (a placeholder for the other). */
function givenInput(ctx: NodeContext, i: number, what: 'scales' | 'sizes'): Given | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  if (v.kind === 'const') {
    if (v.tensor.size === 0) return undefined;
    if (what === 'scales' && !v.tensor.isFloat)
      throw new NodeProblem(`scales (input ${i}) must be floats, not ${v.tensor.dtype}`, 'invalid-graph');
    if (what === 'sizes' && v.tensor.isFloat)
      throw new NodeProblem(`sizes (input ${i}) must be int64, not ${v.tensor.dtype}`, 'invalid-graph');
    if (v.tensor.dims.length !== 1)
      throw new NodeProblem(`${what} (input ${i}) must be a vector, not of shape [${v.tensor.dims}]`, 'invalid-graph');
    return what === 'scales'
      ? { what, values: Array.from(v.tensor.toFloat32()) }
      : { what, values: Array.from(v.tensor.numbers) };
  }
  if (v.kind === 'shape') {
    if (what === 'scales') throw new NodeProblem(`scales (input ${i}) must be floats, not int64`, 'invalid-graph');
    return v.values.length ? { what, values: v.values } : undefined;
  }
  if (v.dims.length === 1 && v.dims[0] === 0) return undefined;
  const x = ctx.rtAny(i);
  const type = x.onnx ?? x.dtype;
  if (type !== (what === 'scales' ? 'float32' : 'int64'))
    throw new NodeProblem(`${what} (input ${i}) holds ${type}; it must be ${what === 'scales' ? 'float' : 'int64'}`);
  if (x.dims.length !== 1)
    throw new NodeProblem(`${what} (input ${i}) must be a vector, not of rank ${x.dims.length}`, 'invalid-graph');
  return { what, value: x };
}

/** How many values `given` has (a size for values in memory). */
const givenLength = (g: Given): Size => ('values' in g ? g.values.length : g.value.dims[0]);

interface ResizeSpec {
  given: Given;
  axes: number[];
  mode: number;
  coord: number;
  nearest: number;
  policy: number;
  roi?: { input: number };
}

/** The node's attributes and inputs, as Resize-`opset` or Upsample reads them. */
function resizeSpec(ctx: NodeContext, rank: number, upsample: boolean): ResizeSpec {
  const mode = choice(ctx, 'mode', 'nearest', MODES);
  if (ctx.string('mode', 'nearest') === 'bilinear' && !upsample)
    throw new NodeProblem('mode "bilinear" is Upsample\'s; Resize calls it "linear"', 'invalid-graph');
  if (ctx.int('antialias', 0) !== 0) throw new NodeProblem('antialias=1 is not supported yet');
  const legacy = upsample || ctx.opset < 11; // Upsample and Resize-10: asymmetric, nearest "simple"
  const coord = legacy ? CODES.COORD.ASYMMETRIC : choice(ctx, 'coordinate_transformation_mode', 'half_pixel', COORDS);
  const nearest = legacy ? CODES.NEAREST.SIMPLE : choice(ctx, 'nearest_mode', 'round_prefer_floor', NEARESTS);
  const policy = ctx.opset >= 18 && !upsample ? choice(ctx, 'keep_aspect_ratio_policy', 'stretch', ASPECT) : 0;

  let axes = Array.from({ length: rank }, (_, a) => a);
  const axesAttr = ctx.opset >= 18 && !upsample ? ctx.ints('axes') : undefined;
  if (axesAttr) {
    axes = axesAttr.map((a) => {
      if (a < -rank || a >= rank) throw new NodeProblem(`axes ${a} is out of range for rank ${rank}`, 'invalid-graph');
      return a < 0 ? a + rank : a;
    });
    if (new Set(axes).size !== axes.length) throw new NodeProblem(`axes [${axesAttr}] repeat an axis`, 'invalid-graph');
  }

  let given: Given | undefined;
  if (upsample && ctx.opset < 9) {
    const scales = ctx.attr('scales');
    if (!Array.isArray(scales)) throw new NodeProblem('the scales attribute is missing', 'invalid-graph');
    given = { what: 'scales', values: Array.from(Float32Array.from(scales as number[])) };
  } else if (upsample || ctx.opset < 11) {
    given = givenInput(ctx, 1, 'scales');
    if (!given) throw new NodeProblem('scales (input 1) is empty', 'invalid-graph');
  } else {
    const scales = givenInput(ctx, 2, 'scales');
    const sizes = givenInput(ctx, 3, 'sizes');
    if (scales && sizes)
      throw new NodeProblem('both scales and sizes are given; ONNX takes exactly one of them', 'invalid-graph');
    given = scales ?? sizes;
    if (!given) throw new NodeProblem('neither scales (input 2) nor sizes (input 3) is given', 'invalid-graph');
    if (policy !== CODES.ASPECT.STRETCH && given.what === 'scales')
      throw new NodeProblem('keep_aspect_ratio_policy applies to sizes, but scales are given', 'invalid-graph');
  }
  const n = givenLength(given);
  const want = axesAttr ? `one per axis in axes [${axesAttr}]` : `one per dimension of the rank-${rank} input`;
  if (typeof n === 'number' && n !== axes.length)
    throw new NodeProblem(`${given.what} has ${n} values; it needs ${axes.length}, ${want}`, 'invalid-graph');
  if (typeof n !== 'number') ctx.require(n, axes.length, `${given.what} needs ${axes.length} values, ${want}`);
  const roi = coord === CODES.COORD.TF_CROP_AND_RESIZE ? { input: 1 } : undefined;
  return { given, axes, mode, coord, nearest, policy, roi };
}

/** The crop box of tf_crop_and_resize in memory order: f32 [starts…, ends…] over every axis. */
function roiArg(ctx: NodeContext, spec: ResizeSpec, rank: number, perm: number[]): { roi: PtrArg; reads: RtValue[] } {
  const v = ctx.input(spec.roi!.input);
  const n = spec.axes.length;
  if (!v) throw new NodeProblem('tf_crop_and_resize needs roi (input 1)', 'invalid-graph');
  if (v.kind === 'const') {
    const r = v.tensor.toFloat32();
    if (r.length !== 2 * n)
      throw new NodeProblem(`roi has ${r.length} values; it needs ${2 * n} (starts, then ends)`, 'invalid-graph');
    const full = [...Array(rank).fill(0), ...Array(rank).fill(1)];
    spec.axes.forEach((a, i) => ((full[a] = r[i]), (full[rank + a] = r[n + i])));
    const ordered = [...perm.map((a) => full[a]), ...perm.map((a) => full[rank + a])];
    return { roi: data(ctx.program.addFloats(Float32Array.from(ordered))), reads: [] };
  }
  const r = ctx.rt(spec.roi!.input);
  const identity = perm.every((a, p) => a === p) && n === rank;
  if (!identity)
    throw new NodeProblem('a roi computed at run time is supported over every axis of a plain (NCHW) input only');
  if (r.dims.length !== 1) throw new NodeProblem('roi must be a vector', 'invalid-graph');
  ctx.require(r.dims[0], 2 * rank, `roi needs ${2 * rank} values (starts, then ends)`);
  return { roi: buf(r), reads: [r] };
}

/** The input as held (a constant becomes a run-time value: the kernel computes what a fold would). */
const resizeInput = (ctx: NodeContext): RtValue =>
  ctx.input(0)?.kind === 'const' ? runtimeInput(ctx, 0) : ctx.rtLayout(0);

function lowerResize(ctx: NodeContext, upsample: boolean): void {
  const x = resizeInput(ctx);
  const rank = x.dims.length;
  if (rank === 0) throw new NodeProblem('X is a scalar; Resize needs at least one dimension', 'invalid-graph');
  const spec = resizeSpec(ctx, rank, upsample);
  const nhwc = x.layout === 'nhwc';
  const perm = nhwc ? physicalPerm(rank) : Array.from({ length: rank }, (_, a) => a);
  const lengths = resizeLengths(ctx, x.dims, perm, spec.axes, spec.given, spec.policy);
  const outDims = lengths.outDims;
  const physicalOut = nhwc ? physicalDims(outDims) : outDims;
  const roi = spec.roi ? roiArg(ctx, spec, rank, perm) : { roi: { t: 'null' } as PtrArg, reads: [] };

  const r = x.rowAxis;
  const rowAxis = typeof r === 'number' ? (sameSize(outDims[r], x.dims[r]) ? r : undefined) : r;
  const y: RtValue = { ...ctx.newValue(outDims, x.dtype), onnx: x.onnx, layout: x.layout, rowAxis };
  const scratch = ctx.newValue([scratchBytes(spec.mode, physicalOut)], 'uint8');
  const reads = [x, ...lengths.reads, ...roi.reads, scratch];
  const extrapolation = ctx.float('extrapolation_value', 0);
  const common = {
    x: buf(x),
    y: buf(y),
    rank: i32(rank),
    table: lengths.table,
    roi: roi.roi,
    scratch: buf(scratch),
    coord: i32(spec.coord),
    nearest: i32(spec.nearest),
  };
  if (x.dtype === 'float32') {
    const cubicA = ctx.float('cubic_coeff_a', -0.75);
    const excludeOutside = i32(ctx.int('exclude_outside', 0) ? 1 : 0);
    ctx.program.addStep(
      'resize',
      () => ({
        ...common,
        mode: i32(spec.mode),
        cubicA: f32(cubicA),
        excludeOutside,
        extrapolation: f32(extrapolation),
      }),
      reads,
      [y, scratch],
    );
  } else {
    if (spec.mode !== CODES.RESIZE.NEAREST)
      throw new NodeProblem(
        `${ctx.string('mode', 'nearest')} Resize of ${x.onnx ?? x.dtype} tensors is not supported yet`,
      );
    const fill = data(ctx.program.addData(bytesOf(Tensor.scalar(x.onnx ?? x.dtype, extrapolation), x.dtype)));
    ctx.program.addStep('resize_nearest', () => ({ ...common, elemSize: i32(ELEMENT_BYTES[x.dtype]), fill }), reads, [
      y,
      scratch,
    ]);
  }
  ctx.output(0, y);
}

const resize: OpHandler = {
  inputs: (opset) => (opset < 11 ? 'X scales' : 'X roi? scales? sizes?'),
  lower: (ctx) => lowerResize(ctx, false),
};

const upsample: OpHandler = {
  inputs: (opset) => (opset < 9 ? 'X' : 'X scales'),
  lower(ctx) {
    if (ctx.opset < 7) throw new NodeProblem(`Upsample-${ctx.opset} (width_scale/height_scale) is not supported`);
    lowerResize(ctx, true);
  },
};

export const RESIZE_OPS: Record<string, OpHandler> = { Resize: resize, Upsample: upsample };
