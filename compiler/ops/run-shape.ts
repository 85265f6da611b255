import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, i32, slot, type KernelStep, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product, type Size } from '../shape/size.js';
import { operand, type Operand } from './operands.js';

/**
 * Shape operands given at run time (a graph input, or data the graph computed) for the ops whose output
 * sizes they give: Reshape's shape, Squeeze's and Unsqueeze's axes, Expand's shape, ConstantOfShape's
 * input (Slice, Split and Pad are in run-slice.ts). As for every size only the data tells (docs/shapes.md):
 * a kernel (assembly/shape_values.ts) checks the values as ONNX defines them — one it cannot use is
 * bad-input, naming the node, the input and the entry — and writes the output's dims into a small table;
 * each dim is read into a computed size named after it (`y[1]`), bounded by what the op can give (the
 * input's dims) or by the default bound, and checked against it before anything reads past. The rank
 * comes from the operand's length, known at compile time. Constant operands fold as before.
 */

/** Input i as a run-time integer vector whose length is known at compile time. */
export interface ShapeOperand extends Operand {
  n: number;
  bytes: number;
}

export function shapeOperand(ctx: NodeContext, i: number, what: string): ShapeOperand {
  const op = operand(ctx, i, what);
  if (op.dtype !== 'int64' && op.dtype !== 'int32')
    throw new NodeProblem(`${what} (input ${i}) holds ${op.onnx}; it must be int64`, 'invalid-graph');
  const n = op.dims.length === 0 ? 1 : op.dims.length === 1 ? op.dims[0] : undefined;
  if (n === undefined || !isConst(n))
    throw new NodeProblem(
      `${what} (input ${i}, "${ctx.node.inputs[i]}") has shape ${shapeToString(op.dims)}; a run-time ${what} needs a length known at compile time (the output's rank)`,
    );
  return { ...op, n, bytes: op.dtype === 'int64' ? 8 : 4 };
}

/** An i32 table of n entries the op's check kernel writes. */
export const newTable = (ctx: NodeContext, n: number): RtValue => ctx.newValue([Math.max(n, 1)], 'int32');

/** A check step's message begins with the node: `Reshape "r": …`. */
export const where = (ctx: NodeContext): string => `${ctx.node.opType} "${ctx.node.name}"`;

/** Entry k of an i32 table read into a new computed size `name`, within [min, max]. */
export function readEntry(ctx: NodeContext, table: RtValue, k: number, name: string, max: number, min = 0): Size {
  const s = ctx.symbols.computed(name, max, false, min);
  ctx.program.addStep('read_size', () => ({ x: buf(table, 4 * k), elemBytes: i32(4), size: slot(s) }), [table], []);
  return s;
}

/** The name of output 0's dimension `axis`, as input dimensions are named: `y[2]`. */
export const dimName = (ctx: NodeContext, axis: number, out = 0): string =>
  `${ctx.node.outputs[out] || ctx.node.name || ctx.node.opType}[${axis}]`;

/** A step whose i32 result is a value check (Step.valueCheck) with `message`. */
function checked(step: KernelStep, message: string, lo?: Size): KernelStep {
  step.valueCheck = lo === undefined ? { message } : { message, lo };
  return step;
}

/** Reshape of x to a shape given at run time: the same bytes (an alias), dims computed per call. */
export function runtimeReshape(ctx: NodeContext, x: RtValue): RtValue {
  const s = shapeOperand(ctx, 1, 'shape');
  const allowZero = ctx.int('allowzero', 0) !== 0;
  const table = newTable(ctx, s.n);
  const inLens = ctx.program.addTable(x.dims);
  const rank = x.dims.length;
  const step = ctx.program.addStep(
    'reshape_dims',
    () => ({
      shape: s.ptr,
      shapeBytes: i32(s.bytes),
      n: i32(s.n),
      inLens,
      inRank: i32(rank),
      allowZero: i32(allowZero ? 1 : 0),
      out: buf(table),
    }),
    s.reads,
    [table],
  );
  const name = `"${ctx.node.inputs[1]}"`;
  checked(
    step,
    `${where(ctx)}: entry {index} of the shape ${name} cannot be a dimension: it is below -1, a second -1, ${allowZero ? 'or a -1 beside a 0 (allowzero is 1: a 0 is a dimension of 0)' : `or a 0 past the input's rank ${rank} (a 0 copies the input's dimension)`}`,
  );
  const total = product(x.dims);
  const count = ctx.program.addStep(
    'dims_count',
    () => ({ dims: buf(table), n: i32(s.n), total: i32(total), sum: i32(0) }),
    [table],
    [],
  );
  checked(
    count,
    `${where(ctx)}: the shape ${name} holds {index} elements, but the input (${shapeToString(x.dims)}) has {lo}; a reshape keeps every element`,
    total,
  );
  const bound = ctx.symbols.upper(total);
  const dims = Array.from({ length: s.n }, (_, k) => readEntry(ctx, table, k, dimName(ctx, k), bound));
  return { ...ctx.alias(x, dims), rowAxis: x.rowAxis === 'none' ? 'none' : undefined };
}

/** Squeeze (squeeze) or Unsqueeze of x by axes given at run time: an alias with dims computed per call. */
export function runtimeSqueeze(ctx: NodeContext, x: RtValue, squeeze: boolean): RtValue {
  const a = shapeOperand(ctx, 1, 'axes');
  const rank = x.dims.length;
  const outRank = squeeze ? rank - a.n : rank + a.n;
  if (outRank < 0) throw new NodeProblem(`${a.n} axes to squeeze from a tensor of rank ${rank}`, 'invalid-graph');
  const table = newTable(ctx, outRank);
  const inLens = ctx.program.addTable(x.dims); // added while lowering: the data segment is final at emit
  const step = ctx.program.addStep(
    'axes_dims',
    () => ({
      axes: a.ptr,
      axesBytes: i32(a.bytes),
      nAxes: i32(a.n),
      inLens,
      inRank: i32(rank),
      squeeze: i32(squeeze ? 1 : 0),
      out: buf(table),
    }),
    a.reads,
    [table],
  );
  const range = squeeze ? `[${-rank}, ${rank - 1}]` : `[${-outRank}, ${outRank - 1}]`;
  checked(
    step,
    `${where(ctx)}: axis {index} of "${ctx.node.inputs[1]}" is outside ${range}, named twice${squeeze ? ', or names a dimension that is not 1' : ''} (the input's shape is ${shapeToString(x.dims)})`,
  );
  // Output dim j is one of the input's dims j − n … j (Unsqueeze: or 1) or j … j + n (Squeeze).
  const dims = Array.from({ length: outRank }, (_, j) => {
    const from = squeeze ? x.dims.slice(j, j + a.n + 1) : x.dims.slice(Math.max(0, j - a.n), j + 1);
    const bound = Math.max(squeeze ? 0 : 1, ...from.map((d) => ctx.symbols.upper(d)));
    return readEntry(ctx, table, j, dimName(ctx, j), bound);
  });
  return { ...ctx.alias(x, dims), rowAxis: x.rowAxis === 'none' ? 'none' : undefined };
}

/**
 * Expand's output dims for input dims `inDims` and a shape given at run time: where the input's dim is a
 * known size other than 1 the output keeps it (the shape may only say 1 or the same); the others are read
 * per call, bounded by the default bound.
 */
export function runtimeExpandDims(ctx: NodeContext, inDims: Size[]): Size[] {
  const s = shapeOperand(ctx, 1, 'shape');
  const rank = Math.max(s.n, inDims.length);
  const table = newTable(ctx, rank);
  const inLens = ctx.program.addTable(inDims);
  const step = ctx.program.addStep(
    'expand_dims',
    () => ({
      shape: s.ptr,
      shapeBytes: i32(s.bytes),
      n: i32(s.n),
      inLens,
      inRank: i32(inDims.length),
      out: buf(table),
    }),
    s.reads,
    [table],
  );
  checked(
    step,
    `${where(ctx)}: entry {index} of the shape "${ctx.node.inputs[1]}" is negative or does not broadcast with the input's shape ${shapeToString(inDims)} (each entry is 1, the input's dimension, or any size where the input's is 1)`,
  );
  return Array.from({ length: rank }, (_, i) => {
    const d = inDims[i - (rank - inDims.length)];
    if (d !== undefined && isConst(d) && d !== 1) return d;
    return readEntry(ctx, table, i, dimName(ctx, i), Infinity);
  });
}

/**
 * Sizes given at run time (ConstantOfShape's shape, Split's sizes, Pad's pads): n entries, none negative,
 * written as an i32 table (its check step and the table returned; the caller reads the entries it needs).
 */
export function runtimeSizes(ctx: NodeContext, i: number, what: string, because: string): RtValue {
  const s = shapeOperand(ctx, i, what);
  const table = newTable(ctx, s.n);
  const step = ctx.program.addStep(
    'sizes_of',
    () => ({ x: s.ptr, xBytes: i32(s.bytes), n: i32(s.n), out: buf(table) }),
    s.reads,
    [table],
  );
  checked(step, `${where(ctx)}: entry {index} of "${ctx.node.inputs[i]}" is negative (${because})`);
  return table;
}

/** The number of entries of a run-time sizes operand (see shapeOperand). */
export const sizesLength = (ctx: NodeContext, i: number, what: string): number => shapeOperand(ctx, i, what).n;
