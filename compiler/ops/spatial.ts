import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, f32, i32, mapValues, sizeOf, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { add, isConst, mul, product, sub, type Size } from '../shape/size.js';
import type { OpHandler } from './op.js';
import { runtimeInput } from './strided.js';

/**
 * Sampling image tensors at computed places: GridSample (4-D), RoiAlign and MaxUnpool, each one kernel
 * call (assembly/grid_sample.ts, roi_align.ts, unpool.ts) over plain NCHW memory.
 */

function choice(ctx: NodeContext, name: string, fallback: string, table: Record<string, number>): number {
  const v = ctx.string(name, fallback);
  const code = table[v];
  if (code === undefined)
    throw new NodeProblem(`${name} "${v}" is not one of ${Object.keys(table).join(', ')}`, 'invalid-graph');
  return code;
}

/** A run-time input of an ONNX element type (constants copied in). */
function typedInput(ctx: NodeContext, i: number, what: string, type: 'float32' | 'int64'): RtValue {
  const v = runtimeInput(ctx, i);
  if ((v.onnx ?? v.dtype) !== type)
    throw new NodeProblem(`${what} (input ${i}) holds ${v.onnx ?? v.dtype}; it must be ${type}`, 'invalid-graph');
  return v;
}

/**
 * Every entry of index data `v` (input i, int64) must be in [0, hi): checked now when the data and hi are
 * known, else by a check before the op's kernel (first_index_outside; a bad-input error naming the entry).
 */
function requireIndices(ctx: NodeContext, i: number, v: RtValue, hi: Size, what: string): void {
  const known = ctx.input(i);
  if (known?.kind === 'const' && isConst(hi)) {
    const values = known.tensor.numbers;
    const at = values.findIndex((n) => !(n >= 0 && n < hi));
    if (at >= 0) throw new NodeProblem(`${what} (entry ${at} is ${values[at]}, outside 0..${hi - 1})`, 'invalid-graph');
    return;
  }
  const step = ctx.program.addStep(
    'first_index_outside',
    () => ({ x: buf(v), n: i32(sizeOf(v)), lo: i32(0), hi: i32(hi) }),
    [v],
    [],
  );
  step.valueCheck = {
    lo: 0,
    hi,
    message: `${ctx.node.opType} "${ctx.node.name}": ${what} (entry {index} is outside [{lo}, {hi}))`,
  };
}

/** A dimension that must be `want`: checked now when known, else before the call. */
function requireDim(ctx: NodeContext, got: Size, want: Size, message: string): void {
  if (isConst(got) && isConst(want)) {
    if (got !== want) throw new NodeProblem(`${message} (it is ${got}, not ${want})`, 'invalid-graph');
  } else ctx.require(got, want, message);
}

function requireRank(v: RtValue, rank: number, what: string): void {
  if (v.dims.length !== rank)
    throw new NodeProblem(`${what} has shape ${shapeToString(v.dims)}; it must have rank ${rank}`, 'invalid-graph');
}

const GRID_MODES: Record<string, number> = {
  bilinear: CODES.GRID.BILINEAR,
  linear: CODES.GRID.BILINEAR, // opset 20's name
  nearest: CODES.GRID.NEAREST,
  bicubic: CODES.GRID.BICUBIC,
  cubic: CODES.GRID.BICUBIC,
};
const GRID_PADDING: Record<string, number> = {
  zeros: CODES.GRID_PAD.ZEROS,
  border: CODES.GRID_PAD.BORDER,
  reflection: CODES.GRID_PAD.REFLECTION,
};

const gridSample: OpHandler = {
  inputs: 'X grid',
  lower(ctx) {
    const x = typedInput(ctx, 0, 'X', 'float32');
    const grid = typedInput(ctx, 1, 'grid', 'float32');
    if (x.dims.length !== 4) throw new NodeProblem(`GridSample of rank-${x.dims.length} inputs is not supported yet`);
    requireRank(grid, 4, 'grid');
    const [N, C, H, W] = x.dims;
    const [, OH, OW] = grid.dims;
    requireDim(ctx, grid.dims[0], N, 'grid must have as many images as X');
    requireDim(ctx, grid.dims[3], 2, 'grid must end in 2 (x, y)');
    const mode = choice(ctx, 'mode', ctx.opset >= 20 ? 'linear' : 'bilinear', GRID_MODES);
    const padding = choice(ctx, 'padding_mode', 'zeros', GRID_PADDING);
    const alignCorners = ctx.int('align_corners', 0) ? 1 : 0;
    const rowAxis = x.rowAxis === 0 && grid.rowAxis === 0 ? 0 : undefined;
    const y = { ...ctx.newValue([N, C, OH, OW]), rowAxis };
    ctx.program.addStep(
      'grid_sample',
      () => ({
        x: buf(x),
        grid: buf(grid),
        y: buf(y),
        ...mapValues({ N, C, H, W, OH, OW }, i32),
        mode: i32(mode),
        padding: i32(padding),
        alignCorners: i32(alignCorners),
      }),
      [x, grid],
      [y],
    );
    ctx.output(0, y);
  },
};

const roiAlign: OpHandler = {
  inputs: 'X rois batch_indices',
  lower(ctx) {
    const x = typedInput(ctx, 0, 'X', 'float32');
    const rois = typedInput(ctx, 1, 'rois', 'float32');
    const indices = typedInput(ctx, 2, 'batch_indices', 'int64');
    requireRank(x, 4, 'X');
    requireRank(rois, 2, 'rois');
    requireRank(indices, 1, 'batch_indices');
    const [N, C, H, W] = x.dims;
    const R = rois.dims[0];
    requireDim(ctx, rois.dims[1], 4, 'rois must be [num_rois, 4] (x1, y1, x2, y2)');
    requireDim(ctx, indices.dims[0], R, 'batch_indices must have one index per roi');
    const OH = ctx.int('output_height', 1);
    const OW = ctx.int('output_width', 1);
    const samplingRatio = ctx.int('sampling_ratio', 0);
    if (OH < 1 || OW < 1 || samplingRatio < 0)
      throw new NodeProblem(
        `output_height ${OH}, output_width ${OW} must be at least 1 and sampling_ratio ${samplingRatio} at least 0`,
        'invalid-graph',
      );
    const maxMode = choice(ctx, 'mode', 'avg', { avg: 0, max: 1 });
    // Opset 10 has no attribute: it behaves as output_half_pixel; opset 16 defaults to half_pixel.
    const halfPixel =
      ctx.opset >= 16
        ? choice(ctx, 'coordinate_transformation_mode', 'half_pixel', { half_pixel: 1, output_half_pixel: 0 })
        : 0;
    const spatialScale = ctx.float('spatial_scale', 1);
    requireIndices(ctx, 2, indices, N, 'every batch_indices entry must name an image of X');
    const y = ctx.newValue([R, C, OH, OW]);
    ctx.program.addStep(
      'roi_align',
      () => ({
        x: buf(x),
        rois: buf(rois),
        batchIndices: buf(indices),
        y: buf(y),
        ...mapValues({ N, C, H, W, R, OH, OW }, i32),
        samplingRatio: i32(samplingRatio),
        spatialScale: f32(spatialScale),
        halfPixel: i32(halfPixel),
        maxMode: i32(maxMode),
      }),
      [x, rois, indices],
      [y],
    );
    ctx.output(0, y);
  },
};

const maxUnpool: OpHandler = {
  inputs: (opset) => (opset >= 11 ? 'X I output_shape?' : 'X I'),
  lower(ctx) {
    const x = typedInput(ctx, 0, 'X', 'float32');
    const indices = typedInput(ctx, 1, 'I', 'int64');
    const rank = x.dims.length;
    if (rank < 3) throw new NodeProblem(`X has rank ${rank}; MaxUnpool needs [N, C, spatial…]`, 'invalid-graph');
    requireRank(indices, rank, 'I');
    x.dims.forEach((d, a) => requireDim(ctx, indices.dims[a], d, 'I must have the shape of X'));
    const spatial = rank - 2;
    const kernel = ctx.ints('kernel_shape');
    if (!kernel || kernel.length !== spatial)
      throw new NodeProblem(`kernel_shape must give ${spatial} sizes, one per spatial axis`, 'invalid-graph');
    const strides = ctx.ints('strides') ?? kernel.map(() => 1);
    const pads = ctx.ints('pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
    if (strides.length !== spatial || pads.length !== 2 * spatial)
      throw new NodeProblem(`strides must give ${spatial} sizes and pads ${2 * spatial}`, 'invalid-graph');
    // ONNX's unpooled shape: (in − 1)·stride − pads + kernel per spatial axis.
    const inferred: Size[] = [
      x.dims[0],
      x.dims[1],
      ...kernel.map((k, i) => add(sub(mul(sub(x.dims[i + 2], 1), strides[i]), pads[i] + pads[i + spatial]), k)),
    ];
    inferred.forEach((d, a) => {
      if (isConst(d) && d < 1)
        throw new NodeProblem(
          `the unpooled dimension ${a} would be ${d}; check kernel_shape, strides, pads`,
          'invalid-graph',
        );
    });
    const given = ctx.optionalSizes(2, 'output_shape');
    if (given && given.length !== rank)
      throw new NodeProblem(`output_shape has ${given.length} values; X has rank ${rank}`, 'invalid-graph');
    const outDims = given ?? inferred;
    requireIndices(
      ctx,
      1,
      indices,
      product(inferred),
      `every entry of I must index the unpooled ${shapeToString(inferred)}`,
    );
    const y = ctx.newValue(outDims);
    const table = ctx.program.addTable([rank, ...inferred, ...outDims]);
    ctx.program.addStep(
      'max_unpool',
      () => ({ x: buf(x), indices: buf(indices), y: buf(y), n: i32(sizeOf(x)), table }),
      [x, indices],
      [y],
    );
    ctx.output(0, y);
  },
};

export const SPATIAL_OPS: Record<string, OpHandler> = {
  GridSample: gridSample,
  RoiAlign: roiAlign,
  MaxUnpool: maxUnpool,
};
