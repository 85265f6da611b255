import { NodeProblem } from '../errors.js';
import { BATCH, type NodeContext } from '../lower.js';

import { batchAxisOf, buf, countArg, data } from '../program.js';
import { product, Tensor, type DataType } from '../tensor.js';
import { dataTypeName } from '../onnx.js';
import { lowerNonZero } from './elementwise.js';
import type { OpHandler } from './index.js';

/** Ops that only rename or re-view data: at run time they alias their input's buffer (no copy). */

const identity: OpHandler = {
  fold: (_ctx, [x]) => [x!],
  lower(ctx) {
    ctx.output(0, ctx.rtLayout(0, true));
  },
};

/** Inference-mode Dropout is the identity; its optional mask output is all true. */
const dropout: OpHandler = {
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

function castValue(to: DataType): (x: number) => number {
  switch (to) {
    case 'float32':
    case 'float64':
    case 'float16':
      return (x) => x;
    case 'bool':
      return (x) => (x !== 0 ? 1 : 0);
    default:
      return (x) => (Number.isFinite(x) ? Math.trunc(x) : 0);
  }
}

const cast: OpHandler = {
  fold(ctx, [x]) {
    const to = dataTypeName(ctx.int('to', 1));
    if (to === 'string' || x!.dtype === 'string') throw new NodeProblem('casts to or from strings are not supported');
    return [Tensor.fromNumbers(to, x!.dims, Array.from(x!.numbers, castValue(to)))];
  },
  lower(ctx) {
    const to = dataTypeName(ctx.int('to', 1));
    const x = ctx.rtAny(0, true);
    // Run-time floats are float32 (float64/float16 targets compute in float32, within the 1e-4 budget);
    // run-time integers are int32 class indices, which int64/int32 casts leave as they are.
    const floatTarget = to === 'float32' || to === 'float64' || to === 'float16';
    const intTarget = to === 'int64' || to === 'int32';
    // Run-time booleans are 1/0 floats: nonzero (and NaN) becomes 1.
    if (to === 'bool') return ctx.output(0, lowerNonZero(ctx, x));
    if (!floatTarget && !intTarget) throw new NodeProblem(`casting a run-time tensor to ${to} is not supported`);
    // A float cast up to double asks for double-precision arithmetic, which float32 cannot stand in for
    // (scikit-learn's GaussianProcessRegressor export cancels terms near 1e9): refuse, never answer wrongly.
    if (to === 'float64' && x.dtype === 'float32') {
      throw new NodeProblem(
        'casts run-time values to float64: the model computes in double precision, and ml-widgets computes in float32, which can give wrong answers here. Export the model to compute in float32',
      );
    }
    if ((x.dtype === 'float32') === floatTarget) return ctx.output(0, x);
    const count = countArg(x);
    if (floatTarget) {
      // Class indices become their numeric class values; plain integers convert.
      const y = ctx.newValue(x.dims, x.batched);
      y.batchAxis = x.batchAxis;
      const cats = x.categories;
      if (cats && cats.some((c, i) => c !== i)) {
        if (cats.some((c) => typeof c === 'string'))
          throw new NodeProblem('casting string labels to numbers is not supported');
        const table = ctx.program.addFloats(Float32Array.from(cats as number[]));
        ctx.program.addStep('lookup_f32', () => ({ idx: buf(x), table: data(table), y: buf(y), n: count }), [x], [y]);
      } else {
        ctx.program.addStep('cast_i32_f32', () => ({ x: buf(x), y: buf(y), n: count }), [x], [y]);
      }
      return ctx.output(0, y);
    }
    const y = ctx.newValue(x.dims, x.batched, 'int32');
    y.batchAxis = x.batchAxis;
    ctx.program.addStep('cast_f32_i32', () => ({ x: buf(x), y: buf(y), n: count }), [x], [y]);
    ctx.output(0, y);
  },
};

export const SHAPE_OPS: Record<string, OpHandler> = {
  Identity: identity,
  Dropout: dropout,
  Flatten: flatten,
  Reshape: reshape,
  Constant: constant,
  Cast: cast,
};
