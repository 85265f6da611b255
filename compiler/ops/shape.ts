import { meaning, type OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { rowsAfterRemoving } from '../lowering/rows.js';
import { NodeProblem } from '../errors.js';
import { Tensor, checkShape } from '../tensor.js';
import { axesOf } from './args.js';
import { buf, f32, i32, type RtValue, type Value } from '../program.js';
import { floorDiv, isConst, mul, product, sameSize, sizeToString, type Size } from '../shape/size.js';
import { shapeToString } from '../shape/shapes.js';
import { runtimeReshape, runtimeSizes, runtimeSqueeze, readEntry, dimName, sizesLength } from './run-shape.js';
import { runtimeInput } from './strided.js';

/**
 * Ops about shapes that move no data: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity,
 * Constant, ConstantOfShape (Range is in range.ts, Dropout in dropout.ts). At run time they alias their input's buffer. Shape subgraphs stay
 * symbolic at compile time (ShapeValue): `x.view(x.size(0), -1)` is a Reshape to [N, rest].
 */

/** The dims of any value: a run-time tensor's sizes, a constant's, a shape value's own. */
const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);

const shape: OpHandler = {
  inputs: 'data',
  fold: (ctx, [x]) => [Tensor.fromNumbers('int64', ...(shapeOf(ctx, x!.dims) as [number[], number[]]))],
  lower(ctx) {
    const [dims, values] = shapeOf(ctx, dimsOf(ctx.input(0)!));
    ctx.outputSizes(0, dims, values);
  },
};

/** Shape's output: the dims from `start` to `end` (opset 15). */
function shapeOf(ctx: NodeContext, dims: Size[]): [number[], Size[]] {
  const r = dims.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = ctx.opset >= 15 ? clamp(ctx.int('start', 0)) : 0;
  const end = ctx.opset >= 15 ? clamp(ctx.int('end', r)) : r;
  const values = dims.slice(start, Math.max(end, start));
  return [[values.length], values];
}

const size: OpHandler = {
  inputs: 'data',
  fold: (_ctx, [x]) => [Tensor.scalar('int64', x!.size)],
  lower(ctx) {
    ctx.outputSizes(0, [], [product(dimsOf(ctx.input(0)!))]);
  },
};

function unsqueezeDims(dims: Size[], axes: number[]): Size[] {
  const rank = dims.length + axes.length;
  const set = new Set(axes.map((a) => normalizeAxis(a, rank)));
  if (set.size !== axes.length) throw new NodeProblem(`axes [${axes}] repeat an axis`, 'invalid-graph');
  const out: Size[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : dims[j++]);
  return out;
}

/** Whether input i is given and computed at run time (a shape operand only the data tells). */
const atRunTime = (ctx: NodeContext, i: number): boolean => ctx.input(i)?.kind === 'rt';

const unsqueeze: OpHandler = {
  inputs: (opset) => (opset >= 13 ? 'data axes' : 'data'),
  fold(ctx, [x]) {
    return [x!.reshape(unsqueezeDims(x!.dims, axesOf(ctx, 1, 13) ?? []) as number[])];
  },
  lower(ctx) {
    const v = ctx.input(0)!;
    if (ctx.opset >= 13 && atRunTime(ctx, 1)) return ctx.output(0, runtimeSqueeze(ctx, runtimeInput(ctx, 0), false));
    const given = axesOf(ctx, 1, 13) ?? [];
    const dims = unsqueezeDims(dimsOf(v), given);
    if (v.kind === 'shape') return ctx.outputSizes(0, dims as number[], v.values);
    const x = ctx.rtAny(0);
    const axes = given.map((a) => normalizeAxis(a, dims.length));
    // The rows keep their place among the original dims.
    const kept = dims.map((_, i) => i).filter((i) => !axes.includes(i));
    const rowAxis = typeof x.rowAxis === 'number' ? kept[x.rowAxis] : x.rowAxis;
    ctx.output(0, { ...ctx.alias(x, dims), rowAxis });
  },
};

function squeezeAxes(ctx: NodeContext, dims: Size[]): number[] {
  const given = axesOf(ctx, 1, 13)?.map((a) => normalizeAxis(a, dims.length));
  // Without axes every dimension of size 1 goes (a symbolic one is kept: it is not known to be 1).
  return given ?? dims.flatMap((d, i) => (d === 1 ? [i] : []));
}

const squeeze: OpHandler = {
  inputs: (opset) => (opset >= 13 ? 'data axes?' : 'data'),
  fold(ctx, [x]) {
    const axes = squeezeAxes(ctx, x!.dims);
    for (const a of axes)
      if (x!.dims[a] !== 1) throw new NodeProblem(`cannot squeeze axis ${a} of size ${x!.dims[a]}`, 'invalid-graph');
    return [x!.reshape(x!.dims.filter((_, i) => !axes.includes(i)))];
  },
  lower(ctx) {
    const v = ctx.input(0)!;
    if (ctx.opset >= 13 && atRunTime(ctx, 1)) return ctx.output(0, runtimeSqueeze(ctx, runtimeInput(ctx, 0), true));
    const dims = dimsOf(v);
    const axes = squeezeAxes(ctx, dims);
    for (const a of axes) {
      if (isConst(dims[a]) && dims[a] !== 1)
        throw new NodeProblem(`cannot squeeze axis ${a} of size ${dims[a]}`, 'invalid-graph');
      if (!isConst(dims[a]))
        ctx.require(dims[a], 1, `axis ${a} (${sizeToString(dims[a])}) is squeezed, so it must be 1`);
    }
    const out = dims.filter((_, i) => !axes.includes(i));
    if (v.kind === 'shape') return ctx.outputSizes(0, out as number[], v.values);
    const x = ctx.rtAny(0);
    ctx.output(0, { ...ctx.alias(x, out), rowAxis: rowsAfterRemoving(x.rowAxis, axes) });
  },
};

/** Identity for every kind of value (shape values stay symbolic, constants fold). */
const identity: OpHandler = {
  inputs: 'input',
  fold: (_ctx, [x]) => [x!],
  lower(ctx) {
    const v = ctx.input(0)!;
    ctx.output(0, v.kind === 'rt' ? ctx.rtLayout(0) : v);
  },
};

function flattenAxis(ctx: NodeContext, rank: number): number {
  const axis = ctx.int('axis', 1);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank) throw new NodeProblem(`axis ${axis} is out of range for rank ${rank}`, 'invalid-graph');
  return a;
}

const flatten: OpHandler = {
  inputs: 'input',
  fold(ctx, [x]) {
    const a = flattenAxis(ctx, x!.dims.length);
    return [x!.reshape([x!.dims.slice(0, a), x!.dims.slice(a)].map((d) => d.reduce((p, q) => p * q, 1)))];
  },
  lower(ctx) {
    const x = ctx.rtAny(0);
    const a = flattenAxis(ctx, x.dims.length);
    const dims = [product(x.dims.slice(0, a)), product(x.dims.slice(a))];
    // Rows on axis 0 stay there when the flattening starts after them.
    const rowAxis = x.rowAxis === 'none' ? 'none' : x.rowAxis === 0 && a >= 1 ? 0 : undefined;
    ctx.output(0, { ...ctx.alias(x, dims), rowAxis });
  },
};

/**
 * Reshape's target resolved against the input: 0 copies the input's dim (unless allowzero), −1 takes what is
 * left. A target whose element count differs from the input's is refused when both are known, and checked
 * at run time otherwise.
 */
function reshapeDims(ctx: NodeContext, inDims: Size[], target: Size[], rowsPerRow: Size | undefined): Size[] {
  const allowZero = ctx.int('allowzero', 0) !== 0;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? inDims[i] : i === 0 && rowsPerRow ? rowsPerRow : d));
  if (dims.some((d) => d === undefined || (isConst(d) && d < -1)))
    throw new NodeProblem(
      `shape ${shapeToString(target)} does not fit input ${shapeToString(inDims)}`,
      'invalid-graph',
    );
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) throw new NodeProblem(`shape ${shapeToString(target)} has more than one -1`, 'invalid-graph');
  const total = product(inDims);
  if (unknown) {
    const known = product(dims.filter((d) => d !== -1));
    if (known === 0) return dims.map((d) => (d === -1 ? 0 : d));
    const rest = floorDiv(total, known);
    return dims.map((d) => (d === -1 ? rest : d));
  }
  const count = product(dims);
  if (isConst(count) && isConst(total) && count !== total)
    throw new NodeProblem(
      `shape ${shapeToString(target)} does not fit input ${shapeToString(inDims)}`,
      'invalid-graph',
    );
  if (!sameSize(count, total))
    ctx.require(
      count,
      total,
      `the target shape ${shapeToString(dims)} must have as many elements as the input ${shapeToString(inDims)}`,
    );
  return dims;
}

/**
 * Where the rows are after a reshape: on the first output axis whose size is a whole multiple of the
 * input's row axis, with the same number of elements before both (so each input row maps to whole
 * output rows); undefined when none is.
 */
function reshapeRows(x: RtValue, out: Size[]): number | 'none' | undefined {
  const r = x.rowAxis;
  if (r === undefined || r === 'none') return r;
  const before = product(x.dims.slice(0, r));
  for (let j = 0; j < out.length; j++) {
    if (!sameSize(product(out.slice(0, j)), before)) continue;
    const k = floorDiv(out[j], x.dims[r]);
    if (isConst(k) && k >= 1 && sameSize(mul(k, x.dims[r]), out[j])) return j;
  }
  return undefined;
}

function reshapeTarget(ctx: NodeContext): Size[] {
  if (ctx.opset < 5) return ctx.ints('shape') ?? [];
  return ctx.sizes(1, 'shape');
}

const reshape: OpHandler = {
  inputs: (opset) => (opset >= 5 ? 'data shape' : 'data'),
  fold: (ctx, [x]) => [x!.reshape(reshapeDims(ctx, x!.dims, reshapeTarget(ctx), undefined) as number[])],
  lower(ctx) {
    const v = ctx.input(0)!;
    if (ctx.opset >= 5 && atRunTime(ctx, 1)) return ctx.output(0, runtimeReshape(ctx, runtimeInput(ctx, 0)));
    const target = reshapeTarget(ctx);
    if (v.kind === 'shape')
      return ctx.outputSizes(0, reshapeDims(ctx, v.dims, target, undefined) as number[], v.values);
    const x = ctx.rtAny(0);
    // A literal size on axis 0 written for the declared batch of 1 means that many entries per row.
    const literal = target[0];
    const perRow =
      ctx.rowsFromOne && x.rowAxis === 0 && isConst(literal) && literal > 0 ? mul(literal, x.dims[0]) : undefined;
    const dims = reshapeDims(ctx, x.dims, target, perRow);
    ctx.output(0, { ...ctx.alias(x, dims), rowAxis: reshapeRows(x, dims) });
  },
};

const constant: OpHandler = {
  inputs: '',
  fold(ctx) {
    const value = ctx.attr('value');
    if (value instanceof Tensor) return [value];
    const f = ctx.attr('value_float');
    if (typeof f === 'number') return [Tensor.scalar('float32', f)];
    const fs = ctx.attr('value_floats');
    if (Array.isArray(fs)) return [Tensor.fromNumbers('float32', [fs.length], fs as number[])];
    const i = ctx.attr('value_int');
    if (typeof i === 'number') return [Tensor.scalar('int64', i)];
    const is = ctx.attr('value_ints');
    if (Array.isArray(is)) return [Tensor.fromNumbers('int64', [is.length], is as number[])];
    throw new NodeProblem('only tensor, float(s) and int(s) values are supported');
  },
  lower() {
    throw new NodeProblem('Constant has no inputs and always folds'); // unreachable
  },
};

/**
 * A constant of a shape known at compile time folds. One whose shape is symbolic (from Shape of a
 * run-time value: skl2onnx's PolynomialFeatures makes its bias column this way) or given at run time (its
 * dims read per call, run-shape.ts) is filled at run time.
 */
const constantOfShape: OpHandler = {
  inputs: 'input',
  lower(ctx) {
    const value = ctx.attr('value');
    const t = value instanceof Tensor ? value : Tensor.scalar('float32', 0);
    const dims = atRunTime(ctx, 0) ? runtimeShape(ctx) : ctx.sizes(0, 'shape');
    if (dims.every(isConst)) {
      return ctx.output(0, {
        kind: 'const',
        tensor: Tensor.fromNumbers(
          t.dtype,
          dims,
          new Float64Array(checkShape(dims, 'the constant')).fill(t.numbers[0]),
        ),
      });
    }
    // Filled with one value: every row the same, so a symbolic leading size (the batch, if it is one) keeps
    // rows apart; a wrong guess only stops the batch from running in chunks (lowering/lower.ts keepsRows).
    const rowAxis = isConst(dims[0]) || atRunTime(ctx, 0) ? ('none' as const) : 0;
    ctx.output(0, { ...filled(ctx, dims, t), rowAxis });
  },
};

/** ConstantOfShape's dims from a shape given at run time (each read per call, default bound). */
function runtimeShape(ctx: NodeContext): Size[] {
  const n = sizesLength(ctx, 0, 'shape');
  const table = runtimeSizes(ctx, 0, 'shape', 'a dimension of the constant');
  return Array.from({ length: n }, (_, k) => readEntry(ctx, table, k, dimName(ctx, k), Infinity));
}

/** A run-time value of `dims` holding t's one value (float, int32, int64 within i32, bool, uint8). */
function filled(ctx: NodeContext, dims: Size[], t: Tensor): RtValue {
  const v = t.numbers[0];
  const n = product(dims);
  if (t.isFloat) {
    if (t.dtype !== 'float32') throw new NodeProblem(`a ${t.dtype} constant of a run-time shape is not supported`);
    const y = ctx.newValue(dims);
    ctx.program.addStep('fill', () => ({ y: buf(y), n: i32(n), v: f32(v) }), [], [y]);
    return y;
  }
  if (t.dtype === 'bool' || t.dtype === 'uint8') {
    const y: RtValue = { ...ctx.newValue(dims, 'uint8'), onnx: t.dtype };
    ctx.program.addStep('fill_u8', () => ({ y: buf(y), n: i32(n), v: i32(v) }), [], [y]);
    return y;
  }
  const kind = t.dtype === 'int32' ? CODES.ELEM.I32 : t.dtype === 'int64' ? CODES.ELEM.I64 : undefined;
  if (kind === undefined || !(Math.abs(v) < 2 ** 31))
    throw new NodeProblem(`a ${t.dtype} constant ${v} of a run-time shape is not supported`);
  const y = ctx.newValue(dims, t.dtype as 'int32' | 'int64');
  ctx.program.addStep('iota', () => ({ y: buf(y), n: i32(n), start: i32(v), delta: i32(0), kind: i32(kind) }), [], [y]);
  return y;
}

export const SHAPE_OPS: Record<string, OpHandler> = {
  Shape: shape,
  Size: size,
  Reshape: meaning(reshape, { passes: 'values' }),
  Flatten: meaning(flatten, { passes: 'values' }),
  Squeeze: meaning(squeeze, { passes: 'values' }),
  Unsqueeze: meaning(unsqueeze, { passes: 'values' }),
  Identity: meaning(identity, { passes: 'values' }),
  Constant: constant,
  ConstantOfShape: constantOfShape,
};
