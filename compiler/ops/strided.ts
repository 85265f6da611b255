import type { NodeContext } from '../lowering/context.js';
import { buf, data, i32, type Arg, type RtValue, type Value } from '../program.js';
import { broadcastStrides, stridedView, stridesOf, type Tensor } from '../tensor.js';

/** Run-time strided copies (the strided_copy kernel): views made contiguous, constants repeated per row. */

/**
 * y (contiguous, `outDims`) = x read at `strides` from element `offset`: the `strided_copy` kernel, whose
 * table is [R, dims, strides] with dim 0 replaced by the run-time row count.
 */
export function stridedCopy(
  ctx: NodeContext,
  x: RtValue,
  outDims: number[],
  strides: number[],
  offset: number,
): RtValue {
  const dims = outDims.length ? outDims : [1];
  const s = outDims.length ? strides : [0];
  const y = ctx.newValue(dims, x.batched, x.dtype);
  const table = ctx.program.addInts([dims.length, ...dims, ...s]);
  const rows: Arg = x.batched ? { t: 'rows', times: dims[0] } : i32(dims[0]);
  ctx.program.addStep('strided_copy', () => ({ x: buf(x, offset * 4), y: buf(y), rows, table: data(table) }), [x], [y]);
  return { ...y, categories: x.categories };
}

/** A constant operand next to batched ones: repeat it for every row with a stride-0 batch copy. */
export function constPerRow(ctx: NodeContext, t: Tensor, out: number[]): Value {
  const dims = [1, ...out.slice(1)];
  const expanded = stridedView(t, dims, broadcastStrides(t.dims, dims), 0);
  const src = ctx.newValue(dims, false);
  const ref = ctx.program.addFloats(expanded.toFloat32());
  ctx.program.addStep('copy', () => ({ x: data(ref), y: buf(src), nbytes: i32(expanded.size * 4) }), [], [src]);
  const y = ctx.newValue(dims, true);
  const table = ctx.program.addInts([dims.length, ...dims, 0, ...stridesOf(dims).slice(1)]);
  ctx.program.addStep(
    'strided_copy',
    () => ({ x: buf(src), y: buf(y), rows: { t: 'rows', times: 1 }, table: data(table) }),
    [src],
    [y],
  );
  return y;
}
