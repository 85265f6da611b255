import type { OpHandler } from './op.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { buf, data, i32, slot, type PtrArg, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, min, product, sameSize, type Size } from '../shape/size.js';
import { Tensor } from '../tensor.js';
import {
  ELEM_KIND,
  bytesOfElement,
  indexOperand,
  numericOperand,
  operand,
  valueLike,
  type Operand,
} from './operands.js';
import { computedSize } from './select.js';

/**
 * Ops along one axis or by position: TopK and CumSum on any axis, OneHot, Trilu, ReverseSequence. A
 * count they take as a tensor (TopK's K, OneHot's depth) may be computed at run time: it is read into a
 * computed size (read_count), checked against what the op allows before the op runs.
 */

/** An i64 scalar in the data segment, as a kernel's address argument. */
const int64Data = (ctx: NodeContext, v: number): PtrArg =>
  data(ctx.program.addData(new Uint8Array(BigInt64Array.of(BigInt(v)).buffer)));

/**
 * A count given as input i: a number or size when known at compile time, else a computed size read from
 * the tensor at run time (at most `bound`) for output `out`'s dimension `axis`.
 */
function countInput(ctx: NodeContext, i: number, what: string, out: number, axis: number, bound: Size | number): Size {
  const v = ctx.input(i)!;
  if (v.kind === 'shape') return v.values[0];
  if (v.kind === 'const') {
    if (v.tensor.size !== 1) throw new NodeProblem(`${what} must hold one value`, 'invalid-graph');
    return Math.trunc(v.tensor.numbers[0]);
  }
  const t = operand(ctx, i, what);
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'int64')
    throw new NodeProblem(`${what} holds ${t.onnx}; it must be a number`, 'invalid-graph');
  const k = computedSize(ctx, out, axis, bound);
  ctx.program.addStep(
    'read_count',
    () => ({ x: t.ptr, kind: i32(ELEM_KIND[t.dtype]), wrap: i32(0), count: slot(k) }),
    t.reads,
    [],
  );
  return k;
}

/** TopK's values kinds: floats and 32/64-bit integers. */
function sortable(x: Operand): void {
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'int64')
    throw new NodeProblem(`TopK on ${x.onnx} values is not supported`);
}

const topK: OpHandler = {
  inputs: (opset) => (opset >= 10 ? 'X K' : 'X'),
  lower(ctx) {
    const x = numericOperand(ctx, 0, 'X');
    sortable(x);
    const rank = x.dims.length;
    const axis = normalizeAxis(ctx.int('axis', -1), rank);
    const len = x.dims[axis];
    const k = ctx.opset >= 10 ? countInput(ctx, 1, 'K', 0, axis, len) : ctx.int('k', 1);
    if (isConst(k) && (k < 0 || (isConst(len) && k > len)))
      throw new NodeProblem(`k = ${k} is outside 0..${sizeOf(len)}`, 'invalid-graph');
    if (!isConst(k) || !isConst(len)) ctx.require(min(k, len), k, `k must be at most the axis's size ${sizeOf(len)}`);
    const dims = x.dims.map((d, i) => (i === axis ? k : d));
    const r = x.rowAxis;
    const rowAxis = typeof r === 'number' && r === axis ? undefined : r;
    const values = valueLike(ctx, dims, x, rowAxis);
    // Indices held as int32 (the runtime hands them out as int64): the class-index paths read them.
    const indices: RtValue = { ...ctx.newValue(dims, 'int32'), onnx: 'int64', rowAxis };
    const scratch = ctx.newValue([len, 2], 'int32');
    ctx.program.addStep(
      'topk_axis',
      () => ({
        x: x.ptr,
        vals: buf(values),
        idx: buf(indices),
        outer: i32(product(x.dims.slice(0, axis))),
        len: i32(len),
        inner: i32(product(x.dims.slice(axis + 1))),
        K: i32(k),
        largest: i32(ctx.int('largest', 1) ? 1 : 0),
        kind: i32(ELEM_KIND[x.dtype]),
        idxBytes: i32(4),
        scratch: buf(scratch),
      }),
      x.reads,
      [values, indices, scratch],
    );
    ctx.output(0, values);
    ctx.output(1, indices);
  },
};

const sizeOf = (s: Size) => (isConst(s) ? String(s) : shapeToString([s]).slice(1, -1));

/** CumSum along any axis (a constant, or a tensor read at run time), inclusive/exclusive, forward/reverse. */
const cumSum: OpHandler = {
  inputs: 'x axis',
  fold(ctx, [x, a]) {
    const rank = x!.dims.length;
    const axis = normalizeAxis(Number(a!.numbers[0]), rank);
    const [exclusive, reverse] = [ctx.int('exclusive', 0), ctx.int('reverse', 0)];
    const outer = x!.dims.slice(0, axis).reduce((p, d) => p * d, 1);
    const len = x!.dims[axis];
    const inner = x!.dims.slice(axis + 1).reduce((p, d) => p * d, 1);
    const out = Tensor.fromNumbers(x!.dtype, x!.dims, x!.numbers);
    const src = x!.numbers;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let s = 0; s < len; s++) {
          const at = (o * len + (reverse ? len - 1 - s : s)) * inner + i;
          if (!exclusive) acc = wrapSum(x!.dtype, acc, src[at]);
          out.numbers[at] = acc;
          if (exclusive) acc = wrapSum(x!.dtype, acc, src[at]);
        }
      }
    return [out];
  },
  lower(ctx) {
    const x = numericOperand(ctx, 0, 'x');
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'int64')
      throw new NodeProblem(`CumSum of ${x.onnx} values is not supported`);
    const rank = x.dims.length;
    if (rank < 1) throw new NodeProblem('CumSum of a scalar', 'invalid-graph');
    const a = ctx.input(1)!;
    let axisPtr: PtrArg;
    let axisBytes = 8;
    let known: number | undefined;
    if (a.kind === 'rt') {
      const t = indexOperand(ctx, 1, 'axis');
      axisPtr = t.ptr;
      axisBytes = bytesOfElement(t);
    } else {
      known = normalizeAxis(Number(ctx.constant(1, 'axis').numbers[0]), rank);
      axisPtr = int64Data(ctx, known);
    }
    const r = x.rowAxis;
    const rowAxis = known !== undefined && r !== known ? r : r === 'none' ? 'none' : undefined;
    const y = valueLike(ctx, x.dims, x, rowAxis);
    const table = ctx.program.addTable(x.dims);
    const step = ctx.program.addStep(
      'cumsum',
      () => ({
        x: x.ptr,
        y: buf(y),
        rank: i32(rank),
        table,
        axis: axisPtr,
        axisBytes: i32(axisBytes),
        exclusive: i32(ctx.int('exclusive', 0) ? 1 : 0),
        reverse: i32(ctx.int('reverse', 0) ? 1 : 0),
        kind: i32(ELEM_KIND[x.dtype]),
      }),
      [...x.reads, ...(a.kind === 'rt' ? [ctx.rtAny(1)] : [])],
      [y],
    );
    step.valueCheck = {
      message: `CumSum "${ctx.node.name}": the axis in "${ctx.node.inputs[1]}" is outside [${-rank}, ${rank - 1}] (element {index})`,
    };
    ctx.output(0, y);
  },
};

/** a + b in the element type (int32 wraps; floats round to float32 when stored). */
const wrapSum = (dtype: string, a: number, b: number) => (dtype === 'int32' ? (a + b) | 0 : a + b);

const oneHot: OpHandler = {
  inputs: 'indices depth values',
  lower(ctx) {
    const idx = operand(ctx, 0, 'indices');
    if (idx.dtype !== 'float32' && idx.dtype !== 'int32' && idx.dtype !== 'int64')
      throw new NodeProblem(`the indices hold ${idx.onnx}; OneHot takes float32, int32 or int64 indices`);
    const values = operand(ctx, 2, 'values');
    if (values.dims.length !== 1 || (isConst(values.dims[0]) && values.dims[0] !== 2))
      throw new NodeProblem('values must be [off_value, on_value]', 'invalid-graph');
    const rank = idx.dims.length + 1;
    const axis = normalizeAxis(ctx.int('axis', -1), rank);
    const depth = countInput(ctx, 1, 'depth', 0, axis, Infinity);
    if (isConst(depth) && depth < 1) throw new NodeProblem(`depth ${depth} must be at least 1`, 'invalid-graph');
    const dims = [...idx.dims.slice(0, axis), depth, ...idx.dims.slice(axis)];
    const r = idx.rowAxis;
    const y = valueLike(ctx, dims, values, typeof r === 'number' ? (r < axis ? r : r + 1) : r);
    ctx.program.addStep(
      'one_hot_axis',
      () => ({
        idx: idx.ptr,
        values: values.ptr,
        y: buf(y),
        outer: i32(product(idx.dims.slice(0, axis))),
        depth: i32(depth),
        inner: i32(product(idx.dims.slice(axis))),
        kind: i32(ELEM_KIND[idx.dtype]),
        elemBytes: i32(bytesOfElement(values)),
      }),
      [...idx.reads, ...values.reads],
      [y],
    );
    ctx.output(0, y);
  },
};

const trilu: OpHandler = {
  inputs: 'input k?',
  fold(ctx, [x, k]) {
    const [N, M] = x!.dims.slice(-2);
    const diag = k ? Number(k.numbers[0]) : 0;
    const upper = ctx.int('upper', 1) !== 0;
    const values = Array.from(x!.numbers, (v, p) => {
      const c = p % M;
      const r = Math.floor(p / M) % N;
      return (upper ? c - r >= diag : c - r <= diag) ? v : 0;
    });
    return [Tensor.fromNumbers(x!.dtype, x!.dims, values)];
  },
  lower(ctx) {
    const x = operand(ctx, 0, 'input');
    const rank = x.dims.length;
    if (rank < 2) throw new NodeProblem('Trilu takes a tensor of rank ≥ 2', 'invalid-graph');
    const kv = ctx.input(1);
    let k: PtrArg = int64Data(ctx, 0);
    const reads = [...x.reads];
    if (kv?.kind === 'rt') {
      const t = indexOperand(ctx, 1, 'k');
      if (t.dtype !== 'int64') throw new NodeProblem('k must be int64', 'invalid-graph');
      k = t.ptr;
      reads.push(...t.reads);
    } else if (kv) {
      k = int64Data(ctx, Number(ctx.constant(1, 'k').numbers[0]));
    }
    const src = ctx.input(0)!.kind === 'rt' ? ctx.rtAny(0) : undefined;
    const y: RtValue = { ...ctx.inPlaceOr(src, x.dims, x.dtype), rowAxis: rank > 2 ? x.rowAxis : undefined };
    if (x.onnx !== x.dtype) y.onnx = x.onnx;
    const [N, M] = x.dims.slice(-2);
    if (typeof y.rowAxis === 'number' && y.rowAxis >= rank - 2) y.rowAxis = undefined;
    ctx.program.addStep(
      'trilu',
      () => ({
        x: x.ptr,
        y: buf(y),
        batches: i32(product(x.dims.slice(0, -2))),
        N: i32(N),
        M: i32(M),
        k,
        upper: i32(ctx.int('upper', 1) ? 1 : 0),
        elemBytes: i32(bytesOfElement(x)),
      }),
      reads,
      [y],
    );
    ctx.output(0, y);
  },
};

const reverseSequence: OpHandler = {
  inputs: 'input sequence_lens',
  lower(ctx) {
    const x = operand(ctx, 0, 'input');
    const lens = indexOperand(ctx, 1, 'sequence_lens');
    const [timeAxis, batchAxis] = [ctx.int('time_axis', 0), ctx.int('batch_axis', 1)];
    if (x.dims.length < 2 || !((timeAxis === 0 && batchAxis === 1) || (timeAxis === 1 && batchAxis === 0)))
      throw new NodeProblem(
        `time_axis ${timeAxis} and batch_axis ${batchAxis} must be 0 and 1 (in either order) of a tensor of rank ≥ 2`,
        'invalid-graph',
      );
    const [T, B] = [x.dims[timeAxis], x.dims[batchAxis]];
    if (lens.dims.length !== 1) throw new NodeProblem('sequence_lens must be 1-D', 'invalid-graph');
    if (!sameSize(lens.dims[0], B)) {
      if (isConst(lens.dims[0]) && isConst(B))
        throw new NodeProblem('one sequence length per batch entry', 'invalid-graph');
      ctx.require(lens.dims[0], B, 'one sequence length per batch entry');
    }
    const y = valueLike(ctx, x.dims, x, undefined);
    const step = ctx.program.addStep(
      'reverse_sequence',
      () => ({
        x: x.ptr,
        y: buf(y),
        lens: lens.ptr,
        T: i32(T),
        B: i32(B),
        inner: i32(product(x.dims.slice(2))),
        timeAxis: i32(timeAxis),
        lensBytes: i32(bytesOfElement(lens)),
        elemBytes: i32(bytesOfElement(x)),
      }),
      [...x.reads, ...lens.reads],
      [y],
    );
    step.valueCheck = {
      message: `ReverseSequence "${ctx.node.name}": a length in "${ctx.node.inputs[1]}" is outside 0..${sizeOf(T)} (element {index})`,
    };
    ctx.output(0, y);
  },
};

export const INDEXING_OPS: Record<string, OpHandler> = {
  TopK: topK,
  CumSum: cumSum,
  OneHot: oneHot,
  Trilu: trilu,
  ReverseSequence: reverseSequence,
};
