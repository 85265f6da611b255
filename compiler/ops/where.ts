import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { Tensor, broadcastShapes, broadcastStrides, product, stridedView } from '../tensor.js';
import { asFloat } from './binary.js';
import { broadcastTo } from './expand.js';
import { constPerRow } from './strided.js';
import { dimsOf } from './movement.js';
import { type Arg, type Value, buf, i32 } from '../program.js';

/**
 * Where: an elementwise choice between two operands, broadcast to one shape first.
 */

const where: OpHandler = {
  inputs: 'condition X Y',
  fold(_ctx, [c, a, b]) {
    let out = broadcastShapes(c!.dims, a!.dims);
    out = out && broadcastShapes(out, b!.dims);
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    const pick = (t: Tensor) => stridedView(t, out!, broadcastStrides(t.dims, out!), 0).numbers;
    const [cv, av, bv] = [pick(c!), pick(a!), pick(b!)];
    return [
      Tensor.fromNumbers(
        a!.dtype,
        out,
        Array.from(cv, (x, i) => (x ? av[i] : bv[i])),
      ),
    ];
  },
  lower(ctx) {
    // Run-time operands in plain layout (a conv's channels-last output would be read in the wrong order).
    let [c, a, b] = [0, 1, 2].map((i): Value => (ctx.input(i)!.kind === 'rt' ? ctx.rtAny(i) : ctx.input(i)!));
    // Choosing between integers (k-NN's neighbour indices): select their float values (exact below
    // 2^24), then back to int32.
    const ints = [a, b].some((v) => (v.kind === 'rt' ? v.dtype === 'int32' : !v.tensor.isFloat));
    if (ints) [c, a, b] = [c, a, b].map((v) => (v.kind === 'rt' ? asFloat(ctx, v) : v));
    const out = [c, a, b].map(dimsOf).reduce<number[] | null>((s, d) => s && broadcastShapes(s, d), []);
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    const batched = [c, a, b].some((v) => v.kind === 'rt' && v.batched);
    const [cc, aa, bb] = [c, a, b].map((v) =>
      broadcastTo(ctx, v.kind === 'const' && batched ? constPerRow(ctx, v.tensor, out) : v, out, batched),
    );
    const y = ctx.newValue(out, batched);
    const n: Arg = batched ? { t: 'rows', times: product(out) } : i32(product(out));
    ctx.program.addStep('where', () => ({ cond: buf(cc), a: buf(aa), b: buf(bb), y: buf(y), n }), [cc, aa, bb], [y]);
    if (!ints) return ctx.output(0, y);
    const yi = ctx.newValue(out, batched, 'int32');
    ctx.program.addStep('cast_f32_i32', () => ({ x: buf(y), y: buf(yi), n }), [y], [yi]);
    ctx.output(0, yi);
  },
};

export const WHERE_OPS: Record<string, OpHandler> = { Where: where };
