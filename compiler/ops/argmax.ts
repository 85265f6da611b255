import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lower.js';
import { normalizeAxis } from '../lower.js';
import { buf, i32, type Arg } from '../program.js';
import { product, Tensor } from '../tensor.js';
import type { OpHandler } from './index.js';

/** ArgMax/ArgMin: int64 indices in ONNX, int32 at run time (class indices always fit). */
function handler(kernel: 'argmax' | 'argmin'): OpHandler {
  const better = kernel === 'argmax' ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  const shape = (ctx: NodeContext, dims: number[]) => {
    const axis = normalizeAxis(ctx.int('axis', 0), dims.length);
    const keep = ctx.int('keepdims', 1) !== 0;
    const out = keep ? dims.map((d, i) => (i === axis ? 1 : d)) : dims.filter((_, i) => i !== axis);
    return { axis, out, outer: product(dims.slice(0, axis)), len: dims[axis], inner: product(dims.slice(axis + 1)) };
  };
  return {
    fold(ctx, [x]) {
      const { out, outer, len, inner } = shape(ctx, x!.dims);
      const last = ctx.int('select_last_index', 0) !== 0;
      const v = x!.numbers;
      const r = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let at = 0;
          for (let k = 1; k < len; k++) {
            const a = v[(o * len + k) * inner + i];
            const b = v[(o * len + at) * inner + i];
            if (better(a, b) || (last && a === b)) at = k;
          }
          r[o * inner + i] = at;
        }
      return [Tensor.fromNumbers('int64', out, r)];
    },
    lower(ctx) {
      const x = ctx.rt(0);
      const { axis, out, outer, len, inner } = shape(ctx, x.dims);
      ctx.checkNotBatchAxis(x, axis, kernel === 'argmax' ? 'ArgMax' : 'ArgMin');
      if (x.batched && out.length === 0) throw new NodeProblem('reducing away the batch axis', 'batch');
      // The indices are their own class values until a LabelEncoder or class list renames them.
      const y = { ...ctx.newValue(out, x.batched, 'int32'), categories: Array.from({ length: len }, (_, i) => i) };
      const outerArg: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
      const selectLast = i32(ctx.int('select_last_index', 0));
      ctx.program.addStep(
        kernel,
        () => ({ x: buf(x), y: buf(y), outer: outerArg, len: i32(len), inner: i32(inner), selectLast }),
        [x],
        [y],
      );
      ctx.output(0, y);
    },
  };
}

export const ARGMAX_OPS: Record<string, OpHandler> = { ArgMax: handler('argmax'), ArgMin: handler('argmin') };
