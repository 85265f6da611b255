import { NodeProblem } from '../errors.js';
import type { OnnxGraph } from '../onnx.js';
import { batchAxisOf, buf, data, i32, type Arg, type RtValue } from '../program.js';
import { product } from '../tensor.js';
import { normalizeAxis, type NodeContext } from '../lower.js';
import { asFloat } from './elementwise.js';
import type { OpHandler } from './index.js';

/**
 * What skl2onnx's nearest-neighbour models (KNeighborsClassifier/Regressor) export around the
 * ai.onnx.ml ops: a Scan computing the distances to every training row, then TopK; and the weighted
 * median of AdaBoostRegressor (TopK, CumSum, GatherElements).
 */

/**
 * Scan, only in the form skl2onnx's cdist writes: the state is the input X, the scanned input a
 * constant table T, and the body emits ReduceSumSquare(X − T[m], axis 1) per row m of T. Compiled as
 * one squared-distance kernel; the stacked output is [M, N] (batch on axis 1, as the graph transposes
 * it back), so the model runs row-wise.
 */
const scan: OpHandler = {
  lower(ctx) {
    const body = ctx.attr('body') as OnnxGraph | undefined;
    if (!body || ctx.int('num_scan_inputs', 0) !== 1 || ctx.inputCount !== 2)
      throw new NodeProblem('only the pairwise-distance Scan of skl2onnx (cdist) is supported');
    const ops = body.nodes.map((n) => n.opType).join(',');
    const [stateIn, scanned] = body.inputs.map((i) => i.name);
    const sub = body.nodes.find((n) => n.opType === 'Sub');
    const red = body.nodes.find((n) => n.opType === 'ReduceSumSquare');
    const axes = red?.attrs.get('axes');
    const cdist =
      ops === 'Identity,Sub,ReduceSumSquare,Identity' &&
      sub!.inputs[0] === stateIn &&
      sub!.inputs[1] === scanned &&
      red!.inputs[0] === sub!.outputs[0] &&
      Array.isArray(axes) &&
      axes.length === 1 &&
      axes[0] === 1 &&
      Number(red!.attrs.get('keepdims') ?? 1) === 0 &&
      body.nodes[0].inputs[0] === stateIn &&
      body.outputs[0].name === body.nodes[0].outputs[0] &&
      body.nodes[3].inputs[0] === red!.outputs[0] &&
      body.outputs[1].name === body.nodes[3].outputs[0];
    if (!cdist)
      throw new NodeProblem(`only the pairwise-distance Scan of skl2onnx (cdist) is supported; this body is ${ops}`);
    const x = ctx.rt(0);
    const t = ctx.constant(1, 'the scanned table');
    if (x.dims.length !== 2 || t.dims.length !== 2 || t.dims[1] !== x.dims[1])
      throw new NodeProblem(
        `expects [N, F] against a constant [M, F], got [${x.dims}] and [${t.dims}]`,
        'invalid-graph',
      );
    const [M, F] = t.dims;
    ctx.output(0, x);
    const table = ctx.program.addFloats(t.toFloat32());
    const y: RtValue = { ...ctx.newValue([M, 1], x.batched), batchAxis: ctx.movedBatch(1, 'the distance Scan') };
    const rows: Arg = x.batched ? { t: 'rows', times: 1 } : i32(1);
    ctx.program.addStep(
      'squared_distances',
      () => ({ x: buf(x), t: data(table), y: buf(y), rows, F: i32(F), M: i32(M) }),
      [x],
      [y],
    );
    ctx.output(1, y);
  },
};

/** TopK along the last axis (k-NN neighbours); values and int indices, sorted. */
const topK: OpHandler = {
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

export const NEIGHBOR_OPS: Record<string, OpHandler> = {
  Scan: scan,
  TopK: topK,
  CumSum: cumSum,
  GatherElements: gatherElements,
};
