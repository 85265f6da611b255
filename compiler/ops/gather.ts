import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { buf, i32, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, min, product, sameSize, type Size } from '../shape/size.js';
import { Tensor, product as count, stridesOf } from '../tensor.js';
import { bytesOfElement, indexOperand, operand, sharedRows, valueLike } from './operands.js';

/**
 * GatherElements and GatherND by indices known at compile time or only at run time (int32 or int64,
 * negative ones counting from the end). An index outside its axis is refused as onnxruntime refuses it:
 * at compile time an invalid graph, at run time the call fails (`bad-input`, naming the node).
 */

/** An index normalised into [0, n), or an invalid-graph error (the compile-time path). */
function checkedIndex(v: number, n: number, what: string): number {
  const j = v < 0 ? v + n : v;
  if (!(j >= 0 && j < n)) throw new NodeProblem(`${what} ${v} is outside [${-n}, ${n - 1}]`, 'invalid-graph');
  return j;
}

/** Sizes a that must be at most b, checked when known and at run time when not. */
function requireAtMost(ctx: NodeContext, a: Size, b: Size, message: string): void {
  if (isConst(a) && isConst(b)) {
    if (a > b) throw new NodeProblem(message, 'invalid-graph');
  } else if (!sameSize(a, b)) ctx.require(min(a, b), a, message);
}

const gatherElements: OpHandler = {
  inputs: 'data indices',
  fold(ctx, [x, idx]) {
    const rank = x!.dims.length;
    const axis = normalizeAxis(ctx.int('axis', 0), rank);
    if (idx!.dims.length !== rank) throw new NodeProblem('indices and data differ in rank', 'invalid-graph');
    const xs = stridesOf(x!.dims);
    const is = stridesOf(idx!.dims);
    const values = Array.from(idx!.numbers, (v, p) => {
      let at = 0;
      for (let d = 0; d < rank; d++) {
        const c = Math.floor(p / is[d]) % idx!.dims[d];
        at += (d === axis ? checkedIndex(v, x!.dims[axis], 'an index') : c) * xs[d];
      }
      return x!.numbers[at];
    });
    return [Tensor.fromNumbers(x!.dtype, idx!.dims, values)];
  },
  lower(ctx) {
    const x = operand(ctx, 0, 'data');
    const idx = indexOperand(ctx, 1, 'indices');
    const rank = x.dims.length;
    if (rank < 1) throw new NodeProblem('the data is a scalar; GatherElements needs rank ≥ 1', 'invalid-graph');
    if (idx.dims.length !== rank)
      throw new NodeProblem(
        `indices ${shapeToString(idx.dims)} and data ${shapeToString(x.dims)} differ in rank`,
        'invalid-graph',
      );
    const axis = normalizeAxis(ctx.int('axis', 0), rank);
    idx.dims.forEach((d, i) => {
      if (i !== axis)
        requireAtMost(
          ctx,
          d,
          x.dims[i],
          `indices ${shapeToString(idx.dims)} exceed data ${shapeToString(x.dims)} on axis ${i}`,
        );
    });
    const y = valueLike(ctx, idx.dims, x, sharedRows(x, idx, axis));
    const table = ctx.program.addTable([...idx.dims, ...x.dims]);
    const step = ctx.program.addStep(
      'gather_elements',
      () => ({
        x: x.ptr,
        idx: idx.ptr,
        y: buf(y),
        rank: i32(rank),
        table,
        axis: i32(axis),
        idxBytes: i32(bytesOfElement(idx)),
        elemBytes: i32(bytesOfElement(x)),
      }),
      [...x.reads, ...idx.reads],
      [y],
    );
    step.valueCheck = {
      message: `GatherElements "${ctx.node.name}": an index in "${ctx.node.inputs[1]}" is outside the data's axis ${axis} (element {index})`,
    };
    ctx.output(0, y);
  },
};

/** GatherND's shapes: batch dims b, index depth q, and the kernel's view. */
function gatherNdShape(ctx: NodeContext, xDims: Size[], idxDims: Size[]) {
  const b = ctx.opset >= 12 ? ctx.int('batch_dims', 0) : 0;
  const r = xDims.length;
  const m = idxDims.length;
  if (m < 1 || r < 1) throw new NodeProblem('data and indices must have rank ≥ 1', 'invalid-graph');
  const q = idxDims[m - 1];
  if (!isConst(q)) throw new NodeProblem('the last dimension of the indices must be known at compile time');
  if (!(b >= 0 && b < Math.min(r, m) && q >= 1 && q <= r - b))
    throw new NodeProblem(
      `batch_dims ${b} and index depth ${q} do not fit data of rank ${r} and indices of rank ${m}`,
      'invalid-graph',
    );
  return {
    b,
    q,
    outDims: [...idxDims.slice(0, m - 1), ...xDims.slice(b + q)],
    batches: product(xDims.slice(0, b)),
    count: product(idxDims.slice(b, m - 1)),
    slice: product(xDims.slice(b + q)),
    cellDims: xDims.slice(b, b + q),
  };
}

const gatherND: OpHandler = {
  inputs: 'data indices',
  fold(ctx, [x, idx]) {
    const s = gatherNdShape(ctx, x!.dims, idx!.dims);
    const [batches, cnt, slice] = [s.batches, s.count, s.slice] as number[];
    const cellDims = s.cellDims as number[];
    const cells = count(cellDims);
    const values: number[] = [];
    for (let b = 0; b < batches; b++)
      for (let c = 0; c < cnt; c++) {
        let cell = 0;
        cellDims.forEach((n, k) => {
          cell = cell * n + checkedIndex(idx!.numbers[(b * cnt + c) * s.q + k], n, 'an index');
        });
        for (let i = 0; i < slice; i++) values.push(x!.numbers[(b * cells + cell) * slice + i]);
      }
    return [Tensor.fromNumbers(x!.dtype, s.outDims as number[], values)];
  },
  lower(ctx) {
    const x = operand(ctx, 0, 'data');
    const idx = indexOperand(ctx, 1, 'indices');
    const s = gatherNdShape(ctx, x.dims, idx.dims);
    for (let d = 0; d < s.b; d++)
      if (!sameSize(x.dims[d], idx.dims[d]))
        ctx.require(x.dims[d], idx.dims[d], `the batch dimensions of data and indices differ on axis ${d}`);
    // Rows survive along a batch dimension both keep on axis 0.
    const rowAxis: RtValue['rowAxis'] =
      s.b > 0 && x.rowAxis === 0 && idx.rowAxis === 0
        ? 0
        : x.rowAxis === 'none' && idx.rowAxis === 'none'
          ? 'none'
          : undefined;
    const y = valueLike(ctx, s.outDims, x, rowAxis);
    const table = ctx.program.addTable(s.cellDims);
    const step = ctx.program.addStep(
      'gather_nd',
      () => ({
        x: x.ptr,
        idx: idx.ptr,
        y: buf(y),
        batches: i32(s.batches),
        count: i32(s.count),
        q: i32(s.q),
        slice: i32(s.slice),
        table,
        idxBytes: i32(bytesOfElement(idx)),
        elemBytes: i32(bytesOfElement(x)),
      }),
      [...x.reads, ...idx.reads],
      [y],
    );
    step.valueCheck = {
      message: `GatherND "${ctx.node.name}": an index in "${ctx.node.inputs[1]}" is outside the data's dimension it indexes (element {index})`,
    };
    ctx.output(0, y);
  },
};

export const GATHER_OPS: Record<string, OpHandler> = {
  GatherElements: gatherElements,
  GatherND: gatherND,
};
