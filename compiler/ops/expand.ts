import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import type { RtValue, Value } from '../program.js';
import { broadcastShapes, broadcastStrides, shapeToString, stridesOf, type SizeCheck } from '../shape/shapes.js';
import { isConst, min, mul, sameSizes, sub, type Size } from '../shape/size.js';
import { stridedView, Tensor } from '../tensor.js';
import type { OpHandler } from './op.js';
import { constantAs, runtimeInput, stridedCopy } from './strided.js';
import { runtimeExpandDims } from './run-shape.js';
import { storageOfValue } from './elementwise.js';

/**
 * Expand, and broadcasting a value to a shape as a contiguous copy (the operand preparation Where and the
 * run-time MatMuls share).
 */

/** Broadcast a value to `outDims` as a contiguous copy (stride 0 along broadcast axes). */
export function broadcastTo(ctx: NodeContext, v: Value, outDims: Size[]): RtValue {
  if (v.kind === 'const') {
    const storage = storageOfValue(v);
    const y = constantAs(ctx, v.tensor, outDims, storage);
    return v.tensor.dtype === storage || v.tensor.isFloat ? y : { ...y, onnx: v.tensor.dtype };
  }
  if (v.kind === 'shape') return constantAs(ctx, Tensor.fromNumbers('int64', [1], [0]), outDims, 'int32'); // unreachable in practice
  if (sameSizes(v.dims, outDims)) return v;
  const y = stridedCopy(ctx, v, outDims, broadcastStrides(v.dims, outDims), 0);
  // Rows keep their axis, shifted by the dims a higher rank adds in front.
  const rowAxis = typeof v.rowAxis === 'number' ? v.rowAxis + outDims.length - v.dims.length : v.rowAxis;
  return { ...y, rowAxis };
}

const expand: OpHandler = {
  inputs: 'input shape',
  fold(ctx, [x]) {
    const target = ctx.sizes(1, 'shape');
    const out = broadcastShapes(x!.dims, target);
    if (!out || !out.every((d) => typeof d === 'number'))
      throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    return [stridedView(x!, out as number[], broadcastStrides(x!.dims, out) as number[], 0)];
  },
  lower(ctx) {
    const v = ctx.input(0)!;
    const dims = v.kind === 'const' ? v.tensor.dims : v.dims;
    if (ctx.input(1)?.kind === 'rt') {
      // A shape given at run time: the output's dims per call, checked to broadcast (run-shape.ts); where
      // the input's dim may be 1 at run time, its stride is 0 then (the copy repeats it).
      if (v.kind === 'shape')
        throw new NodeProblem('expanding a shape by a shape computed at run time is not supported');
      const x = runtimeInput(ctx, 0);
      const out = runtimeExpandDims(ctx, x.dims);
      const strides = stridesOf(x.dims).map((s, i) =>
        isConst(x.dims[i]) ? (x.dims[i] === 1 ? 0 : s) : mul(s, min(sub(x.dims[i], 1), 1)),
      );
      const full = [...new Array<Size>(out.length - strides.length).fill(0), ...strides];
      return ctx.output(0, {
        ...stridedCopy(ctx, x, out, full, 0),
        rowAxis: x.rowAxis === 'none' ? 'none' : undefined,
      });
    }
    const target = ctx.sizes(1, 'shape');
    const checks: SizeCheck[] = [];
    const out = broadcastShapes(dims, target, checks);
    if (!out)
      throw new NodeProblem(
        `shape ${shapeToString(dims)} does not broadcast to ${shapeToString(target)}`,
        'invalid-graph',
      );
    for (const c of checks) ctx.require(c.a, c.b, c.message);
    if (v.kind === 'shape') throw new NodeProblem('expanding a shape computed at run time is not supported');
    ctx.output(0, broadcastTo(ctx, v.kind === 'rt' ? ctx.rtAny(0) : v, out));
  },
};

export const EXPAND_OPS: Record<string, OpHandler> = { Expand: expand };
