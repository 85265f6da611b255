import { meaning, type OpHandler } from './op.js';
import { constPerRow, stridedCopy } from './strided.js';
import { BATCH, NodeContext, normalizeAxis } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, product, stridedView, stridesOf } from '../tensor.js';
import { asInts } from './args.js';
import { physicalDims, toPlain } from '../lowering/layout.js';
import { type Arg, type RtValue, type Value, batchAxisOf, buf, countArg, data, i32 } from '../program.js';

/**
 * Ops that move data without arithmetic: Concat, Split, Slice, Gather, Transpose, Expand. At run time each is
 * one strided-copy kernel call (or one per gathered index).
 */

export function dimsOf(v: Value): number[] {
  return v.kind === 'rt' ? v.dims : v.tensor.dims;
}

function checkBatchAxis(x: RtValue, axis: number, what: string): void {
  if (axis === batchAxisOf(x)) throw new NodeProblem(`${what} along axis ${axis} mixes the rows of a batch`, 'batch');
}

/** The same value with its batch on `axis` (undefined for 0, the usual place). */
export const onAxis = (v: RtValue, axis: number): RtValue => ({ ...v, batchAxis: axis > 0 ? axis : undefined });

// ---- shapes ----------------------------------------------------------------------------------------

const concat: OpHandler = {
  inputs: '...inputs',
  fold(ctx, inputs) {
    const ts = inputs.filter((t): t is Tensor => !!t);
    const axis = normalizeAxis(ctx.int('axis', 0), ts[0].dims.length);
    const outDims = [...ts[0].dims];
    outDims[axis] = ts.reduce((s, t) => s + t.dims[axis], 0);
    const outer = product(outDims.slice(0, axis));
    const inner = product(outDims.slice(axis + 1));
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
    if (inputs.some((v) => batchAxisOf(v) > 0) && inputs.some((v) => v.kind === 'rt' && v.layout))
      throw new NodeProblem('channels-last images with a moved batch', 'batch');
    ctx.output(0, lowerConcat(ctx, inputs, ctx.int('axis', 0)));
  },
};

/** Concatenate run-time (and, without a batch, constant) values: one strided copy per input. */
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
  {
    const first = inputs.find((v): v is RtValue => v.kind === 'rt')!;
    const axis = normalizeAxis(axisAttr, first.dims.length);
    checkBatchAxis(first, axis, 'Concat');
    if (inputs.some((v) => v.kind === 'rt' && batchAxisOf(v) !== batchAxisOf(first)))
      throw new NodeProblem('the inputs have their batches on different axes', 'batch');
    const outDims = [...first.dims];
    outDims[axis] = inputs.reduce((s, v) => s + dimsOf(v)[axis], 0);
    const y = onAxis(ctx.newValue(outDims, first.batched, first.dtype), batchAxisOf(first));
    const inner = product(outDims.slice(axis + 1));
    const outer = product(outDims.slice(0, axis));
    const count: Arg = first.batched ? { t: 'rows', times: outer } : i32(outer);
    let offset = 0;
    for (let v of inputs) {
      const chunk = dimsOf(v)[axis] * inner;
      const at = offset;
      if (
        v.kind === 'const' &&
        first.batched &&
        batchAxisOf(first) <= 0 &&
        v.tensor.dims.length === outDims.length &&
        v.tensor.dims[0] === 1
      ) {
        // One row's worth of constant next to a batch (a class token expanded to the batch size, as
        // vision transformers do, folds to this): repeat it for every row.
        v = constPerRow(ctx, v.tensor, v.tensor.dims);
      }
      if (v.kind === 'const') {
        if (first.batched)
          throw new NodeProblem('concatenating a constant to a batched tensor is not supported', 'batch');
        const ref = ctx.program.addFloats(v.tensor.toFloat32());
        ctx.program.addStep(
          'copy_blocks',
          () => ({
            x: data(ref),
            y: buf(y, at * 4),
            count,
            chunk: i32(chunk),
            srcStride: i32(chunk),
            dstStride: i32(outDims[axis] * inner),
          }),
          [],
          [y],
        );
      } else {
        if (v.batched !== first.batched || v.dims.length !== outDims.length)
          throw new NodeProblem('inputs differ in rank or batching', 'invalid-graph');
        ctx.program.addStep(
          'copy_blocks',
          () => ({
            x: buf(v),
            y: buf(y, at * 4),
            count,
            chunk: i32(chunk),
            srcStride: i32(chunk),
            dstStride: i32(outDims[axis] * inner),
          }),
          [v],
          [y],
        );
      }
      offset += chunk;
    }
    return y;
  }
}

interface SliceSpec {
  outDims: number[];
  strides: number[];
  offset: number;
}

/** Slice semantics (clamping, negative indices and steps) as element strides over the input. */
function sliceSpec(
  dims: number[],
  starts: number[],
  ends: number[],
  axes: number[] | undefined,
  steps: number[] | undefined,
): SliceSpec {
  const inStrides = stridesOf(dims);
  const outDims = [...dims];
  const strides = [...inStrides];
  let offset = 0;
  const ax = axes ?? starts.map((_, i) => i);
  ax.forEach((a0, i) => {
    const a = normalizeAxis(a0, dims.length);
    const d = dims[a];
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new NodeProblem('a slice step of 0', 'invalid-graph');
    let s = starts[i] >= BATCH ? d : starts[i];
    let e = ends[i] >= BATCH ? d : ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const n = Math.max(0, Math.ceil((e - s) / step));
    outDims[a] = n;
    strides[a] = inStrides[a] * step;
    offset += s * inStrides[a];
  });
  return { outDims, strides, offset };
}

function sliceArgs(ctx: NodeContext): [number[], number[], number[] | undefined, number[] | undefined] {
  if (ctx.opset < 10) return [ctx.ints('starts') ?? [], ctx.ints('ends') ?? [], ctx.ints('axes'), undefined];
  return [
    asInts(ctx.constant(1, 'starts'))!,
    asInts(ctx.constant(2, 'ends'))!,
    asInts(ctx.optionalConstant(3, 'axes')),
    asInts(ctx.optionalConstant(4, 'steps')),
  ];
}

const slice: OpHandler = {
  inputs: (opset) => (opset >= 10 ? 'data starts! ends! axes?! steps?!' : 'data'),
  fold(ctx, [x]) {
    const { outDims, strides, offset } = sliceSpec(x!.dims, ...sliceArgs(ctx));
    return [stridedView(x!, outDims, strides, offset)];
  },
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const args = sliceArgs(ctx);
    const spec = sliceSpec(x.dims, ...args);
    const ba = batchAxisOf(x);
    if (ba >= 0 && (spec.outDims[ba] !== x.dims[ba] || spec.strides[ba] !== stridesOf(x.dims)[ba]))
      throw new NodeProblem('slicing along the batch axis', 'batch');
    // The batch dim is 1 here, so a slice such as [0:3] of it looks whole: only [0:end-or-more] with step 1 keeps every row.
    const [starts, ends, axes, steps] = args;
    (axes ?? starts.map((_, i) => i)).forEach((a, i) => {
      if (ba < 0 || normalizeAxis(a, x.dims.length) !== ba) return;
      const whole = (starts[i] === 0 || starts[i] <= -BATCH) && ends[i] >= BATCH && (steps?.[i] ?? 1) === 1;
      if (!whole) throw new NodeProblem(`slicing the batch axis [${starts[i]}:${ends[i]}]`, 'batch');
    });
    ctx.output(0, onAxis(stridedCopy(ctx, x, spec.outDims, spec.strides, spec.offset), ba));
  },
};

function splitSizes(ctx: NodeContext, d: number): number[] {
  const given = ctx.opset >= 13 ? asInts(ctx.optionalConstant(1, 'split')) : ctx.ints('split');
  if (given?.length) return given;
  const n =
    ctx.opset >= 18 && ctx.attr('num_outputs') !== undefined ? ctx.int('num_outputs', 1) : ctx.node.outputs.length;
  const size = Math.ceil(d / n);
  return Array.from({ length: n }, (_, i) => Math.min(size, d - i * size));
}

const split: OpHandler = {
  inputs: (opset) => (opset >= 13 ? 'input split?!' : 'input'),
  fold(ctx, [x]) {
    const axis = normalizeAxis(ctx.int('axis', 0), x!.dims.length);
    let start = 0;
    return splitSizes(ctx, x!.dims[axis]).map((n) => {
      const starts = [start];
      start += n;
      const s = sliceSpec(x!.dims, starts, [start], [axis], undefined);
      return stridedView(x!, s.outDims, s.strides, s.offset);
    });
  },
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const axis = normalizeAxis(ctx.int('axis', 0), x.dims.length);
    checkBatchAxis(x, axis, 'Split');
    let start = 0;
    splitSizes(ctx, x.dims[axis]).forEach((n, i) => {
      const s = sliceSpec(x.dims, [start], [start + n], [axis], undefined);
      start += n;
      if (ctx.isOutputUsed(i))
        ctx.output(i, onAxis(stridedCopy(ctx, x, s.outDims, s.strides, s.offset), batchAxisOf(x)));
    });
  },
};

const gather: OpHandler = {
  inputs: 'data indices',
  fold(ctx, [x, idx]) {
    const axis = normalizeAxis(ctx.int('axis', 0), x!.dims.length);
    return [gatherConst(x!, axis, Array.from(idx!.numbers), idx!.dims)];
  },
  lower(ctx) {
    if (ctx.input(0)?.kind === 'const') return lowerLookup(ctx);
    const x = ctx.rtAny(0, true);
    const idx = ctx.constant(1, 'indices');
    const axis = normalizeAxis(ctx.int('axis', 0), x.dims.length);
    checkBatchAxis(x, axis, 'Gather');
    const ba = batchAxisOf(x);
    // The gathered axis is replaced by the indices' dims: later axes shift.
    const shifted = ba < 0 ? -1 : ba < axis ? ba : ba + idx.dims.length - 1;
    if (shifted > 0) ctx.movedBatch(shifted, 'Gather');
    const d = x.dims[axis];
    const indices = Array.from(idx.numbers, (i) => (i < 0 ? i + d : i));
    if (indices.some((i) => i < 0 || i >= d))
      throw new NodeProblem(`indices out of range for axis of size ${d}`, 'invalid-graph');
    const strides = stridesOf(x.dims);
    if (idx.dims.length === 0) {
      // One index: a slice with the axis removed.
      const outDims = x.dims.filter((_, i) => i !== axis);
      return ctx.output(
        0,
        onAxis(
          stridedCopy(
            ctx,
            x,
            outDims,
            strides.filter((_, i) => i !== axis),
            indices[0] * strides[axis],
          ),
          shifted,
        ),
      );
    }
    const outDims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
    const y = ctx.newValue(outDims, x.batched, x.dtype);
    const inner = product(x.dims.slice(axis + 1));
    const outer = product(x.dims.slice(0, axis));
    const count: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
    indices.forEach((i, j) => {
      ctx.program.addStep(
        'copy_blocks',
        () => ({
          x: buf(x, i * inner * 4),
          y: buf(y, j * inner * 4),
          count,
          chunk: i32(inner),
          srcStride: i32(d * inner),
          dstStride: i32(indices.length * inner),
        }),
        [x],
        [y],
      );
    });
    ctx.output(0, onAxis({ ...y, categories: x.categories }, shifted));
  },
};

/**
 * Gather from a constant table by run-time indices (LocalOutlierFactor's per-neighbour statistics, an
 * embedding lookup): rows of the table along axis 0. A 1-D table of strings labels the indices instead.
 */
function lowerLookup(ctx: NodeContext): void {
  const table = ctx.constant(0, 'data');
  const idx = ctx.rtAny(1, true);
  const axis = normalizeAxis(ctx.int('axis', 0), table.dims.length);
  if (axis !== 0)
    throw new NodeProblem(
      `a constant table gathered along axis ${axis} by run-time indices is not supported (axis 0 is)`,
    );
  if (idx.dtype === 'float32') throw new NodeProblem('the indices are not integers', 'invalid-graph');
  if (idx.categories?.some((c, i) => c !== i))
    throw new NodeProblem('indexing a table by class labels is not supported');
  if (table.dtype === 'string') {
    if (table.dims.length !== 1) throw new NodeProblem('a string table must be 1-D');
    return ctx.output(0, { ...ctx.alias(idx, idx.dims), categories: table.data as string[] });
  }
  const inner = product(table.dims.slice(1));
  const dtype = table.isFloat ? 'float32' : 'int32';
  const values = ctx.program.addData(
    new Uint8Array((dtype === 'float32' ? table.toFloat32() : Int32Array.from(table.numbers)).buffer),
  );
  const y = ctx.newValue([...idx.dims, ...table.dims.slice(1)], idx.batched, dtype);
  y.batchAxis = idx.batchAxis;
  const count = countArg(idx);
  ctx.program.addStep(
    'gather_rows',
    () => ({ idx: buf(idx), table: data(values), y: buf(y), count, inner: i32(inner), rows: i32(table.dims[0]) }),
    [idx],
    [y],
  );
  ctx.output(0, y);
}

function gatherConst(x: Tensor, axis: number, indices: number[], idxDims: number[]): Tensor {
  const d = x.dims[axis];
  const outer = product(x.dims.slice(0, axis));
  const inner = product(x.dims.slice(axis + 1));
  const values: (number | string)[] = [];
  for (let o = 0; o < outer; o++)
    for (const i0 of indices) {
      const i = i0 < 0 ? i0 + d : i0;
      for (let k = 0; k < inner; k++) values.push(x.data[(o * d + i) * inner + k]);
    }
  const outDims = [...x.dims.slice(0, axis), ...idxDims, ...x.dims.slice(axis + 1)];
  return x.dtype === 'string'
    ? new Tensor('string', outDims, values as string[])
    : Tensor.fromNumbers(x.dtype, outDims, values as number[]);
}

/** Transpose's perm: a permutation of the axes (default: reversed). */
function transposePerm(ctx: NodeContext, rank: number): number[] {
  const perm = ctx.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (
    perm.length !== rank ||
    perm.some((p, i) => !Number.isInteger(p) || p < 0 || p >= rank || perm.indexOf(p) !== i)
  ) {
    throw new NodeProblem(
      `perm [${perm.slice(0, 8)}${perm.length > 8 ? ',…' : ''}] is not a permutation of the ${rank} axes of its input`,
      'invalid-graph',
    );
  }
  return perm;
}

const transpose: OpHandler = {
  inputs: 'data',
  fold(ctx, [x]) {
    const perm = transposePerm(ctx, x!.dims.length);
    const s = stridesOf(x!.dims);
    return [
      stridedView(
        x!,
        perm.map((p) => x!.dims[p]),
        perm.map((p) => s[p]),
        0,
      ),
    ];
  },
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const perm = transposePerm(ctx, x.dims.length);
    const ba = batchAxisOf(x);
    const moved = ba < 0 ? -1 : ctx.movedBatch(perm.indexOf(ba), `Transpose with perm [${perm}]`);
    if (perm.every((p, i) => p === i)) return ctx.output(0, x);
    const s = stridesOf(x.dims);
    ctx.output(
      0,
      onAxis(
        stridedCopy(
          ctx,
          x,
          perm.map((p) => x.dims[p]),
          perm.map((p) => s[p]),
          0,
        ),
        moved,
      ),
    );
  },
};

// ---- expand / where / constants --------------------------------------------------------------------

export const MOVEMENT_OPS: Record<string, OpHandler> = {
  Concat: meaning(concat, { passes: 'all-inputs' }),
  Split: split,
  Slice: slice,
  Gather: gather,
  Transpose: transpose,
};
