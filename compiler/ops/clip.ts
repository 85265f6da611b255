import { CODES } from '../abi/codes.js';
import type { NodeContext } from '../lowering/context.js';
import { onnxTypeOf, type Value } from '../program.js';
import { FLOAT_TYPES, broadcastMap } from '../tensor.js';
import { lowerMinMax } from './arithmetic.js';
import type { OpHandler } from './op.js';
import { lowerUnary } from './unary.js';

/**
 * Clip: on float32 with bounds known at compile time, one unary kernel (which may fold into a GEMM's
 * epilogue); with bounds computed at run time, or on integers, Max then Min with the bounds broadcast.
 */

const FLT_MAX = 3.4028234663852886e38;

/** The bounds' values when they are attributes (before opset 11) or constants or absent, else undefined. */
function constantBounds(ctx: NodeContext): [number, number] | undefined {
  if (ctx.opset < 11) return [ctx.float('min', -FLT_MAX), ctx.float('max', FLT_MAX)];
  const [lo, hi] = [ctx.input(1), ctx.input(2)];
  if ((lo && lo.kind !== 'const') || (hi && hi.kind !== 'const')) return undefined;
  return [lo ? lo.tensor.numbers[0] : -FLT_MAX, hi ? hi.tensor.numbers[0] : FLT_MAX];
}

const clip: OpHandler = {
  inputs: (opset) => (opset >= 11 ? 'input min? max?' : 'input'),
  fold(ctx, [x, lo, hi]) {
    const [l, h] =
      ctx.opset < 11 ? constantBounds(ctx)! : [lo ? lo.numbers[0] : -Infinity, hi ? hi.numbers[0] : Infinity];
    return [broadcastMap([x!], x!.dtype, (v) => Math.min(Math.max(v, l), h))];
  },
  lower(ctx) {
    const x = ctx.input(0)!;
    const bounds = constantBounds(ctx);
    if (x.kind === 'rt' && FLOAT_TYPES.has(onnxTypeOf(x)) && bounds)
      return ctx.output(0, lowerUnary(ctx, 'unary_clip', CODES.ACT.CLIP, bounds));
    let y: Value = x.kind === 'rt' ? ctx.rtAny(0) : x;
    const [lo, hi] = [ctx.input(1), ctx.input(2)];
    if (lo) y = lowerMinMax(ctx, 'Max', y, lo);
    if (hi) y = lowerMinMax(ctx, 'Min', y, hi);
    ctx.output(0, y);
  },
};

export const CLIP_OPS: Record<string, OpHandler> = { Clip: clip };
