import { meaning, type OpHandler } from './op.js';
import { NodeContext, normalizeAxis } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, product } from '../tensor.js';
import { type Arg, batchAxisOf, buf, i32 } from '../program.js';

/**
 * Softmax and LogSoftmax as [outer, axis, inner]. Before opset 13 the input is coerced to 2-D at `axis`
 * (default 1) and normalised over everything from `axis` on; from 13 it is normalised along `axis`
 * alone (default -1).
 */
function view(ctx: NodeContext, dims: number[]): { axis: number; outer: number; len: number; inner: number } {
  const rank = dims.length;
  if (ctx.opset < 13) {
    const axis = normalizeAxis(ctx.int('axis', 1), rank);
    return { axis, outer: product(dims.slice(0, axis)), len: product(dims.slice(axis)), inner: 1 };
  }
  const axis = normalizeAxis(ctx.int('axis', -1), rank);
  return { axis, outer: product(dims.slice(0, axis)), len: dims[axis], inner: product(dims.slice(axis + 1)) };
}

function softmaxHandler(kernel: 'softmax' | 'log_softmax'): OpHandler {
  return {
    inputs: 'input',
    fold(ctx, [x]) {
      const { outer, len, inner } = view(ctx, x!.dims);
      const v = x!.numbers;
      const out = new Float64Array(v.length);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const at = (k: number) => (o * len + k) * inner + i;
          let max = -Infinity;
          for (let k = 0; k < len; k++) max = Math.max(max, v[at(k)]);
          let sum = 0;
          for (let k = 0; k < len; k++) sum += Math.exp(v[at(k)] - max);
          for (let k = 0; k < len; k++)
            out[at(k)] = kernel === 'softmax' ? Math.exp(v[at(k)] - max) / sum : v[at(k)] - max - Math.log(sum);
        }
      return [Tensor.fromNumbers(x!.dtype, x!.dims, out)];
    },
    lower(ctx) {
      const x = ctx.rt(0, true);
      const { axis, outer, len, inner } = view(ctx, x.dims);
      const ba = batchAxisOf(x);
      // Before opset 13 the softmax runs over every axis from `axis` on.
      if (ba >= 0 && (ctx.opset < 13 ? ba >= axis : ba === axis))
        throw new NodeProblem(
          `${kernel === 'softmax' ? 'Softmax' : 'LogSoftmax'} over the batch axis mixes the rows of a batch`,
          'batch',
        );
      const y = ctx.inPlaceOr(x, x.dims, x.batched);
      // For a batched value `outer` counts per batch row: scale it by the row count.
      const outerArg: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
      ctx.program.addStep(
        kernel,
        () => ({ x: buf(x), y: buf(y), outer: outerArg, axis: i32(len), inner: i32(inner) }),
        [x],
        [y],
      );
      ctx.output(0, y);
    },
  };
}

export const SOFTMAX_OPS: Record<string, OpHandler> = {
  Softmax: meaning(softmaxHandler('softmax'), { outputKind: 'probabilities' }),
  LogSoftmax: meaning(softmaxHandler('log_softmax'), { outputKind: 'log-probabilities' }),
};
