import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import {
  Tensor,
  broadcastShapes as tensorBroadcast,
  broadcastStrides as tensorStrides,
  stridedView,
} from '../tensor.js';
import { asFloat } from './binary.js';
import { broadcastTo } from './expand.js';
import { dimsOf } from './movement.js';
import { broadcastRows } from '../lowering/rows.js';
import { buf, i32, type RtValue, type Value } from '../program.js';
import { broadcastShapes, shapeToString, type SizeCheck } from '../shape/shapes.js';
import { product, type Size } from '../shape/size.js';

/**
 * Where: an elementwise choice between two operands, broadcast to one shape first. The kernel selects
 * 4-byte words, so float32 and int32 operands pass exactly; the condition is read as 1/0 floats.
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
    if (a.kind === 'shape' || b.kind === 'shape') return whereSizes(ctx, c, a, b);
    const storage = (v: Value) =>
      v.kind === 'rt' ? v.dtype : v.kind === 'const' && !v.tensor.isFloat ? 'int32' : 'float32';
    const dtype = storage(a) === 'float32' && storage(b) === 'float32' ? 'float32' : 'int32';
    if ([a, b].some((v) => v.kind === 'rt' && v.dtype !== 'float32' && v.dtype !== 'int32'))
      throw new NodeProblem('Where between int64, uint8 or int8 values computed at run time is not supported yet');
    if (storage(a) !== storage(b))
      throw new NodeProblem('the two choices have different element types', 'invalid-graph');
    const checks: SizeCheck[] = [];
    const out = [c, a, b].map(dimsOf).reduce<Size[] | null>((s, d) => s && broadcastShapes(s, d, checks), []);
    if (!out)
      throw new NodeProblem(
        `shapes ${[c, a, b].map((v) => shapeToString(dimsOf(v))).join(', ')} do not broadcast`,
        'invalid-graph',
      );
    for (const k of checks) ctx.require(k.a, k.b, k.message);
    const cond = c.kind === 'rt' ? asFloat(ctx, c) : c;
    const [cc, aa, bb] = [cond, a, b].map((v) => broadcastTo(ctx, v, out));
    const y: RtValue = { ...ctx.newValue(out, dtype), rowAxis: broadcastRows([c, a, b], out.length) };
    const first = [a, b].find((v): v is RtValue => v.kind === 'rt');
    if (first?.onnx) y.onnx = first.onnx;
    ctx.program.addStep(
      'where',
      () => ({ cond: buf(cc), a: buf(aa), b: buf(bb), y: buf(y), n: i32(product(out)) }),
      [cc, aa, bb],
      [y],
    );
    ctx.output(0, y);
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
