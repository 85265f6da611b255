import { NodeProblem } from '../errors.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { buf, i32, type RtValue } from '../program.js';
import { stridesOf } from '../shape/shapes.js';
import { add, isConst, mul, type Size } from '../shape/size.js';
import { dimName, newTable, readEntry, runtimeSizes, shapeOperand, where, type ShapeOperand } from './run-shape.js';

/**
 * Slice, Split and Pad with their index operands given at run time (see run-shape.ts). Slice: the kernel
 * slice_ranges applies ONNX's rules (negative starts and ends from the end, clamping to [0, dim] or
 * [−1, dim − 1] by the step's sign, INT64_MAX as "to the end", negative steps) and writes each sliced
 * axis's start, length and step, read into computed sizes: the copy is then the strided copy a constant
 * slice makes, its offset and strides computed per call. Split: the sizes read per call, checked to add
 * up to the axis. Pad: the pads read per call (cropping is refused).
 */

export interface RuntimeSlice {
  outDims: Size[];
  strides: Size[];
  offset: Size;
}

/** Whether any of Slice's index operands is computed at run time. */
export const sliceAtRunTime = (ctx: NodeContext): boolean =>
  ctx.opset >= 10 && [1, 2, 3, 4].some((i) => ctx.input(i)?.kind === 'rt');

export function runtimeSlice(ctx: NodeContext, x: RtValue): RuntimeSlice {
  const rank = x.dims.length;
  const [starts, ends] = [shapeOperand(ctx, 1, 'starts'), shapeOperand(ctx, 2, 'ends')];
  const axes = ctx.input(3) ? shapeOperand(ctx, 3, 'axes') : undefined;
  const steps = ctx.input(4) ? shapeOperand(ctx, 4, 'steps') : undefined;
  const n = starts.n;
  const lengths = [n, ends.n, axes?.n ?? n, steps?.n ?? n];
  if (lengths.some((k) => k !== n))
    throw new NodeProblem(
      `starts, ends, axes and steps must have one entry per sliced axis (they have ${lengths.join(', ')})`,
      'invalid-graph',
    );
  if (!axes && n > rank) throw new NodeProblem(`${n} starts for a tensor of rank ${rank}`, 'invalid-graph');
  // The axes that may change: those named by known axes, or every axis when the axes come at run time.
  const known = ctx.input(3)?.kind === 'rt' ? undefined : ctx.input(3) ? ctx.sizes(3, 'axes') : undefined;
  if (known && !known.every(isConst)) throw new NodeProblem('slice axes must be constants or given at run time');
  const sliced = ctx.input(3)
    ? known
      ? (known as number[]).map((a) => normalizeAxis(a, rank))
      : x.dims.map((_, a) => a)
    : Array.from({ length: n }, (_, a) => a);
  const table = newTable(ctx, 3 * rank);
  const bytes = (op: ShapeOperand | undefined) => i32(op ? op.bytes : 0);
  const inLens = ctx.program.addTable(x.dims); // added while lowering: the data segment is final at emit
  const step = ctx.program.addStep(
    'slice_ranges',
    () => ({
      starts: starts.ptr,
      startsBytes: bytes(starts),
      ends: ends.ptr,
      endsBytes: bytes(ends),
      axes: axes?.ptr ?? starts.ptr,
      axesBytes: bytes(axes),
      steps: steps?.ptr ?? starts.ptr,
      stepsBytes: bytes(steps),
      n: i32(n),
      inLens,
      rank: i32(rank),
      out: buf(table),
    }),
    [starts, ends, axes, steps].flatMap((op) => op?.reads ?? []),
    [table],
  );
  step.valueCheck = {
    message: `${where(ctx)}: entry {index} of the axes or steps cannot be used: an axis outside [${-rank}, ${rank - 1}], an axis named twice, or a step of 0`,
  };
  const inStrides = stridesOf(x.dims);
  const outDims = [...x.dims];
  const strides = [...inStrides];
  let offset: Size = 0;
  const y = ctx.node.outputs[0] || ctx.node.name;
  for (const a of sliced) {
    const d = ctx.symbols.upper(x.dims[a]);
    const start = readEntry(ctx, table, 3 * a, `${y}:start[${a}]`, Math.max(d - 1, 0));
    outDims[a] = readEntry(ctx, table, 3 * a + 1, dimName(ctx, a), d);
    const most = Math.max(d, 1);
    strides[a] = mul(inStrides[a], readEntry(ctx, table, 3 * a + 2, `${y}:step[${a}]`, most, -most));
    offset = add(offset, mul(start, inStrides[a]));
  }
  return { outDims, strides, offset };
}

/** Split's sizes given at run time (`count` of them, one per output), checked to add up to the axis `d`. */
export function runtimeSplitSizes(ctx: NodeContext, d: Size, count: number, axis: number): Size[] {
  const n = shapeOperand(ctx, 1, 'split').n;
  if (n !== count) throw new NodeProblem(`${n} split sizes for ${count} outputs`, 'invalid-graph');
  const table = runtimeSizes(ctx, 1, 'split', 'a part cannot have fewer than 0 entries');
  const sum = ctx.program.addStep(
    'dims_count',
    () => ({ dims: buf(table), n: i32(n), total: i32(d), sum: i32(1) }),
    [table],
    [],
  );
  sum.valueCheck = {
    message: `${where(ctx)}: the sizes in "${ctx.node.inputs[1]}" add up to {index}, but the axis has {lo}`,
    lo: d,
  };
  const bound = ctx.symbols.upper(d);
  return Array.from({ length: n }, (_, i) => readEntry(ctx, table, i, dimName(ctx, axis, i), bound));
}

/** Pad's pads given at run time: 2·axes entries (begins, then ends), none negative, each read per call. */
export function runtimePads(ctx: NodeContext, nAxes: number): Size[] {
  const n = shapeOperand(ctx, 1, 'pads').n;
  if (n !== 2 * nAxes) throw new NodeProblem(`${n} pads for ${nAxes} axes`, 'invalid-graph');
  const table = runtimeSizes(ctx, 1, 'pads', 'negative pads, which crop, are not supported');
  const y = ctx.node.outputs[0] || ctx.node.name;
  return Array.from({ length: n }, (_, i) => readEntry(ctx, table, i, `${y}:pads[${i}]`, Infinity));
}
