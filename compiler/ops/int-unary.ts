import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, countArg, onnxTypeOf, type RtValue } from '../program.js';
import type { DataType } from '../tensor.js';
import { CODE, castTo, toBool } from './elementwise.js';
import { wrapInt } from './typed-fold.js';

/**
 * Abs, Neg and Sign on integer tensors (compiler/abi/integer.ts: int32 and int64 kernels). int8 goes
 * through int32 and wraps back (|−128| is −128, as in C); uint8 needs no kernel for Abs, and its Sign is
 * x ≠ 0.
 */

export type IntUnary = 'abs' | 'neg' | 'sign';

/** The op on integer constants of `dtype`, wrapped as the kernel wraps it. */
export function foldIntUnary(op: IntUnary, dtype: DataType): (v: number) => number {
  const f = op === 'abs' ? Math.abs : op === 'neg' ? (v: number) => -v : Math.sign;
  return (v) => wrapInt(dtype, BigInt(f(v)));
}

export function lowerIntUnary(ctx: NodeContext, op: IntUnary, x: RtValue): RtValue {
  const type = onnxTypeOf(x);
  if (x.categories?.some((c, i) => c !== i)) throw new NodeProblem('arithmetic on class labels is not supported');
  if (x.dtype === 'uint8') {
    if (op === 'neg') throw new NodeProblem(`Neg is not defined on ${type} tensors`, 'invalid-graph');
    if (op === 'abs') return x;
    return { ...toBool(ctx, x), onnx: x.onnx };
  }
  const wide = x.dtype === 'int8' ? castTo(ctx, x, 'int32') : x;
  if (wide.dtype !== 'int32' && wide.dtype !== 'int64')
    throw new NodeProblem(`${ctx.node.opType} on ${type} tensors is not supported`);
  const y: RtValue = { ...ctx.inPlaceOr(wide, wide.dims, wide.dtype), rowAxis: x.rowAxis };
  const kernel = `${op}_${CODE[wide.dtype]}` as const;
  ctx.program.addStep(kernel, () => ({ x: buf(wide), y: buf(y), n: countArg(wide) }), [wide], [y]);
  const out = x.dtype === 'int8' ? castTo(ctx, y, 'int8') : y;
  return { ...out, onnx: x.onnx };
}
