import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, data, i32, type RtValue, type Value } from '../program.js';
import { broadcastShapes, broadcastStrides, product, stridedView, Tensor } from '../tensor.js';
import { BATCH } from '../lowering/context.js';
import type { OpHandler } from './op.js';
import { stridedCopy } from './strided.js';

/**
 * Expand, and broadcasting a value to a shape as a contiguous copy (the operand preparation Where and the
 * run-time MatMuls share).
 */

/** The target of Expand with the batch sentinel read as 1 (a batched value already spans the batch). */
function expandTarget(t: Tensor): number[] {
  return Array.from(t.numbers, (d) => (d >= BATCH ? 1 : d));
}

/** Broadcast a value to `outDims` as a contiguous copy (stride 0 along broadcast axes). */
export function broadcastTo(ctx: NodeContext, v: Value, outDims: number[], batched: boolean): RtValue {
  if (v.kind === 'const') {
    const t = v.tensor;
    const strides = broadcastStrides(t.dims, outDims);
    const expanded = stridedView(t, outDims, strides, 0);
    if (!batched) {
      // A static-shape run-time copy of a constant: materialise from the data segment.
      const y = ctx.newValue(outDims, false);
      const ref = ctx.program.addFloats(expanded.toFloat32());
      ctx.program.addStep('copy', () => ({ x: data(ref), y: buf(y), nbytes: i32(expanded.size * 4) }), [], [y]);
      return y;
    }
    throw new NodeProblem('broadcasting a constant over the batch needs a run-time input', 'batch');
  }
  const strides = broadcastStrides(v.dims, outDims);
  if (v.batched) strides[0] = product(v.dims.slice(1));
  if (v.dims.length === outDims.length && v.dims.every((d, i) => d === outDims[i])) return v;
  return stridedCopy(ctx, v, outDims, strides, 0);
}

const expand: OpHandler = {
  inputs: 'input shape!',
  fold(_ctx, [x, shapeT]) {
    const out = broadcastShapes(x!.dims, expandTarget(shapeT!));
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    return [stridedView(x!, out, broadcastStrides(x!.dims, out), 0)];
  },
  lower(ctx) {
    const x = ctx.rtAny(0);
    const target = ctx.constant(1, 'shape');
    const out = broadcastShapes(x.dims, expandTarget(target));
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    if (x.batched && out.length !== x.dims.length)
      throw new NodeProblem('expanding to a higher rank moves the batch axis', 'batch');
    // A literal size on the batch axis (not 1, not the batch itself) fixes the batch size.
    const onBatch = target.size === x.dims.length ? target.numbers[0] : 1;
    if (x.batched && onBatch !== 1 && onBatch < BATCH)
      throw new NodeProblem(`the target shape fixes the batch size to ${onBatch}`, 'batch');
    ctx.output(0, broadcastTo(ctx, x, out, x.batched));
  },
};

// ---- pad -----------------------------------------------------------------------------------------

export const EXPAND_OPS: Record<string, OpHandler> = { Expand: expand };
