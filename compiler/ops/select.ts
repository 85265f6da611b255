import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { buf, data, i32, slot, type RtValue } from '../program.js';
import { isConst, product, type Size } from '../shape/size.js';
import { Tensor, stridesOf } from '../tensor.js';
import { ELEM_KIND, bytesOfElement, numericOperand, operand, valueLike, type Operand } from './operands.js';

/**
 * NonZero, Compress and Unique: outputs whose size only the data tells. Each size is a computed symbol
 * (SymbolTable.computed) named after the output dimension it sizes (`y[1]` for NonZero's count), bounded
 * by what the input can give; the kernel writes it, and a call whose count exceeds a tighter `--dim`
 * bound fails with shape-out-of-bounds. With a constant condition, Compress is a plain gather.
 */

/** A computed size for output `out`'s dimension `axis`, at most `bound`. */
export function computedSize(ctx: NodeContext, out: number, axis: number, bound: Size | number): Size {
  const name = `${ctx.node.outputs[out] || ctx.node.name || ctx.node.opType}[${axis}]`;
  return ctx.symbols.computed(name, typeof bound === 'number' ? bound : ctx.symbols.upper(bound));
}

/** The bound the kernel must not write past, as planned (read when the call is emitted). */
const boundOf = (ctx: NodeContext, s: Size) => i32(ctx.symbols.upper(s));

const nonZero: OpHandler = {
  inputs: 'X',
  fold(_ctx, [x]) {
    const dims = x!.dims.length ? x!.dims : [1];
    const strides = stridesOf(dims);
    const hits = Array.from(x!.numbers.keys()).filter((i) => x!.numbers[i] !== 0);
    const out = dims.flatMap((n, d) => hits.map((i) => Math.floor(i / strides[d]) % n));
    return [Tensor.fromNumbers('int64', [dims.length, hits.length], out)];
  },
  lower(ctx) {
    const x = operand(ctx, 0, 'X');
    const dims = x.dims.length ? x.dims : [1];
    const n = product(dims);
    const k = computedSize(ctx, 0, 1, n);
    const y: RtValue = ctx.newValue([dims.length, k], 'int64');
    const table = ctx.program.addTable(dims);
    ctx.program.addStep(
      'nonzero',
      () => ({
        x: x.ptr,
        y: buf(y),
        n: i32(n),
        rank: i32(dims.length),
        table,
        kind: i32(ELEM_KIND[x.dtype]),
        count: slot(k),
        max: boundOf(ctx, k),
      }),
      x.reads,
      [y],
    );
    ctx.output(0, y);
  },
};

/** The [outer, len, inner] view of an op along an optional axis (none: the flattened tensor). */
function axisView(ctx: NodeContext, dims: Size[]): { axis?: number; outer: Size; len: Size; inner: Size } {
  const given = ctx.attr('axis') !== undefined;
  if (!given) return { outer: 1, len: product(dims), inner: 1 };
  const axis = normalizeAxis(ctx.int('axis', 0), dims.length);
  return { axis, outer: product(dims.slice(0, axis)), len: dims[axis], inner: product(dims.slice(axis + 1)) };
}

/** The output dims when the op's axis (or the flattened tensor) takes `n` entries. */
const resized = (dims: Size[], axis: number | undefined, n: Size): Size[] =>
  axis === undefined ? [n] : dims.map((d, i) => (i === axis ? n : d));

const compress: OpHandler = {
  inputs: 'input condition',
  fold(ctx, [x, cond]) {
    const view = axisView(ctx, x!.dims) as { axis?: number; outer: number; len: number; inner: number };
    const keep = Array.from({ length: Math.min(view.len, cond!.size) }, (_, j) => j).filter((j) => cond!.numbers[j]);
    const values: number[] = [];
    for (let o = 0; o < view.outer; o++)
      for (const j of keep)
        for (let i = 0; i < view.inner; i++) values.push(x!.numbers[(o * view.len + j) * view.inner + i]);
    return [Tensor.fromNumbers(x!.dtype, resized(x!.dims, view.axis, keep.length) as number[], values)];
  },
  lower(ctx) {
    const x = operand(ctx, 0, 'input');
    const cond = operand(ctx, 1, 'condition');
    if (cond.onnx !== 'bool') throw new NodeProblem(`the condition holds ${cond.onnx}, not bool`, 'invalid-graph');
    if (cond.dims.length !== 1) throw new NodeProblem('the condition must be 1-D', 'invalid-graph');
    const view = axisView(ctx, x.dims);
    const c = ctx.input(1)!;
    const len = view.len;
    if (c.kind === 'const' && isConst(len)) return compressByConstant(ctx, x, c.tensor, { ...view, len });
    const k = computedSize(ctx, 0, view.axis ?? 0, view.len);
    const y = valueLike(ctx, resized(x.dims, view.axis, k), x);
    ctx.program.addStep(
      'compress',
      () => ({
        x: x.ptr,
        cond: cond.ptr,
        y: buf(y),
        outer: i32(view.outer),
        len: i32(view.len),
        inner: i32(view.inner),
        condLen: i32(cond.dims[0]),
        elemBytes: i32(bytesOfElement(x)),
        count: slot(k),
        max: boundOf(ctx, k),
      }),
      [...x.reads, ...cond.reads],
      [y],
    );
    ctx.output(0, y);
  },
};

/** Compress by a constant condition: a gather of the kept positions (their number known now). */
function compressByConstant(
  ctx: NodeContext,
  x: Operand,
  cond: Tensor,
  view: { axis?: number; outer: Size; len: number; inner: Size },
): void {
  const keep = Array.from({ length: Math.min(view.len, cond.size) }, (_, j) => j).filter((j) => cond.numbers[j]);
  const idx = ctx.program.addData(new Uint8Array(BigInt64Array.from(keep.map(BigInt)).buffer));
  const y = valueLike(ctx, resized(x.dims, view.axis, keep.length), x);
  ctx.program.addStep(
    'gather_axis',
    () => ({
      x: x.ptr,
      idx: data(idx),
      y: buf(y),
      outer: i32(view.outer),
      axis: i32(view.len),
      inner: i32(view.inner),
      count: i32(keep.length),
      idxBytes: i32(8),
      elemBytes: i32(bytesOfElement(x)),
    }),
    x.reads,
    [y],
  );
  ctx.output(0, y);
}

const unique: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const x = numericOperand(ctx, 0, 'X');
    const view = axisView(ctx, x.dims);
    const k = computedSize(ctx, 0, view.axis ?? 0, view.len);
    const y = valueLike(ctx, resized(x.dims, view.axis, k), x);
    const first = ctx.newValue([k], 'int64');
    const inverse = ctx.newValue([view.len], 'int64');
    const counts = ctx.newValue([k], 'int64');
    const scratch = ctx.newValue([view.len, 3], 'int32');
    ctx.program.addStep(
      'unique',
      () => ({
        x: x.ptr,
        y: buf(y),
        first: buf(first),
        inverse: buf(inverse),
        counts: buf(counts),
        outer: i32(view.outer),
        len: i32(view.len),
        inner: i32(view.inner),
        sorted: i32(ctx.int('sorted', 1) ? 1 : 0),
        kind: i32(ELEM_KIND[x.dtype]),
        scratch: buf(scratch),
        count: slot(k),
        max: boundOf(ctx, k),
      }),
      x.reads,
      [y, first, inverse, counts, scratch],
    );
    [y, first, inverse, counts].forEach((v, i) => ctx.output(i, v));
  },
};

export const SELECT_OPS: Record<string, OpHandler> = {
  NonZero: nonZero,
  Compress: compress,
  Unique: unique,
};
