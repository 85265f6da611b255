import type { OpHandler } from './op.js';
import { stridedCopy } from './strided.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { stridedView, stridesOf as tensorStrides } from '../tensor.js';
import { stridesOf } from '../shape/shapes.js';

/** Transpose: a strided view of a constant, one n-d strided copy at run time (the rows follow their axis). */

/** Transpose's perm: a permutation of the axes (default: reversed). */
function transposePerm(ctx: NodeContext, rank: number): number[] {
  const perm = ctx.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (
    perm.length !== rank ||
    perm.some((p, i) => !Number.isInteger(p) || p < 0 || p >= rank || perm.indexOf(p) !== i)
  ) {
    throw new NodeProblem(
      `perm [${perm.slice(0, 8)}${perm.length > 8 ? ',…' : ''}] is not a permutation of the ${rank} axes of its input`,
      'invalid-graph',
    );
  }
  return perm;
}

const transpose: OpHandler = {
  inputs: 'data',
  fold(ctx, [x]) {
    const perm = transposePerm(ctx, x!.dims.length);
    const s = tensorStrides(x!.dims);
    return [
      stridedView(
        x!,
        perm.map((p) => x!.dims[p]),
        perm.map((p) => s[p]),
        0,
      ),
    ];
  },
  lower(ctx) {
    const x = ctx.rtAny(0);
    const perm = transposePerm(ctx, x.dims.length);
    if (perm.every((p, i) => p === i)) return ctx.output(0, x);
    const s = stridesOf(x.dims);
    const r = x.rowAxis;
    const y = stridedCopy(
      ctx,
      x,
      perm.map((p) => x.dims[p]),
      perm.map((p) => s[p]),
      0,
    );
    ctx.output(0, { ...y, rowAxis: typeof r === 'number' ? perm.indexOf(r) : r });
  },
};

export const TRANSPOSE_OPS: Record<string, OpHandler> = { Transpose: transpose };
