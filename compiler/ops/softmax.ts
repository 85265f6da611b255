import { meaning, type OpHandler } from './op.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { Tensor } from '../tensor.js';
import { buf, i32 } from '../program.js';
import { product, type Size } from '../shape/size.js';

/**
 * Softmax, LogSoftmax and Hardmax as [outer, axis, inner]. Before opset 13 the input is coerced to 2-D at `axis`
 * (default 1) and normalised over everything from `axis` on; from 13 it is normalised along `axis`
 * alone (default -1).
 */
function view<D extends Size>(ctx: NodeContext, dims: D[]): { axis: number; outer: D; len: D; inner: D } {
  const rank = dims.length;
  if (ctx.opset < 13) {
    const axis = normalizeAxis(ctx.int('axis', 1), rank);
    return { axis, outer: product(dims.slice(0, axis)) as D, len: product(dims.slice(axis)) as D, inner: 1 as D };
  }
  const axis = normalizeAxis(ctx.int('axis', -1), rank);
  return { axis, outer: product(dims.slice(0, axis)) as D, len: dims[axis], inner: product(dims.slice(axis + 1)) as D };
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
      const x = ctx.rt(0);
      const { axis, outer, len, inner } = view(ctx, x.dims);
      // Normalising over the rows' axis (before opset 13: over every axis from `axis` on) mixes them.
      const r = x.rowAxis;
      const mixes = typeof r === 'number' && (ctx.opset < 13 ? r >= axis : r === axis);
      const y = { ...ctx.inPlaceOr(x, x.dims), rowAxis: mixes ? undefined : r };
      ctx.program.addStep(
        kernel,
        () => ({ x: buf(x), y: buf(y), outer: i32(outer), axis: i32(len), inner: i32(inner) }),
        [x],
        [y],
      );
      ctx.output(0, y);
    },
  };
}

/** Hardmax: 1 at the first largest element along the axis (std::max_element's choice), 0 elsewhere. */
const hardmax: OpHandler = {
  inputs: 'input',
  fold(ctx, [x]) {
    const { outer, len, inner } = view(ctx, x!.dims);
    const v = x!.numbers;
    const out = new Float64Array(v.length);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * len + k) * inner + i;
        let best = 0;
        for (let k = 1; k < len; k++) if (v[at(best)] < v[at(k)]) best = k;
        if (len > 0) out[at(best)] = 1;
      }
    return [Tensor.fromNumbers(x!.dtype, x!.dims, out)];
  },
  lower(ctx) {
    const x = ctx.rt(0);
    const { axis, outer, len, inner } = view(ctx, x.dims);
    const r = x.rowAxis;
    const mixes = typeof r === 'number' && (ctx.opset < 13 ? r >= axis : r === axis);
    const y = { ...ctx.newValue(x.dims), rowAxis: mixes ? undefined : r };
    ctx.program.addStep(
      'hardmax',
      () => ({ x: buf(x), y: buf(y), outer: i32(outer), axis: i32(len), inner: i32(inner) }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

export const SOFTMAX_OPS: Record<string, OpHandler> = {
  Hardmax: hardmax,
  Softmax: meaning(softmaxHandler('softmax'), { outputKind: 'probabilities' }),
  LogSoftmax: meaning(softmaxHandler('log_softmax'), { outputKind: 'log-probabilities' }),
};
