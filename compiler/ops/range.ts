import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, i32, slot, type RtValue, type Storage } from '../program.js';
import { ceilDiv, isConst, max, sub, type Size } from '../shape/size.js';
import { Tensor, checkShape } from '../tensor.js';
import { ELEM_KIND, operand } from './operands.js';
import { computedSize } from './select.js';

/**
 * Range, three ways: folded when start, limit and delta are constants; over sizes (a shape subgraph's
 * `Range(0, seq)`) its length an expression, so it stays equal to the dimension it came from; and over
 * values computed at run time, its length a computed size the kernel writes (bounded by default like an
 * input dimension, or by `--dim`). Each computes as onnxruntime does: the length from the difference in
 * the element type, the values accumulated in it.
 */

/** The element types Range runs on. */
const KINDS: Partial<Record<Storage, number>> = {
  float32: CODES.ELEM.F32,
  int32: CODES.ELEM.I32,
  int64: CODES.ELEM.I64,
};

/** Shape values with fewer entries than this stay sizes; longer ones are written at run time. */
const MAX_SIZES = 64;

const range: OpHandler = {
  inputs: 'start limit delta',
  fold(_ctx, [start, limit, delta]) {
    const float = start!.dtype === 'float32';
    const round = float ? Math.fround : (v: number) => v;
    const [s, l, d] = [start!.numbers[0], limit!.numbers[0], delta!.numbers[0]];
    if (d === 0) throw new NodeProblem('delta is 0; a range needs a non-zero step', 'invalid-graph');
    const n = Math.max(Math.ceil(round(l - s) / d), 0);
    if (!Number.isFinite(n))
      throw new NodeProblem(`a range from ${s} to ${l} in steps of ${d} never ends`, 'invalid-graph');
    checkShape([n], 'the range');
    const values = new Float64Array(n);
    for (let i = 0, v = s; i < n; i++, v = round(v + d)) values[i] = v;
    return [Tensor.fromNumbers(start!.dtype, [n], values)];
  },
  lower(ctx) {
    const inputs = [0, 1, 2].map((i) => ctx.input(i)!);
    if (inputs.every((v) => v.kind !== 'rt')) return rangeOfSizes(ctx);
    const [s, l, d] = [0, 1, 2].map((i) => operand(ctx, i, ['start', 'limit', 'delta'][i]));
    const kind = KINDS[s.dtype];
    if (kind === undefined) throw new NodeProblem(`Range over ${s.onnx} values is not supported`);
    if (l.dtype !== s.dtype || d.dtype !== s.dtype)
      throw new NodeProblem('start, limit and delta differ in element type', 'invalid-graph');
    const n = computedSize(ctx, 0, 0, Infinity);
    const y: RtValue = { ...ctx.newValue([n], s.dtype), rowAxis: 'none' };
    const step = ctx.program.addStep(
      'range',
      () => ({
        start: s.ptr,
        limit: l.ptr,
        delta: d.ptr,
        y: buf(y),
        kind: i32(kind),
        count: slot(n),
        max: i32(ctx.symbols.upper(n)),
      }),
      [...s.reads, ...l.reads, ...d.reads],
      [y],
    );
    step.valueCheck = {
      message: `Range "${ctx.node.name}": delta is 0 or the bounds are not finite, so the range has no length`,
    };
    ctx.output(0, y);
  },
};

/** Range over sizes: start and limit may be symbolic, delta a known non-zero integer. */
function rangeOfSizes(ctx: NodeContext): void {
  const [s, l, d] = [0, 1, 2].map((i) => ctx.sizes(i, ['start', 'limit', 'delta'][i])[0]);
  if (!isConst(d) || d === 0) throw new NodeProblem('a range over sizes needs a known, non-zero delta');
  const n = max(0, d > 0 ? ceilDiv(sub(l, s), d) : ceilDiv(sub(s, l), -d));
  const t = ctx.input(0)!;
  const dtype: Storage = t.kind === 'const' && t.tensor.dtype === 'int32' ? 'int32' : 'int64';
  if (isConst(n) && n <= MAX_SIZES && dtype === 'int64') {
    const values: Size[] = Array.from({ length: n }, (_, i) => (isConst(s) ? s + i * d : sub(s, -i * d)));
    return ctx.outputSizes(0, [n], values);
  }
  const y: RtValue = { ...ctx.newValue([n], dtype), rowAxis: 'none' };
  ctx.program.addStep(
    'iota',
    () => ({ y: buf(y), n: i32(n), start: i32(s), delta: i32(d), kind: i32(ELEM_KIND[dtype]) }),
    [],
    [y],
  );
  ctx.output(0, y);
}

export const RANGE_OPS: Record<string, OpHandler> = { Range: range };
