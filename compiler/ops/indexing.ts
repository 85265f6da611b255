import type { OpHandler } from './op.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { asFloat } from './binary.js';
import { buf, i32, type I32Arg, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product, sameSize, type Size } from '../shape/size.js';

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
    if (ctx.int('sorted', 1) !== 1) throw new NodeProblem('only sorted TopK is supported');
    const k = ctx.opset >= 10 ? Number(ctx.constant(1, 'k').numbers[0]) : ctx.int('k', 1);
    const D = x.dims[rank - 1];
    if (!(k >= 1 && (!isConst(D) || k <= D))) throw new NodeProblem(`k = ${k} is outside 1..${D}`, 'invalid-graph');
    const dims = [...x.dims.slice(0, -1), k];
    const rowAxis = lastAxisRows(x);
    const values = { ...ctx.newValue(dims), rowAxis };
    const indices: RtValue = { ...ctx.newValue(dims, 'int32'), onnx: 'int64', rowAxis };
    const rows = i32(product(x.dims.slice(0, -1)));
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

/** Rows on the last axis are mixed by a row kernel; elsewhere they stay. */
const lastAxisRows = (x: RtValue): RtValue['rowAxis'] => (x.rowAxis === x.dims.length - 1 ? undefined : x.rowAxis);

/** The last axis of a run-time value, as [outer rows, D] for a row kernel. */
function lastAxis(ctx: NodeContext, x: RtValue, what: string): { D: Size; rows: I32Arg } {
  const rank = x.dims.length;
  const axis = normalizeAxis(what === 'CumSum' ? Number(ctx.constant(1, 'axis').numbers[0]) : ctx.int('axis', 0), rank);
  if (axis !== rank - 1) throw new NodeProblem(`only ${what} along the last axis is supported`);
  return { D: x.dims[rank - 1], rows: i32(product(x.dims.slice(0, -1))) };
}

/** CumSum along the last axis (AdaBoostRegressor's weighted median over its estimators). */
const cumSum: OpHandler = {
  inputs: 'x axis!',
  lower(ctx) {
    const x = asFloat(ctx, ctx.rtAny(0));
    const { D, rows } = lastAxis(ctx, x, 'CumSum');
    const y = { ...ctx.newValue(x.dims), rowAxis: lastAxisRows(x) };
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
    if (idx.dims.length !== x.dims.length || idx.dims.slice(0, -1).some((d, i) => !sameSize(d, x.dims[i]))) {
      throw new NodeProblem(
        `indices ${shapeToString(idx.dims)} do not match data ${shapeToString(x.dims)} outside the gathered axis`,
      );
    }
    const K = idx.dims[idx.dims.length - 1];
    const y: RtValue = {
      ...ctx.newValue(idx.dims, x.dtype),
      onnx: x.onnx,
      rowAxis: lastAxisRows(x),
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
