import { meaning, type OpHandler } from './op.js';
import { BATCH, NodeContext, normalizeAxis } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, checkShape, product } from '../tensor.js';
import { axesOf } from './args.js';
import { batchAxisOf, buf, f32 } from '../program.js';
import { onAxis } from './movement.js';

/**
 * Ops about shapes that move no data: Shape, Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, Constant,
 * ConstantOfShape, Range. At run time they alias their input's buffer; shape subgraphs fold at compile time, with
 * the batch size as the BATCH sentinel.
 */

const shape: OpHandler = {
  inputs: 'data',
  fold: (ctx, [x]) => [shapeTensor(ctx, x!.dims)],
  lower(ctx) {
    const x = ctx.rtLayout(0, true);
    ctx.output(0, { kind: 'const', tensor: shapeTensor(ctx, x.dims, batchAxisOf(x)) });
  },
};

function shapeTensor(ctx: NodeContext, dims: number[], batchAxis = -1): Tensor {
  const full = dims.map((d, i) => (i === batchAxis ? BATCH * d : d));
  const r = full.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = ctx.opset >= 15 ? clamp(ctx.int('start', 0)) : 0;
  const end = ctx.opset >= 15 ? clamp(ctx.int('end', r)) : r;
  return Tensor.fromNumbers('int64', [Math.max(end - start, 0)], full.slice(start, end));
}

function unsqueezeDims(dims: number[], axes: number[]): number[] {
  const rank = dims.length + axes.length;
  const set = new Set(axes.map((a) => normalizeAxis(a, rank)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : dims[j++]);
  return out;
}

const unsqueeze: OpHandler = {
  inputs: (opset) => (opset >= 13 ? 'data axes!' : 'data'),
  fold(ctx, [x]) {
    return [x!.reshape(unsqueezeDims(x!.dims, axesOf(ctx, 1, 13) ?? []))];
  },
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const axes = (axesOf(ctx, 1, 13) ?? []).map((a) =>
      normalizeAxis(a, x.dims.length + (axesOf(ctx, 1, 13) ?? []).length),
    );
    const y = ctx.alias(x, unsqueezeDims(x.dims, axes));
    const ba = batchAxisOf(x);
    if (ba < 0) return ctx.output(0, y);
    // The batch dim keeps its place among the original dims.
    const kept = y.dims.map((_, i) => i).filter((i) => !axes.includes(i));
    ctx.output(0, onAxis(y, ctx.movedBatch(kept[ba], 'inserting an axis before the batch')));
  },
};

function squeezeDims(dims: number[], axes: number[] | undefined, keepFirst: boolean): number[] {
  const set = axes ? new Set(axes.map((a) => normalizeAxis(a, dims.length))) : null;
  for (const a of set ?? [])
    if (dims[a] !== 1) throw new NodeProblem(`cannot squeeze axis ${a} of size ${dims[a]}`, 'invalid-graph');
  return dims.filter((d, i) => (keepFirst && i === 0) || !(set ? set.has(i) : d === 1));
}

const squeeze: OpHandler = {
  inputs: (opset) => (opset >= 13 ? 'data axes?!' : 'data'),
  fold: (ctx, [x]) => [x!.reshape(squeezeDims(x!.dims, axesOf(ctx, 1, 13), false))],
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const ba = batchAxisOf(x);
    const given = axesOf(ctx, 1, 13)?.map((a) => normalizeAxis(a, x.dims.length));
    if (given?.includes(ba)) throw new NodeProblem('squeezing the batch axis', 'batch');
    // Without axes every size-1 dim goes, except the batch's.
    const axes = given ?? x.dims.flatMap((d, i) => (d === 1 && i !== ba ? [i] : []));
    const y = ctx.alias(x, squeezeDims(x.dims, axes, false));
    ctx.output(0, ba < 0 ? y : onAxis(y, ba - axes.filter((a) => a < ba).length));
  },
};

// ---- concat / split / slice / gather ---------------------------------------------------------------

/**
 * A constant of a known shape folds. One whose first dimension is the batch (k·N, from Shape of a
 * batched value: skl2onnx's PolynomialFeatures makes its bias column this way) becomes a batched
 * run-time value, filled each run.
 */
const constantOfShape: OpHandler = {
  inputs: 'input!',
  lower(ctx) {
    const dims = Array.from(ctx.constant(0, 'shape').numbers);
    const value = ctx.attr('value');
    const t = value instanceof Tensor ? value : Tensor.scalar('float32', 0);
    if (!dims.some((d) => d >= BATCH)) {
      return ctx.output(0, {
        kind: 'const',
        tensor: Tensor.fromNumbers(
          t.dtype,
          dims,
          new Float64Array(checkShape(dims, 'the constant')).fill(t.numbers[0]),
        ),
      });
    }
    const perRow = dims[0] / BATCH;
    if (!Number.isInteger(perRow) || dims.slice(1).some((d) => d >= BATCH))
      throw new NodeProblem('a constant the size of the batch', 'batch');
    if (!t.isFloat) throw new NodeProblem('an integer constant the size of the batch is not supported');
    const y = ctx.newValue([perRow, ...dims.slice(1)], true);
    ctx.program.addStep(
      'fill',
      () => ({ y: buf(y), n: { t: 'rows', times: product(y.dims) }, v: f32(t.numbers[0]) }),
      [],
      [y],
    );
    ctx.output(0, y);
  },
};

const range: OpHandler = {
  inputs: 'start limit delta',
  fold(_ctx, [start, limit, delta]) {
    const [s, l, d] = [start!.numbers[0], limit!.numbers[0], delta!.numbers[0]];
    if ([s, l, d].some((v) => Math.abs(v) >= BATCH)) throw new NodeProblem('a range as long as the batch', 'batch');
    const n = Math.max(Math.ceil((l - s) / d), 0);
    if (!Number.isFinite(n))
      throw new NodeProblem(`a range from ${s} to ${l} in steps of ${d} never ends`, 'invalid-graph');
    checkShape([n], 'the range');
    return [
      Tensor.fromNumbers(
        start!.dtype,
        [n],
        Array.from({ length: n }, (_, i) => s + i * d),
      ),
    ];
  },
  lower() {
    throw new NodeProblem('start, limit and delta must be known at compile time');
  },
};

const identity: OpHandler = {
  inputs: 'input',
  fold: (_ctx, [x]) => [x!],
  lower(ctx) {
    ctx.output(0, ctx.rtLayout(0, true));
  },
};

/** Inference-mode Dropout is the identity; its optional mask output is all true. */
const dropout: OpHandler = {
  inputs: (opset) => (opset >= 12 ? 'data ratio? training_mode?!' : 'data'),
  fold(ctx, [x]) {
    return [x!, new Tensor('bool', x!.dims, new Float64Array(x!.size).fill(1))];
  },
  lower(ctx) {
    const training = ctx.opset >= 12 ? ctx.optionalConstant(2, 'training_mode') : undefined;
    if (training && training.numbers[0]) throw new NodeProblem('training_mode=true is not supported (inference only)');
    if (ctx.isOutputUsed(1)) throw new NodeProblem('the mask output is not supported');
    ctx.output(0, ctx.rtLayout(0, true));
  },
};

function flattenDims(ctx: NodeContext, dims: number[]): [number[], number] {
  const axis = ctx.int('axis', 1);
  const a = axis < 0 ? axis + dims.length : axis;
  if (a < 0 || a > dims.length)
    throw new NodeProblem(`axis ${axis} is out of range for rank ${dims.length}`, 'invalid-graph');
  return [[product(dims.slice(0, a)), product(dims.slice(a))], a];
}

const flatten: OpHandler = {
  inputs: 'input',
  fold: (ctx, [x]) => [x!.reshape(flattenDims(ctx, x!.dims)[0])],
  lower(ctx) {
    const x = ctx.rtAny(0);
    const [dims, axis] = flattenDims(ctx, x.dims);
    ctx.checkNotBatchAxis(x, axis, 'Flatten');
    ctx.output(0, ctx.alias(x, dims));
  },
};

/** Resolve Reshape's target: 0 copies the input dim (unless allowzero), -1 takes what is left. */
function reshapeDims(ctx: NodeContext, inDims: number[], target: number[]): number[] {
  const allowZero = ctx.int('allowzero', 0) !== 0;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? inDims[i] : d));
  if (dims.some((d) => d === undefined || d < -1))
    throw new NodeProblem(`shape [${target}] does not fit input [${inDims}]`, 'invalid-graph');
  const total = product(inDims);
  const out = resolveMinusOne(dims, total, target);
  if (product(out) !== total)
    throw new NodeProblem(`shape [${target}] does not fit input [${inDims}]`, 'invalid-graph');
  return out;
}

/**
 * Reshape of a batched value: where the batch goes and how many entries per row it has there. A
 * folded Shape marks it (k·BATCH); a 0 at the batch's axis copies it; on axis 0, -1 takes what a row
 * leaves and a fixed size was written for the exported batch size B (k·B means k entries per row).
 */
function reshapeBatched(
  ctx: NodeContext,
  inDims: number[],
  target: number[],
  batchAxis: number,
): { dims: number[]; batchAxis: number } {
  const allowZero = ctx.int('allowzero', 0) !== 0;
  const marked = target.flatMap((d, i) => (d >= BATCH && d % BATCH === 0 ? [i] : []));
  if (marked.length > 1 || target.some((d) => d >= BATCH && d % BATCH !== 0))
    throw new NodeProblem(`shape [${target}] regroups the rows of a batch`, 'batch');
  let at: number;
  let entries: number;
  if (marked.length === 1) [at, entries] = [marked[0], target[marked[0]] / BATCH];
  else if (!allowZero && target[batchAxis] === 0) [at, entries] = [batchAxis, inDims[batchAxis]];
  else if (batchAxis === 0 && target[0] === -1) [at, entries] = [0, -1];
  else if (batchAxis === 0 && target[0] > 0 && ctx.exportedBatch !== null && target[0] % ctx.exportedBatch === 0)
    [at, entries] = [0, target[0] / ctx.exportedBatch];
  else if (minusOneTakesBatch(target, inDims, batchAxis, allowZero)) {
    // [N, k] → [1, -1, 1] (skl2onnx's bagging ensembles stack estimators this way): with only 1s before
    // the -1, the rows stay in order along its axis, each keeping its own entries
    at = target.indexOf(-1);
    const known = product(target.map((d, i) => (d === 0 && !allowZero ? inDims[i] : d)).filter((_, i) => i !== at));
    entries = product(inDims) / known;
  } else throw new NodeProblem(`shape [${target}] fixes the batch size or cannot show where the batch goes`, 'batch');
  const dims = target.map((d, i) => (i === at ? entries : d === 0 && !allowZero ? inDims[i] : d));
  if (dims.some((d) => d === undefined || d < -1))
    throw new NodeProblem(`shape [${target}] does not fit input [${inDims}]`, 'invalid-graph');
  const total = product(inDims);
  const out = resolveMinusOne(dims, total, target);
  if (!Number.isInteger(out[at]) || out[at] < 1 || product(out) !== total)
    throw new NodeProblem(`shape [${target}] regroups the rows of a batch`, 'batch');
  return { dims: out, batchAxis: ctx.movedBatch(at, `Reshape to [${target}]`) };
}

function minusOneTakesBatch(target: number[], inDims: number[], batchAxis: number, allowZero: boolean): boolean {
  const j = target.indexOf(-1);
  if (j < 0 || target.lastIndexOf(-1) !== j) return false;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? inDims[i] : d));
  if (
    dims.some((d) => d === undefined) ||
    !dims.slice(0, j).every((d) => d === 1) ||
    !inDims.slice(0, batchAxis).every((d) => d === 1)
  )
    return false;
  const known = product(dims.filter((_, i) => i !== j));
  return known > 0 && product(inDims) % known === 0;
}

function resolveMinusOne(dims: number[], total: number, target: number[]): number[] {
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) throw new NodeProblem(`shape [${target}] has more than one -1`, 'invalid-graph');
  if (!unknown) return dims;
  const known = product(dims.filter((d) => d !== -1));
  return dims.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
}

function reshapeTarget(ctx: NodeContext): number[] {
  if (ctx.opset < 5) return ctx.ints('shape') ?? [];
  return Array.from(ctx.constant(1, 'shape').numbers);
}

const reshape: OpHandler = {
  inputs: (opset) => (opset >= 5 ? 'data shape!' : 'data'),
  fold: (ctx, [x]) => [x!.reshape(reshapeDims(ctx, x!.dims, reshapeTarget(ctx)))],
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const ba = batchAxisOf(x);
    if (ba < 0) return ctx.output(0, ctx.alias(x, reshapeDims(ctx, x.dims, reshapeTarget(ctx))));
    const { dims, batchAxis } = reshapeBatched(ctx, x.dims, reshapeTarget(ctx), ba);
    ctx.output(0, { ...ctx.alias(x, dims), batchAxis: batchAxis > 0 ? batchAxis : undefined });
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

export const SHAPE_OPS: Record<string, OpHandler> = {
  Shape: shape,
  Reshape: meaning(reshape, { passes: 'values' }),
  Flatten: meaning(flatten, { passes: 'values' }),
  Squeeze: meaning(squeeze, { passes: 'values' }),
  Unsqueeze: meaning(unsqueeze, { passes: 'values' }),
  Identity: meaning(identity, { passes: 'values' }),
  Dropout: meaning(dropout, { passes: 'values' }),
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
};
