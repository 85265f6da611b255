import { CODES } from '../abi/codes.js';
import type { FamilyKernel } from '../abi/kernels.js';
import { NodeProblem } from '../errors.js';
import { physicalDims, toPlain } from '../layout.js';
import { BATCH, normalizeAxis, type NodeContext } from '../lower.js';
import { batchAxisOf, buf, countArg, data, f32, i32, type Arg, type RtValue, type Value } from '../program.js';
import { broadcastShapes, broadcastStrides, checkShape, product, stridedView, stridesOf, Tensor } from '../tensor.js';
import { asFloat, lowerBinary } from './elementwise.js';
import type { OpHandler } from './index.js';

/**
 * Ops that move data without arithmetic (Shape, Squeeze/Unsqueeze, Concat, Split, Slice, Gather,
 * Transpose, Expand, Where) and reductions. Shape subgraphs fold at compile time, with the batch
 * size as the BATCH sentinel; at run time, copies are one strided-copy kernel call each.
 */

const asInts = (t: Tensor | undefined): number[] | undefined => (t ? Array.from(t.numbers) : undefined);

/** Axes from the attribute (older opsets) or the input (newer). */
function axesOf(ctx: NodeContext, inputIndex: number, sinceOpset: number): number[] | undefined {
  return ctx.opset >= sinceOpset ? asInts(ctx.optionalConstant(inputIndex, 'axes')) : ctx.ints('axes');
}

function dimsOf(v: Value): number[] {
  return v.kind === 'rt' ? v.dims : v.tensor.dims;
}

/**
 * y (contiguous, `outDims`) = x read at `strides` from element `offset`: the `transpose` kernel, whose
 * table is [R, dims, strides] with dim 0 replaced by the run-time row count.
 */
function stridedCopy(ctx: NodeContext, x: RtValue, outDims: number[], strides: number[], offset: number): RtValue {
  const dims = outDims.length ? outDims : [1];
  const s = outDims.length ? strides : [0];
  const y = ctx.newValue(dims, x.batched, x.dtype);
  const table = ctx.program.addInts([dims.length, ...dims, ...s]);
  const rows: Arg = x.batched ? { t: 'rows', times: dims[0] } : i32(dims[0]);
  ctx.program.addStep('strided_copy', () => ({ x: buf(x, offset * 4), y: buf(y), rows, table: data(table) }), [x], [y]);
  return { ...y, categories: x.categories };
}

function checkBatchAxis(x: RtValue, axis: number, what: string): void {
  if (axis === batchAxisOf(x)) throw new NodeProblem(`${what} along axis ${axis} mixes the rows of a batch`, 'batch');
}

/** The same value with its batch on `axis` (undefined for 0, the usual place). */
const onAxis = (v: RtValue, axis: number): RtValue => ({ ...v, batchAxis: axis > 0 ? axis : undefined });

// ---- shapes ----------------------------------------------------------------------------------------

const shape: OpHandler = {
  fold: (ctx, [x]) => [shapeTensor(ctx, x!.dims)],
  lower(ctx) {
    const x = ctx.rtLayout(0, true);
    ctx.output(0, { kind: 'const', tensor: shapeTensor(ctx, x.dims, batchAxisOf(x)) });
  },
};

function shapeTensor(ctx: NodeContext, dims: number[], batchAxis = -1): Tensor {
  const full = dims.map((d, i) => (i === batchAxis ? BATCH * d : d));
  const r = full.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = ctx.opset >= 15 ? clamp(ctx.int('start', 0)) : 0;
  const end = ctx.opset >= 15 ? clamp(ctx.int('end', r)) : r;
  return Tensor.fromNumbers('int64', [Math.max(end - start, 0)], full.slice(start, end));
}

function unsqueezeDims(dims: number[], axes: number[]): number[] {
  const rank = dims.length + axes.length;
  const set = new Set(axes.map((a) => normalizeAxis(a, rank)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : dims[j++]);
  return out;
}

const unsqueeze: OpHandler = {
  fold(ctx, [x]) {
    return [x!.reshape(unsqueezeDims(x!.dims, axesOf(ctx, 1, 13) ?? []))];
  },
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const axes = (axesOf(ctx, 1, 13) ?? []).map((a) =>
      normalizeAxis(a, x.dims.length + (axesOf(ctx, 1, 13) ?? []).length),
    );
    const y = ctx.alias(x, unsqueezeDims(x.dims, axes));
    const ba = batchAxisOf(x);
    if (ba < 0) return ctx.output(0, y);
    // The batch dim keeps its place among the original dims.
    const kept = y.dims.map((_, i) => i).filter((i) => !axes.includes(i));
    ctx.output(0, onAxis(y, ctx.movedBatch(kept[ba], 'inserting an axis before the batch')));
  },
};

function squeezeDims(dims: number[], axes: number[] | undefined, keepFirst: boolean): number[] {
  const set = axes ? new Set(axes.map((a) => normalizeAxis(a, dims.length))) : null;
  for (const a of set ?? [])
    if (dims[a] !== 1) throw new NodeProblem(`cannot squeeze axis ${a} of size ${dims[a]}`, 'invalid-graph');
  return dims.filter((d, i) => (keepFirst && i === 0) || !(set ? set.has(i) : d === 1));
}

const squeeze: OpHandler = {
  fold: (ctx, [x]) => [x!.reshape(squeezeDims(x!.dims, axesOf(ctx, 1, 13), false))],
  lower(ctx) {
    const x = ctx.rtAny(0, true);
    const ba = batchAxisOf(x);
    const given = axesOf(ctx, 1, 13)?.map((a) => normalizeAxis(a, x.dims.length));
    if (given?.includes(ba)) throw new NodeProblem('squeezing the batch axis', 'batch');
    // Without axes every size-1 dim goes, except the batch's.
    const axes = given ?? x.dims.flatMap((d, i) => (d === 1 && i !== ba ? [i] : []));
    const y = ctx.alias(x, squeezeDims(x.dims, axes, false));
    ctx.output(0, ba < 0 ? y : onAxis(y, ba - axes.filter((a) => a < ba).length));
  },
};

// ---- concat / split / slice / gather ---------------------------------------------------------------

const concat: OpHandler = {
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
        images.map((v) => ({ ...v, dims: physicalDims(v.dims), layout: undefined, gemm: undefined })),
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

/**
 * A constant of a known shape folds. One whose first dimension is the batch (k·N, from Shape of a
 * batched value: skl2onnx's PolynomialFeatures makes its bias column this way) becomes a batched
 * run-time value, filled each run.
 */
const constantOfShape: OpHandler = {
  lower(ctx) {
    const dims = Array.from(ctx.constant(0, 'shape').numbers);
    const value = ctx.attr('value');
    const t = value instanceof Tensor ? value : Tensor.scalar('float32', 0);
    if (!dims.some((d) => d >= BATCH)) {
      return ctx.output(0, {
        kind: 'const',
        tensor: Tensor.fromNumbers(
          t.dtype,
          dims,
          new Float64Array(checkShape(dims, 'the constant')).fill(t.numbers[0]),
        ),
      });
    }
    const perRow = dims[0] / BATCH;
    if (!Number.isInteger(perRow) || dims.slice(1).some((d) => d >= BATCH))
      throw new NodeProblem('a constant the size of the batch', 'batch');
    if (!t.isFloat) throw new NodeProblem('an integer constant the size of the batch is not supported');
    const y = ctx.newValue([perRow, ...dims.slice(1)], true);
    ctx.program.addStep(
      'fill',
      () => ({ y: buf(y), n: { t: 'rows', times: product(y.dims) }, v: f32(t.numbers[0]) }),
      [],
      [y],
    );
    ctx.output(0, y);
  },
};

const range: OpHandler = {
  fold(_ctx, [start, limit, delta]) {
    const [s, l, d] = [start!.numbers[0], limit!.numbers[0], delta!.numbers[0]];
    if ([s, l, d].some((v) => Math.abs(v) >= BATCH)) throw new NodeProblem('a range as long as the batch', 'batch');
    const n = Math.max(Math.ceil((l - s) / d), 0);
    if (!Number.isFinite(n))
      throw new NodeProblem(`a range from ${s} to ${l} in steps of ${d} never ends`, 'invalid-graph');
    checkShape([n], 'the range');
    return [
      Tensor.fromNumbers(
        start!.dtype,
        [n],
        Array.from({ length: n }, (_, i) => s + i * d),
      ),
    ];
  },
  lower() {
    throw new NodeProblem('start, limit and delta must be known at compile time');
  },
};

/** The target of Expand with the batch sentinel read as 1 (a batched value already spans the batch). */
function expandTarget(t: Tensor): number[] {
  return Array.from(t.numbers, (d) => (d >= BATCH ? 1 : d));
}

/** Broadcast a value to `outDims` as a contiguous copy (stride 0 along broadcast axes). */
export function broadcastTo(ctx: NodeContext, v: Value, outDims: number[], batched: boolean): RtValue {
  if (v.kind === 'const') {
    const t = v.tensor;
    const strides = broadcastStrides(t.dims, outDims);
    const expanded = stridedView(t, outDims, strides, 0);
    if (!batched) {
      // A static-shape run-time copy of a constant: materialise from the data segment.
      const y = ctx.newValue(outDims, false);
      const ref = ctx.program.addFloats(expanded.toFloat32());
      ctx.program.addStep('copy', () => ({ x: data(ref), y: buf(y), nbytes: i32(expanded.size * 4) }), [], [y]);
      return y;
    }
    throw new NodeProblem('broadcasting a constant over the batch needs a run-time input', 'batch');
  }
  const strides = broadcastStrides(v.dims, outDims);
  if (v.batched) strides[0] = product(v.dims.slice(1));
  if (v.dims.length === outDims.length && v.dims.every((d, i) => d === outDims[i])) return v;
  return stridedCopy(ctx, v, outDims, strides, 0);
}

const expand: OpHandler = {
  fold(_ctx, [x, shapeT]) {
    const out = broadcastShapes(x!.dims, expandTarget(shapeT!));
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    return [stridedView(x!, out, broadcastStrides(x!.dims, out), 0)];
  },
  lower(ctx) {
    const x = ctx.rtAny(0);
    const target = ctx.constant(1, 'shape');
    const out = broadcastShapes(x.dims, expandTarget(target));
    if (!out) throw new NodeProblem('shapes do not broadcast', 'invalid-graph');
    if (x.batched && out.length !== x.dims.length)
      throw new NodeProblem('expanding to a higher rank moves the batch axis', 'batch');
    // A literal size on the batch axis (not 1, not the batch itself) fixes the batch size.
    const onBatch = target.size === x.dims.length ? target.numbers[0] : 1;
    if (x.batched && onBatch !== 1 && onBatch < BATCH)
      throw new NodeProblem(`the target shape fixes the batch size to ${onBatch}`, 'batch');
    ctx.output(0, broadcastTo(ctx, x, out, x.batched));
  },
};

const where: OpHandler = {
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

/** A constant operand next to batched ones: repeat it for every row with a stride-0 batch copy. */
export function constPerRow(ctx: NodeContext, t: Tensor, out: number[]): Value {
  const dims = [1, ...out.slice(1)];
  const expanded = stridedView(t, dims, broadcastStrides(t.dims, dims), 0);
  const src = ctx.newValue(dims, false);
  const ref = ctx.program.addFloats(expanded.toFloat32());
  ctx.program.addStep('copy', () => ({ x: data(ref), y: buf(src), nbytes: i32(expanded.size * 4) }), [], [src]);
  const y = ctx.newValue(dims, true);
  const table = ctx.program.addInts([dims.length, ...dims, 0, ...stridesOf(dims).slice(1)]);
  ctx.program.addStep(
    'strided_copy',
    () => ({ x: buf(src), y: buf(y), rows: { t: 'rows', times: 1 }, table: data(table) }),
    [src],
    [y],
  );
  return y;
}

// ---- pad -----------------------------------------------------------------------------------------

const PAD_MODES: Record<string, number> = {
  constant: CODES.PAD.CONSTANT,
  reflect: CODES.PAD.REFLECT,
  edge: CODES.PAD.EDGE,
};

function padArgs(ctx: NodeContext, rank: number): { begin: number[]; end: number[]; mode: number; value: number } {
  const mode = PAD_MODES[ctx.string('mode', 'constant')];
  if (mode === undefined)
    throw new NodeProblem(`mode "${ctx.string('mode', '')}" is not supported (constant, reflect, edge)`);
  let pads: number[];
  let value: number;
  if (ctx.opset < 11) {
    pads = ctx.ints('pads') ?? ctx.ints('paddings') ?? [];
    value = ctx.float('value', 0);
  } else {
    pads = asInts(ctx.constant(1, 'pads'))!;
    value = ctx.optionalConstant(2, 'constant_value')?.numbers[0] ?? 0;
  }
  const axes = ctx.opset >= 18 ? asInts(ctx.optionalConstant(3, 'axes')) : undefined;
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  const ax = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => normalizeAxis(a, rank));
  if (pads.length !== 2 * ax.length)
    throw new NodeProblem(`${pads.length} pads for ${ax.length} axes`, 'invalid-graph');
  ax.forEach((a, i) => {
    begin[a] = pads[i];
    end[a] = pads[i + ax.length];
  });
  if (begin.some((p) => p < 0) || end.some((p) => p < 0))
    throw new NodeProblem('negative pads (cropping) are not supported');
  return { begin, end, mode, value };
}

const pad: OpHandler = {
  fold(ctx, [x]) {
    const { begin, end, mode, value } = padArgs(ctx, x!.dims.length);
    const out = x!.dims.map((d, i) => d + begin[i] + end[i]);
    const src = x!.numbers;
    const inStrides = stridesOf(x!.dims);
    const map = (i: number, n: number) =>
      i >= 0 && i < n
        ? i
        : mode === 2
          ? i < 0
            ? 0
            : n - 1
          : n === 1
            ? 0
            : ((k) => (k < n ? k : 2 * (n - 1) - k))(((i % (2 * (n - 1))) + 2 * (n - 1)) % (2 * (n - 1)));
    const values = Array.from({ length: product(out) }, (_, flat) => {
      let rem = flat;
      let at = 0;
      for (let d = out.length - 1; d >= 0; d--) {
        const i = (rem % out[d]) - begin[d];
        rem = Math.floor(rem / out[d]);
        if ((i < 0 || i >= x!.dims[d]) && mode === 0) return value;
        at += map(i, x!.dims[d]) * inStrides[d];
      }
      return src[at];
    });
    return [Tensor.fromNumbers(x!.dtype, out, values)];
  },
  lower(ctx) {
    const x = ctx.rt(0);
    const { begin, end, mode, value } = padArgs(ctx, x.dims.length);
    if (x.batched && (begin[0] || end[0])) throw new NodeProblem('padding the batch axis', 'batch');
    const out = x.dims.map((d, i) => d + begin[i] + end[i]);
    if (x.dims.length < 2) throw new NodeProblem('padding a 1-D tensor is not supported');
    const y = ctx.newValue(out, x.batched);
    const table = ctx.program.addInts([out.length, ...out, ...x.dims, ...begin]);
    const rows: Arg = x.batched ? { t: 'rows', times: x.dims[0] } : i32(x.dims[0]);
    ctx.program.addStep(
      'pad',
      () => ({ x: buf(x), y: buf(y), rows, table: data(table), mode: i32(mode), value: f32(value) }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

// ---- reductions ------------------------------------------------------------------------------------

interface ReduceSpec {
  kernel: FamilyKernel<'reduce'> | 'reduce_logsumexp';
  fn: (xs: number[]) => number;
  axesInputSince: number;
  /** An elementwise kernel on the input first, and one on the result (ReduceL2 = sqrt of a sum of squares). */
  before?: 'unary_abs' | 'square';
  after?: 'unary_sqrt' | 'unary_log';
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const REDUCE: Record<string, ReduceSpec> = {
  ReduceSum: { kernel: 'reduce_sum', fn: (xs) => xs.reduce((a, b) => a + b, 0), axesInputSince: 13 },
  ReduceMean: { kernel: 'reduce_mean', fn: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, axesInputSince: 18 },
  ReduceMax: { kernel: 'reduce_max', fn: (xs) => Math.max(...xs), axesInputSince: 18 },
  ReduceMin: { kernel: 'reduce_min', fn: (xs) => Math.min(...xs), axesInputSince: 18 },
  ReduceProd: { kernel: 'reduce_prod', fn: (xs) => xs.reduce((a, b) => a * b, 1), axesInputSince: 18 },
  // naive Bayes' predict_proba normalises joint log-likelihoods with it (skl2onnx)
  ReduceLogSumExp: {
    kernel: 'reduce_logsumexp',
    fn: (xs) => {
      const m = Math.max(...xs);
      return Number.isFinite(m) ? m + Math.log(xs.reduce((a, v) => a + Math.exp(v - m), 0)) : m;
    },
    axesInputSince: 18,
  },
  // KMeans' distances (skl2onnx) are ReduceSumSquare; the rest complete the family
  ReduceSumSquare: {
    kernel: 'reduce_sum',
    fn: (xs) => sum(xs.map((v) => v * v)),
    axesInputSince: 18,
    before: 'square',
  },
  ReduceL1: { kernel: 'reduce_sum', fn: (xs) => sum(xs.map(Math.abs)), axesInputSince: 18, before: 'unary_abs' },
  ReduceL2: {
    kernel: 'reduce_sum',
    fn: (xs) => Math.sqrt(sum(xs.map((v) => v * v))),
    axesInputSince: 18,
    before: 'square',
    after: 'unary_sqrt',
  },
  ReduceLogSum: { kernel: 'reduce_sum', fn: (xs) => Math.log(sum(xs)), axesInputSince: 18, after: 'unary_log' },
};

/** y = kernel(x) elementwise, in place where nothing else reads x. */
function elementwise(ctx: NodeContext, kernel: 'unary_abs' | 'unary_sqrt' | 'unary_log', x: RtValue): RtValue {
  const y = { ...ctx.inPlaceOr(x, x.dims, x.batched), layout: x.layout, batchAxis: x.batchAxis };
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
  return y;
}

function reduceAxes(ctx: NodeContext, rank: number, since: number): number[] {
  const axes = axesOf(ctx, 1, since);
  if (!axes || axes.length === 0) {
    if (ctx.opset >= since && ctx.int('noop_with_empty_axes', 0)) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return [...new Set(axes.map((a) => normalizeAxis(a, rank)))].sort((a, b) => a - b);
}

function reduceHandler(name: string): OpHandler {
  const spec = REDUCE[name];
  return {
    fold(ctx, [x]) {
      const axes = reduceAxes(ctx, x!.dims.length, spec.axesInputSince);
      const keep = ctx.int('keepdims', 1) !== 0;
      const outDims = x!.dims.map((d, i) => (axes.includes(i) ? 1 : d));
      const groups = new Map<number, number[]>();
      const strides = stridesOf(outDims);
      const xs = x!.numbers;
      const idx = new Array<number>(x!.dims.length).fill(0);
      for (let i = 0; i < xs.length; i++) {
        let at = 0;
        idx.forEach((v, d) => (at += (axes.includes(d) ? 0 : v) * strides[d]));
        (groups.get(at) ?? groups.set(at, []).get(at)!).push(xs[i]);
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d] < x!.dims[d]) break;
          idx[d] = 0;
        }
      }
      const values = Array.from({ length: product(outDims) }, (_, i) => spec.fn(groups.get(i) ?? []));
      return [Tensor.fromNumbers(x!.dtype, keep ? outDims : outDims.filter((_, i) => !axes.includes(i)), values)];
    },
    lower(ctx) {
      let x = ctx.rt(0, true);
      if (x.dtype !== 'float32') throw new NodeProblem('integer inputs are not supported here');
      if (spec.before === 'square') x = lowerBinary(ctx, 'binary_mul', x, x);
      else if (spec.before) x = elementwise(ctx, spec.before, x);
      const axes = reduceAxes(ctx, x.dims.length, spec.axesInputSince);
      const ba = batchAxisOf(x);
      if (axes.includes(ba)) throw new NodeProblem(`${name} over the batch axis mixes the rows of a batch`, 'batch');
      const keep = ctx.int('keepdims', 1) !== 0;
      let cur = x;
      // Reduce the highest axes first; adjacent axes merge into one call.
      const runs: [number, number][] = [];
      for (const a of axes) {
        const last = runs[runs.length - 1];
        if (last && last[1] === a - 1) last[1] = a;
        else runs.push([a, a]);
      }
      for (const [from, to] of runs.reverse()) {
        const outer = product(cur.dims.slice(0, from));
        const len = product(cur.dims.slice(from, to + 1));
        const inner = product(cur.dims.slice(to + 1));
        const dims = cur.dims.map((d, i) => (i >= from && i <= to ? 1 : d));
        const y = onAxis(ctx.newValue(dims, x.batched), ba);
        const src = cur;
        const outerArg: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
        ctx.program.addStep(
          spec.kernel,
          () => ({ x: buf(src), y: buf(y), outer: outerArg, len: i32(len), inner: i32(inner) }),
          [src],
          [y],
        );
        cur = y;
      }
      if (spec.after) cur = elementwise(ctx, spec.after, cur);
      ctx.output(
        0,
        keep
          ? cur
          : onAxis(
              ctx.alias(
                cur,
                cur.dims.filter((_, i) => !axes.includes(i)),
              ),
              ba - axes.filter((a) => a < ba).length,
            ),
      );
    },
  };
}

// ---- normalisation ---------------------------------------------------------------------------------

const layerNormalization: OpHandler = {
  lower(ctx) {
    const x = ctx.rt(0);
    const axis = normalizeAxis(ctx.int('axis', -1), x.dims.length);
    if (x.batched && axis === 0) throw new NodeProblem('normalising over the batch axis', 'batch');
    if (ctx.isOutputUsed(1) || ctx.isOutputUsed(2))
      throw new NodeProblem('the mean and inverse-deviation outputs are training-only');
    const D = product(x.dims.slice(axis));
    const vec = (i: number, what: string, fallback: number | null) => {
      const t = ctx.optionalConstant(i, what);
      if (!t) return fallback === null ? null : ctx.program.addFloats(new Float32Array(D).fill(fallback));
      return ctx.program.addFloats(
        Float32Array.from({ length: D }, (_, j) => t.toFloat32()[t.size === 1 ? 0 : j % t.size]),
      );
    };
    const scale = vec(1, 'scale', 1);
    const bias = vec(2, 'bias', null);
    const y = ctx.inPlaceOr(x, x.dims, x.batched);
    const outer = product(x.dims.slice(0, axis));
    const rows: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
    ctx.program.addStep(
      'layer_norm',
      () => ({
        x: buf(x),
        scale: data(scale),
        bias: data(bias),
        y: buf(y),
        rows,
        D: i32(D),
        epsilon: f32(ctx.float('epsilon', 1e-5)),
      }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

export const STRUCTURE_OPS: Record<string, OpHandler> = {
  Shape: shape,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Transpose: transpose,
  ConstantOfShape: constantOfShape,
  Range: range,
  Expand: expand,
  Where: where,
  Pad: pad,
  LayerNormalization: layerNormalization,
  ...Object.fromEntries(Object.keys(REDUCE).map((k) => [k, reduceHandler(k)])),
};
