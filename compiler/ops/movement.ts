import { meaning, type OpHandler } from './op.js';
import { constantAs, constantTensor, runtimeInput, stridedCopy } from './strided.js';
import { runtimeSlice, runtimeSplitSizes, sliceAtRunTime } from './run-slice.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { rowsOf } from '../lowering/rows.js';
import { NodeProblem } from '../errors.js';
import { Tensor, stridedView } from '../tensor.js';
import { toPlain, physicalDims } from '../lowering/layout.js';
import { buf, data, ELEMENT_BYTES, i32, type RtValue, type Value } from '../program.js';
import { stridesOf, shapeToString } from '../shape/shapes.js';
import { add, ceilDiv, isConst, max, min, mul, product, sameSize, sub, sum, type Size } from '../shape/size.js';
import { MAX_DIM } from '../shape/symbols.js';
import { concatAxis } from './legacy.js';

/**
 * Ops that move data without arithmetic: Concat, Split, Slice, Gather, Transpose. At run time each is one
 * strided-copy kernel call (or one per input or gathered index). On shape values (sizes from Shape) they
 * stay symbolic at compile time.
 */

export function dimsOf(v: Value): Size[] {
  return v.kind === 'const' ? v.tensor.dims : v.dims;
}

/** The sizes of a shape value or an integer constant of rank ≤ 1, else undefined. */
function sizesOf(v: Value): { dims: number[]; values: Size[] } | undefined {
  if (v.kind === 'shape') return v;
  if (v.kind === 'const' && !v.tensor.isFloat && v.tensor.dtype !== 'string' && v.tensor.dims.length <= 1)
    return { dims: v.tensor.dims, values: Array.from(v.tensor.numbers) };
  return undefined;
}

const concat: OpHandler = {
  inputs: '...inputs',
  fold(ctx, inputs) {
    const ts = inputs.filter((t): t is Tensor => !!t);
    const axis = normalizeAxis(concatAxis(ctx), ts[0].dims.length);
    const outDims = [...ts[0].dims];
    outDims[axis] = ts.reduce((s, t) => s + t.dims[axis], 0);
    const outer = outDims.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = outDims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const values: (number | string)[] = [];
    for (let o = 0; o < outer; o++) {
      for (const t of ts) {
        const chunk = t.dims[axis] * inner;
        for (let i = 0; i < chunk; i++) values.push(t.data[o * chunk + i]);
      }
    }
    return [
      ts[0].dtype === 'string'
        ? new Tensor('string', outDims, values as string[])
        : Tensor.fromNumbers(ts[0].dtype, outDims, values as number[]),
    ];
  },
  lower(ctx) {
    const inputs = Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i)).filter((v): v is Value => !!v);
    // Shapes built from parts (`[x.size(0), -1]`) stay sizes.
    const parts = inputs.map(sizesOf);
    if (parts.every((p) => p && p.dims.length === 1))
      return ctx.outputSizes(
        0,
        [parts.reduce((n, p) => n + p!.values.length, 0)],
        parts.flatMap((p) => p!.values),
      );
    ctx.output(0, lowerConcat(ctx, inputs, concatAxis(ctx)));
  },
};

/** Concatenate run-time (and constant) values along an axis: one block copy per input. */
export function lowerConcat(ctx: NodeContext, inputs: Value[], axisAttr: number): RtValue {
  const images = inputs.filter((v): v is RtValue => v.kind === 'rt' && v.layout === 'nhwc');
  if (images.length) {
    const rank = images[0].dims.length;
    // Channel concat of channels-last images (SqueezeNet's fire modules) is a last-axis concat in memory.
    if (
      images.length === inputs.length &&
      images.every((v) => v.dims.length === rank) &&
      normalizeAxis(axisAttr, rank) === 1
    ) {
      const y = lowerConcat(
        ctx,
        images.map((v) => ({ ...v, dims: physicalDims(v.dims), layout: undefined })),
        rank - 1,
      );
      return { ...y, dims: [y.dims[0], y.dims[rank - 1], ...y.dims.slice(1, rank - 1)], layout: 'nhwc' };
    }
    inputs = inputs.map((v) => (v.kind === 'rt' ? toPlain(ctx.program, v) : v));
  }
  const first = inputs.find((v): v is RtValue => v.kind === 'rt')!;
  const rank = first.dims.length;
  const axis = normalizeAxis(axisAttr, rank);
  const rows = inputs.map(rowsOf).filter((r) => r !== 'none');
  const rowAxis: RtValue['rowAxis'] =
    rows.length === 0 ? 'none' : rows.every((r) => r === rows[0]) && rows[0] !== axis ? rows[0] : undefined;
  if (inputs.some((v) => dimsOf(v).length !== rank))
    throw new NodeProblem('the inputs differ in rank', 'invalid-graph');
  const outDims = [...first.dims];
  outDims[axis] = sum(inputs.map((v) => dimsOf(v)[axis]));
  // The other dims must agree (a constant's 1 along the rows stands for every row: repeated per row).
  const prepared = inputs.map((v) => {
    const d = dimsOf(v);
    const target = d.map((s, i) => (i === axis ? s : outDims[i]));
    if (v.kind === 'const') {
      const repeatsRows = typeof rowAxis === 'number' && ctx.rowsFromOne && d[rowAxis] === 1;
      d.forEach((s, i) => {
        if (i !== axis && !(repeatsRows && i === rowAxis) && !sameSize(s, outDims[i]))
          ctx.require(
            s,
            outDims[i],
            `input dims ${shapeToString(d)} must match ${shapeToString(outDims)} off axis ${axis}`,
          );
      });
      return constantAs(ctx, v.tensor, target, first.dtype);
    }
    if (v.kind === 'shape')
      throw new NodeProblem('concatenating a shape computed at run time with tensors is not supported');
    d.forEach((s, i) => {
      if (i !== axis && !sameSize(s, outDims[i]))
        ctx.require(
          s,
          outDims[i],
          `input dims ${shapeToString(d)} must match ${shapeToString(outDims)} off axis ${axis}`,
        );
    });
    return v;
  });
  const y = { ...ctx.newValue(outDims, first.dtype), onnx: first.onnx, rowAxis };
  const bytes = ELEMENT_BYTES[first.dtype];
  // 4- and 8-byte elements move as words; bytes (bool, uint8, int8) as bytes.
  const words = bytes % 4 === 0 ? bytes / 4 : 1;
  const inner = product(outDims.slice(axis + 1));
  const outer = product(outDims.slice(0, axis));
  let offset: Size = 0;
  for (const v of prepared) {
    const chunk = mul(dimsOf(v)[axis], inner);
    const at = offset;
    const args = () => ({
      x: buf(v),
      y: buf(y, mul(at, bytes)),
      count: i32(outer),
      chunk: i32(mul(chunk, words)),
      srcStride: i32(mul(chunk, words)),
      dstStride: i32(mul(mul(outDims[axis], inner), words)),
    });
    if (bytes % 4 === 0) ctx.program.addStep('copy_blocks', args, [v], [y]);
    else ctx.program.addStep('copy_blocks_sized', () => ({ ...args(), elemSize: i32(bytes) }), [v], [y]);
    offset = add(offset, chunk);
  }
  return y;
}

interface SliceSpec {
  outDims: Size[];
  strides: Size[];
  offset: Size;
}

/** A slice bound as given: a huge constant stands for ±∞ (INT64_MAX is the usual "to the end"). */
function bound(v: Size, d: Size): Size {
  if (!isConst(v)) return v;
  if (v >= MAX_DIM) return d;
  if (v <= -MAX_DIM) return -MAX_DIM;
  return v < 0 ? add(v, d) : v;
}

const clamp = (v: Size, lo: Size, hi: Size): Size => min(max(v, lo), hi);

/** Slice semantics (clamping, negative indices and steps) as element strides over the input. */
function sliceSpec(
  dims: Size[],
  starts: Size[],
  ends: Size[],
  axes: number[] | undefined,
  steps: Size[] | undefined,
): SliceSpec {
  const lengths = [starts.length, ends.length, axes?.length ?? starts.length, steps?.length ?? starts.length];
  if (lengths.some((n) => n !== starts.length))
    throw new NodeProblem(
      `starts, ends, axes and steps must have one entry per sliced axis (they have ${lengths.join(', ')})`,
      'invalid-graph',
    );
  const inStrides = stridesOf(dims);
  const outDims = [...dims];
  const strides = [...inStrides];
  let offset: Size = 0;
  const ax = axes ?? starts.map((_, i) => i);
  ax.forEach((a0, i) => {
    const a = normalizeAxis(a0, dims.length);
    const d = dims[a];
    const step = steps?.[i] ?? 1;
    if (!isConst(step)) throw new NodeProblem('a slice step must be a constant');
    if (step === 0) throw new NodeProblem('a slice step of 0', 'invalid-graph');
    let s = bound(starts[i], d);
    let e = bound(ends[i], d);
    if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
    } else {
      s = clamp(s, -1, sub(d, 1));
      e = clamp(e, -1, sub(d, 1));
    }
    const n = max(0, step > 0 ? ceilDiv(sub(e, s), step) : ceilDiv(sub(s, e), -step));
    outDims[a] = n;
    strides[a] = mul(inStrides[a], step);
    offset = add(offset, mul(s, inStrides[a]));
  });
  return { outDims, strides, offset };
}

function sliceArgs(ctx: NodeContext): [Size[], Size[], number[] | undefined, Size[] | undefined] {
  if (ctx.opset < 10) return [ctx.ints('starts') ?? [], ctx.ints('ends') ?? [], ctx.ints('axes'), undefined];
  const axes = ctx.optionalSizes(3, 'axes');
  if (axes && !axes.every(isConst)) throw new NodeProblem('slice axes must be constants');
  return [ctx.sizes(1, 'starts'), ctx.sizes(2, 'ends'), axes as number[] | undefined, ctx.optionalSizes(4, 'steps')];
}

/** The rows stay where they were unless the op cuts along their axis (a whole, step-1 slice keeps them). */
function slicedRows(x: RtValue, spec: SliceSpec): number | 'none' | undefined {
  const r = x.rowAxis;
  if (typeof r !== 'number') return r;
  return sameSize(spec.outDims[r], x.dims[r]) && sameSize(spec.strides[r], stridesOf(x.dims)[r]) ? r : undefined;
}

const slice: OpHandler = {
  inputs: (opset) => (opset >= 10 ? 'data starts ends axes? steps?' : 'data'),
  fold(ctx, [x]) {
    const { outDims, strides, offset } = sliceSpec(x!.dims, ...sliceArgs(ctx));
    return [stridedView(x!, outDims as number[], strides as number[], offset as number)];
  },
  lower(ctx) {
    const v = ctx.input(0)!;
    if (sliceAtRunTime(ctx) && v.kind !== 'shape') {
      const x = runtimeInput(ctx, 0);
      const spec = runtimeSlice(ctx, x);
      return ctx.output(0, {
        ...stridedCopy(ctx, x, spec.outDims, spec.strides, spec.offset),
        rowAxis: slicedRows(x, spec),
      });
    }
    const args = sliceArgs(ctx);
    if (v.kind === 'shape') {
      const spec = sliceSpec(v.dims, ...args);
      if (!spec.outDims.every(isConst) || !spec.strides.every(isConst) || !isConst(spec.offset))
        throw new NodeProblem('slicing a shape at positions known only at run time is not supported');
      const picked = Array.from(
        { length: spec.outDims[0] as number },
        (_, i) => v.values[(spec.offset as number) + i * (spec.strides[0] as number)],
      );
      return ctx.outputSizes(0, spec.outDims as number[], picked);
    }
    const x = ctx.rtAny(0);
    const spec = sliceSpec(x.dims, ...args);
    ctx.output(0, { ...stridedCopy(ctx, x, spec.outDims, spec.strides, spec.offset), rowAxis: slicedRows(x, spec) });
  },
};

function splitSizes(ctx: NodeContext, d: Size): Size[] {
  // Split-1 takes the sizes as an attribute or as a second input; 2–12 as the attribute; 13 on as the input.
  const given = ctx.opset >= 13 || (ctx.opset < 2 && ctx.input(1)) ? ctx.optionalSizes(1, 'split') : ctx.ints('split');
  if (given?.length) return given;
  const n =
    ctx.opset >= 18 && ctx.attr('num_outputs') !== undefined ? ctx.int('num_outputs', 1) : ctx.node.outputs.length;
  const size = ceilDiv(d, n);
  return Array.from({ length: n }, (_, i) => max(0, min(size, sub(d, mul(i, size)))));
}

const split: OpHandler = {
  inputs: (opset) => (opset >= 13 || opset < 2 ? 'input split?' : 'input'),
  fold(ctx, [x]) {
    const axis = normalizeAxis(ctx.int('axis', 0), x!.dims.length);
    let start = 0;
    return splitSizes(ctx, x!.dims[axis]).map((n) => {
      const starts = [start];
      start += n as number;
      const s = sliceSpec(x!.dims, starts, [start], [axis], undefined);
      return stridedView(x!, s.outDims as number[], s.strides as number[], s.offset as number);
    });
  },
  lower(ctx) {
    const x = ctx.rtAny(0);
    const axis = normalizeAxis(ctx.int('axis', 0), x.dims.length);
    let start: Size = 0;
    const given = ctx.input(1)?.kind === 'rt' && (ctx.opset >= 13 || ctx.opset < 2);
    const count = ctx.node.outputs.length;
    const sizes = given ? runtimeSplitSizes(ctx, x.dims[axis], count, axis) : splitSizes(ctx, x.dims[axis]);
    if (isConst(x.dims[axis]) && sizes.every(isConst) && sum(sizes) !== x.dims[axis])
      throw new NodeProblem(`split sizes [${sizes}] do not add up to the axis's ${x.dims[axis]}`, 'invalid-graph');
    sizes.forEach((n, i) => {
      const s = sliceSpec(x.dims, [start], [add(start, n)], [axis], undefined);
      start = add(start, n);
      if (ctx.isOutputUsed(i))
        ctx.output(i, { ...stridedCopy(ctx, x, s.outDims, s.strides, s.offset), rowAxis: slicedRows(x, s) });
    });
  },
};

const gather: OpHandler = {
  inputs: 'data indices',
  fold(ctx, [x, idx]) {
    const axis = normalizeAxis(ctx.int('axis', 0), x!.dims.length);
    if (idx!.isFloat || idx!.dtype === 'string')
      throw new NodeProblem(`indices are ${idx!.dtype}; Gather takes int32 or int64 indices`, 'invalid-graph');
    return [gatherConst(x!, axis, Array.from(idx!.numbers), idx!.dims)];
  },
  lower(ctx) {
    const data0 = ctx.input(0)!;
    const indices = ctx.input(1)!;
    const axis = normalizeAxis(ctx.int('axis', 0), dimsOf(data0).length);
    if (indices.kind === 'const' && (indices.tensor.isFloat || indices.tensor.dtype === 'string'))
      throw new NodeProblem(
        `indices are ${indices.tensor.dtype}; Gather takes int32 or int64 indices`,
        'invalid-graph',
      );
    if (indices.kind === 'rt' && indices.dtype !== 'int32' && indices.dtype !== 'int64')
      throw new NodeProblem(
        `indices are ${indices.onnx ?? indices.dtype}; Gather takes int32 or int64 indices`,
        'invalid-graph',
      );
    if (data0.kind === 'shape') {
      // Gather from a shape by constant indices (`x.shape[0]`): sizes.
      const idx = ctx.constant(1, 'indices');
      const n = data0.values.length;
      const picked = Array.from(idx.numbers, (i) => data0.values[i < 0 ? i + n : i]);
      if (picked.some((p) => p === undefined))
        throw new NodeProblem(`indices out of range for a shape of ${n}`, 'invalid-graph');
      return ctx.outputSizes(0, idx.dims, picked);
    }
    if (data0.kind === 'const' && indices.kind === 'rt') return lowerLookup(ctx, axis);
    if (data0.kind === 'const') return lowerRuntimeGather(ctx, axis);
    if (indices.kind === 'const') return lowerConstantGather(ctx, axis, indices.tensor);
    lowerRuntimeGather(ctx, axis);
  },
};

/** Gather along an axis by constant indices: one block copy per index (a slice for a scalar index). */
function lowerConstantGather(ctx: NodeContext, axis: number, idx: Tensor): void {
  const x = ctx.rtAny(0);
  const d = x.dims[axis];
  const indices = Array.from(idx.numbers, (i): Size => (i < 0 ? add(i, d) : i));
  if (isConst(d) && indices.some((i) => (i as number) < 0 || (i as number) >= d))
    throw new NodeProblem(`indices out of range for an axis of size ${d}`, 'invalid-graph');
  // The indexed axis is replaced by the indices' dims: rows elsewhere shift; rows on it are mixed.
  const r = x.rowAxis;
  const rowAxis = typeof r === 'number' ? (r === axis ? undefined : r < axis ? r : r + idx.dims.length - 1) : r;
  const strides = stridesOf(x.dims);
  if (idx.dims.length === 0) {
    const outDims = x.dims.filter((_, i) => i !== axis);
    const y = stridedCopy(
      ctx,
      x,
      outDims,
      strides.filter((_, i) => i !== axis),
      mul(indices[0], strides[axis]),
    );
    return ctx.output(0, { ...y, rowAxis });
  }
  const outDims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
  const y = { ...ctx.newValue(outDims, x.dtype), onnx: x.onnx, categories: x.categories, rowAxis };
  // 4- and 8-byte elements move as words; bytes (bool, uint8, int8) as bytes.
  const bytes = ELEMENT_BYTES[x.dtype];
  const [unit, words] = bytes % 4 === 0 ? [4, bytes / 4] : [1, bytes];
  const inner = mul(product(x.dims.slice(axis + 1)), words);
  const outer = product(x.dims.slice(0, axis));
  indices.forEach((i, j) => {
    const args = () => ({
      x: buf(x, mul(mul(i, inner), unit)),
      y: buf(y, mul(j * unit, inner)),
      count: i32(outer),
      chunk: i32(inner),
      srcStride: i32(mul(d, inner)),
      dstStride: i32(mul(indices.length, inner)),
    });
    if (unit === 4) ctx.program.addStep('copy_blocks', args, [x], [y]);
    else ctx.program.addStep('copy_blocks_sized', () => ({ ...args(), elemSize: i32(1) }), [x], [y]);
  });
  ctx.output(0, y);
}

/** Gather by run-time indices (i32 or i64) along any axis of run-time or constant data. */
function lowerRuntimeGather(ctx: NodeContext, axis: number): void {
  const v = ctx.input(0)!;
  const x = v.kind === 'const' ? constantTensor(ctx, v.tensor) : ctx.rtAny(0);
  const idx = ctx.rtAny(1);
  if (idx.dtype !== 'int32' && idx.dtype !== 'int64')
    throw new NodeProblem('the indices are not integers', 'invalid-graph');
  const bytes = ELEMENT_BYTES[x.dtype];
  const outDims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
  const r = x.rowAxis;
  const fromIndices =
    typeof idx.rowAxis === 'number' && (r === 'none' || v.kind === 'const') ? axis + idx.rowAxis : undefined;
  const rowAxis: RtValue['rowAxis'] =
    fromIndices ??
    (typeof r === 'number' && r < axis && idx.rowAxis === 'none'
      ? r
      : r === 'none' && idx.rowAxis === 'none'
        ? 'none'
        : undefined);
  const y = { ...ctx.newValue(outDims, x.dtype), onnx: x.onnx, rowAxis };
  ctx.program.addStep(
    'gather_axis',
    () => ({
      x: buf(x),
      idx: buf(idx),
      y: buf(y),
      outer: i32(product(x.dims.slice(0, axis))),
      axis: i32(x.dims[axis]),
      inner: i32(product(x.dims.slice(axis + 1))),
      count: i32(product(idx.dims)),
      idxBytes: i32(ELEMENT_BYTES[idx.dtype]),
      elemBytes: i32(bytes),
    }),
    [x, idx],
    [y],
  );
  ctx.output(0, y);
}

/**
 * Gather from a constant table by run-time indices (LocalOutlierFactor's per-neighbour statistics, an
 * embedding lookup) along axis 0. A 1-D table of strings labels the indices instead.
 */
function lowerLookup(ctx: NodeContext, axis: number): void {
  const table = ctx.constant(0, 'data');
  const idx = ctx.rtAny(1);
  if (idx.dtype === 'float32') throw new NodeProblem('the indices are not integers', 'invalid-graph');
  if (table.dtype === 'string') {
    if (table.dims.length !== 1 || axis !== 0) throw new NodeProblem('a string table must be 1-D');
    if (idx.categories?.some((c, i) => c !== i))
      throw new NodeProblem('indexing a table by class labels is not supported');
    return ctx.output(0, { ...ctx.alias(idx, idx.dims), categories: table.data as string[] });
  }
  if (axis !== 0 || idx.dtype !== 'int32' || idx.categories?.some((c, i) => c !== i))
    return lowerRuntimeGather(ctx, axis);
  const inner = product(table.dims.slice(1));
  const dtype = table.isFloat ? 'float32' : 'int32';
  const values = ctx.program.addData(
    new Uint8Array((dtype === 'float32' ? table.toFloat32() : Int32Array.from(table.numbers)).buffer),
  );
  const y = { ...ctx.newValue([...idx.dims, ...table.dims.slice(1)], dtype), rowAxis: idx.rowAxis };
  if (!table.isFloat) y.onnx = table.dtype;
  ctx.program.addStep(
    'gather_rows',
    () => ({
      idx: buf(idx),
      table: data(values),
      y: buf(y),
      count: i32(product(idx.dims)),
      inner: i32(inner),
      rows: i32(table.dims[0]),
    }),
    [idx],
    [y],
  );
  ctx.output(0, y);
}

function gatherConst(x: Tensor, axis: number, indices: number[], idxDims: number[]): Tensor {
  const d = x.dims[axis];
  const outer = x.dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const values: (number | string)[] = [];
  for (let o = 0; o < outer; o++)
    for (const i0 of indices) {
      const i = i0 < 0 ? i0 + d : i0;
      if (i < 0 || i >= d)
        throw new NodeProblem(`index ${i0} is out of range for an axis of size ${d}`, 'invalid-graph');
      for (let k = 0; k < inner; k++) values.push(x.data[(o * d + i) * inner + k]);
    }
  const outDims = [...x.dims.slice(0, axis), ...idxDims, ...x.dims.slice(axis + 1)];
  return x.dtype === 'string'
    ? new Tensor('string', outDims, values as string[])
    : Tensor.fromNumbers(x.dtype, outDims, values as number[]);
}

export const MOVEMENT_OPS: Record<string, OpHandler> = {
  Concat: meaning(concat, { passes: 'all-inputs' }),
  Split: split,
  Slice: slice,
  Gather: gather,
};
