import type { OpHandler } from './op.js';
import { NodeContext, normalizeAxis } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { asFloat } from './binary.js';
import { product } from '../tensor.js';
import { type Arg, type RtValue, batchAxisOf, buf, i32 } from '../program.js';

/**
 * Indexing along the last axis: TopK, CumSum, GatherElements.
 */

/** TopK along the last axis (k-NN neighbours); values and int indices, sorted. */
const topK: OpHandler = {
  inputs: (opset) => (opset >= 10 ? 'X K!' : 'X'),
  lower(ctx) {
    const x = ctx.rt(0);
    const rank = x.dims.length;
    const axis = ctx.int('axis', -1);
    if ((axis < 0 ? axis + rank : axis) !== rank - 1)
      throw new NodeProblem('only TopK along the last axis is supported');
    if (batchAxisOf(x) === rank - 1)
      throw new NodeProblem('TopK over the batch axis mixes the rows of a batch', 'batch');
    if (ctx.int('sorted', 1) !== 1) throw new NodeProblem('only sorted TopK is supported');
    const k = ctx.opset >= 10 ? Number(ctx.constant(1, 'k').numbers[0]) : ctx.int('k', 1);
    const D = x.dims[rank - 1];
    if (!(k >= 1 && k <= D)) throw new NodeProblem(`k = ${k} is outside 1..${D}`, 'invalid-graph');
    const dims = [...x.dims.slice(0, -1), k];
    const outer = product(x.dims.slice(0, -1));
    const values = { ...ctx.newValue(dims, x.batched), batchAxis: x.batchAxis };
    const indices = { ...ctx.newValue(dims, x.batched, 'int32'), batchAxis: x.batchAxis };
    const rows: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
    const largest = ctx.int('largest', 1);
    ctx.program.addStep(
      'topk',
      () => ({ x: buf(x), vals: buf(values), idx: buf(indices), rows, D: i32(D), K: i32(k), largest: i32(largest) }),
      [x],
      [values, indices],
    );
    ctx.output(0, values);
    ctx.output(1, indices);
  },
};

/** The last axis of a run-time value, as [outer rows, D] for a row kernel. */
function lastAxis(ctx: NodeContext, x: RtValue, what: string): { D: number; rows: Arg } {
  const rank = x.dims.length;
  const axis = normalizeAxis(what === 'CumSum' ? Number(ctx.constant(1, 'axis').numbers[0]) : ctx.int('axis', 0), rank);
  if (axis !== rank - 1) throw new NodeProblem(`only ${what} along the last axis is supported`);
  if (batchAxisOf(x) === rank - 1)
    throw new NodeProblem(`${what} over the batch axis mixes the rows of a batch`, 'batch');
  const outer = product(x.dims.slice(0, -1));
  return { D: x.dims[rank - 1], rows: x.batched ? { t: 'rows', times: outer } : i32(outer) };
}

/** CumSum along the last axis (AdaBoostRegressor's weighted median over its estimators). */
const cumSum: OpHandler = {
  inputs: 'x axis!',
  lower(ctx) {
    const x = asFloat(ctx, ctx.rtAny(0));
    const { D, rows } = lastAxis(ctx, x, 'CumSum');
    const y = { ...ctx.newValue(x.dims, x.batched), batchAxis: x.batchAxis };
    ctx.program.addStep(
      'cumsum_rows',
      () => ({
        x: buf(x),
        y: buf(y),
        rows,
        D: i32(D),
        exclusive: i32(ctx.int('exclusive', 0)),
        reverse: i32(ctx.int('reverse', 0)),
      }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

/** GatherElements along the last axis, indices of the same rows (picking the median estimator). */
const gatherElements: OpHandler = {
  inputs: 'data indices',
  lower(ctx) {
    const x = ctx.rtAny(0);
    const { D, rows } = lastAxis(ctx, x, 'GatherElements');
    const idx = ctx.rtAny(1);
    if (idx.dtype !== 'int32') throw new NodeProblem('the indices must be integers', 'invalid-graph');
    if (
      idx.dims.length !== x.dims.length ||
      idx.dims.slice(0, -1).some((d, i) => d !== x.dims[i]) ||
      idx.batched !== x.batched
    ) {
      throw new NodeProblem(`indices [${idx.dims}] do not match data [${x.dims}] outside the gathered axis`);
    }
    const K = idx.dims[idx.dims.length - 1];
    const y: RtValue = {
      ...ctx.newValue(idx.dims, x.batched, x.dtype),
      batchAxis: x.batchAxis,
      ...(x.categories ? { categories: x.categories } : {}),
    };
    ctx.program.addStep(
      'gather_row_elements',
      () => ({ x: buf(x), idx: buf(idx), y: buf(y), rows, D: i32(D), K: i32(K) }),
      [x, idx],
      [y],
    );
    ctx.output(0, y);
  },
};

export const INDEXING_OPS: Record<string, OpHandler> = {
  TopK: topK,
  CumSum: cumSum,
  GatherElements: gatherElements,
};
