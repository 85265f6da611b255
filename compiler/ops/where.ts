import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import {
  Tensor,
  FLOAT_TYPES,
  broadcastShapes as tensorBroadcast,
  broadcastStrides as tensorStrides,
  stridedView,
} from '../tensor.js';
import { dimsOf } from './movement.js';
import { onnxTypeOf, type Storage, type Value } from '../program.js';
import type { Size } from '../shape/size.js';
import { commonStorage, lowerWhere, toBool } from './elementwise.js';

/**
 * Where: an elementwise choice between two operands by a bool condition, with numpy broadcasting over all
 * three (assembly/where.ts): elements of any type, moved as 1, 4 or 8 bytes. Choosing between sizes by a
 * condition known at compile time stays symbolic.
 */

const where: OpHandler = {
  inputs: 'condition X Y',
  fold(_ctx, [c, a, b]) {
    let out = tensorBroadcast(c!.dims, a!.dims);
    out = out && tensorBroadcast(out, b!.dims);
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    const pick = (t: Tensor) => stridedView(t, out!, tensorStrides(t.dims, out!), 0).numbers;
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
    const [c, a, b] = [0, 1, 2].map((i): Value => (ctx.input(i)!.kind === 'rt' ? ctx.rtAny(i) : ctx.input(i)!));
    if ((a.kind === 'shape' || b.kind === 'shape') && c.kind === 'const') return whereSizes(ctx, c, a, b);
    const type = onnxTypeOf([a, b].find((v) => v.kind === 'rt') ?? a);
    const float = FLOAT_TYPES.has(type);
    if ([a, b].some((v) => v.kind === 'rt' && (v.dtype === 'float32') !== float))
      throw new NodeProblem('the two choices have different element types', 'invalid-graph');
    const storage: Storage = float ? 'float32' : commonStorage([a, b]);
    const y = lowerWhere(ctx, c.kind === 'rt' ? toBool(ctx, c) : c, a, b, storage);
    ctx.output(0, { ...y, onnx: type === storage ? undefined : type });
  },
};

/** Where choosing between sizes (shape subgraphs) by a condition known at compile time: sizes. */
function whereSizes(ctx: Parameters<OpHandler['lower']>[0], c: Value, a: Value, b: Value): void {
  const sizes = (v: Value): Size[] | undefined =>
    v.kind === 'shape' ? v.values : v.kind === 'const' && !v.tensor.isFloat ? Array.from(v.tensor.numbers) : undefined;
  const [vc, va, vb] = [c.kind === 'const' ? Array.from(c.tensor.numbers) : undefined, sizes(a), sizes(b)];
  if (!vc || !va || !vb) throw new NodeProblem('Where over shapes needs a condition known at compile time');
  const n = Math.max(vc.length, va.length, vb.length);
  const at = <T>(v: T[], i: number) => v[v.length === 1 ? 0 : i];
  if ([vc, va, vb].some((v) => v.length !== 1 && v.length !== n))
    throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
  const dims = [c, a, b].some((v) => dimsOf(v).length === 1) ? [n] : [];
  ctx.outputSizes(
    0,
    dims,
    Array.from({ length: n }, (_, i) => (at(vc, i) ? at(va, i) : at(vb, i))),
  );
}

export const WHERE_OPS: Record<string, OpHandler> = { Where: where };
