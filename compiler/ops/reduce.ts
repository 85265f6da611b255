import { familyMembers, type FamilyKernel } from '../abi/kernels.js';
import type { OpHandler } from './op.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { rowsAfterRemoving } from '../lowering/rows.js';
import { Tensor, product as count, stridesOf } from '../tensor.js';
import { axesOf } from './args.js';
import { lowerBinary } from './binary.js';
import { buf, countArg, i32, slot, type RtValue } from '../program.js';
import { isConst, product, sizeToString, type Size } from '../shape/size.js';
import { NodeProblem } from '../errors.js';
import { indexOperand } from './operands.js';
import { computedSize } from './select.js';

/**
 * Reductions over axes (ReduceSum … ReduceLogSumExp, ReduceL1/L2, ReduceSumSquare) and ArgMax/ArgMin:
 * adjacent reduced axes merge into one [outer, len, inner] kernel call.
 */

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

/** y = kernel(x) unaryStep, in place where nothing else reads x. */
function unaryStep(ctx: NodeContext, kernel: 'unary_abs' | 'unary_sqrt' | 'unary_log', x: RtValue): RtValue {
  const y = { ...ctx.inPlaceOr(x, x.dims), layout: x.layout };
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
  return y;
}

/** The axes input is a run-time tensor (a graph input or computed), not a constant. */
const axesAtRunTime = (ctx: NodeContext, since: number) => ctx.opset >= since && ctx.input(1)?.kind === 'rt';

/** An axes tensor that holds no axes whatever its values: its declared length is 0. */
function noAxes(ctx: NodeContext): boolean {
  const v = ctx.input(1);
  return v?.kind === 'rt' && v.dims.length === 1 && v.dims[0] === 0;
}

function reduceAxes(ctx: NodeContext, rank: number, since: number): number[] {
  const axes = noAxes(ctx) ? [] : axesOf(ctx, 1, since);
  if (!axes || axes.length === 0) {
    if (ctx.opset >= since && ctx.int('noop_with_empty_axes', 0)) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return [...new Set(axes.map((a) => normalizeAxis(a, rank)))].sort((a, b) => a - b);
}

function reduceHandler(name: string): OpHandler {
  const spec = REDUCE[name];
  return {
    inputs: (opset) => (opset >= spec.axesInputSince ? 'data axes?' : 'data'),
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
      const values = Array.from({ length: count(outDims) }, (_, i) => spec.fn(groups.get(i) ?? []));
      return [Tensor.fromNumbers(x!.dtype, keep ? outDims : outDims.filter((_, i) => !axes.includes(i)), values)];
    },
    lower(ctx) {
      let x = ctx.rt(0);
      if (spec.before === 'square') x = lowerBinary(ctx, 'binary_mul', x, x);
      else if (spec.before) x = unaryStep(ctx, spec.before, x);
      if (axesAtRunTime(ctx, spec.axesInputSince) && !noAxes(ctx)) {
        const y = reduceByRuntimeAxes(ctx, spec, x);
        return ctx.output(0, spec.after ? unaryStep(ctx, spec.after, y) : y);
      }
      const axes = reduceAxes(ctx, x.dims.length, spec.axesInputSince);
      // Reducing over the rows' axis mixes them; other reductions keep them.
      const rows = typeof x.rowAxis === 'number' && axes.includes(x.rowAxis) ? undefined : x.rowAxis;
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
        const y = { ...ctx.newValue(dims), rowAxis: rows };
        const src = cur;
        ctx.program.addStep(
          spec.kernel,
          () => ({ x: buf(src), y: buf(y), outer: i32(outer), len: i32(len), inner: i32(inner) }),
          [src],
          [y],
        );
        cur = y;
      }
      if (spec.after) cur = unaryStep(ctx, spec.after, cur);
      ctx.output(
        0,
        keep
          ? cur
          : {
              ...ctx.alias(
                cur,
                cur.dims.filter((_, i) => !axes.includes(i)),
              ),
              rowAxis: rowsAfterRemoving(rows, axes),
            },
      );
    },
  };
}

/**
 * A reduction over axes known only at run time: a mask from the axes tensor (an axis outside the rank fails
 * the call; one named twice counts once, or fails it with keepdims 0), each output dimension a computed
 * size, one pass over x.
 */
function reduceByRuntimeAxes(ctx: NodeContext, spec: ReduceSpec, x: RtValue): RtValue {
  if (spec.kernel === 'reduce_logsumexp')
    throw new NodeProblem('ReduceLogSumExp over axes computed at run time is not supported; make axes a constant');
  const axes = indexOperand(ctx, 1, 'axes');
  if (axes.dims.length !== 1) throw new NodeProblem('axes must be a 1-D tensor', 'invalid-graph');
  const n = axes.dims[0];
  const rank = x.dims.length;
  const keep = ctx.int('keepdims', 1) !== 0;
  if (!keep && !isConst(n))
    throw new NodeProblem(
      `with keepdims 0 the number of axes sets the output's rank, but it is ${sizeToString(n)}, known only at run time: fix it with --dim ${sizeToString(n)}=N, or make axes a constant (--const)`,
    );
  if (isConst(n) && n > rank) throw new NodeProblem(`${n} axes for a tensor of rank ${rank}`, 'invalid-graph');
  const table = ctx.program.addTable(x.dims);
  const mask = ctx.newValue([rank], 'int32');
  const step = ctx.program.addStep(
    'axes_mask',
    () => ({
      axes: axes.ptr,
      n: i32(n),
      axesBytes: i32(axes.dtype === 'int64' ? 8 : 4),
      rank: i32(rank),
      noop: i32(ctx.int('noop_with_empty_axes', 0) ? 1 : 0),
      distinct: i32(keep ? 0 : 1),
      mask: buf(mask),
    }),
    axes.reads,
    [mask],
  );
  step.valueCheck = {
    message: `${ctx.node.opType} "${ctx.node.name}": an axis in "${ctx.node.inputs[1]}" is outside [${-rank}, ${rank - 1}]${keep ? '' : ' or named twice (with keepdims 0, the output has one axis fewer per axis named)'} (element {index})`,
  };
  const outRank = keep ? rank : rank - (n as number);
  const dims = Array.from({ length: outRank }, (_, j): Size => {
    if (keep && x.dims[j] === 1) return 1;
    const candidates = keep ? [x.dims[j]] : x.dims.slice(j, j + (n as number) + 1);
    const d = computedSize(ctx, 0, j, Math.max(...candidates.map((c) => ctx.symbols.upper(c))));
    ctx.program.addStep(
      'reduced_dim',
      () => ({ mask: buf(mask), table, rank: i32(rank), j: i32(j), keepdims: i32(keep ? 1 : 0), count: slot(d) }),
      [mask],
      [],
    );
    return d;
  });
  const y = ctx.newValue(dims);
  const scratch = ctx.newValue([rank, 2], 'int32');
  const op = familyMembers('reduce').indexOf(spec.kernel);
  ctx.program.addStep(
    'reduce_masked',
    () => ({ x: buf(x), y: buf(y), rank: i32(rank), table, mask: buf(mask), op: i32(op), scratch: buf(scratch) }),
    [x, mask],
    [y, scratch],
  );
  return y;
}

// ---- normalisation ---------------------------------------------------------------------------------

/** ArgMax/ArgMin: int64 indices in ONNX, int32 at run time (class indices always fit). */
function argReduceHandler(kernel: 'argmax' | 'argmin'): OpHandler {
  const better = kernel === 'argmax' ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  const shape = <D extends Size>(ctx: NodeContext, dims: D[]) => {
    const axis = normalizeAxis(ctx.int('axis', 0), dims.length);
    const keep = ctx.int('keepdims', 1) !== 0;
    const out = keep ? dims.map((d, i) => (i === axis ? (1 as D) : d)) : dims.filter((_, i) => i !== axis);
    return {
      axis,
      keep,
      out,
      outer: product(dims.slice(0, axis)) as D,
      len: dims[axis],
      inner: product(dims.slice(axis + 1)) as D,
    };
  };
  return {
    inputs: 'data',
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
      const { axis, keep, out, outer, len, inner } = shape(ctx, x.dims);
      const r = x.rowAxis;
      const rowAxis = typeof r === 'number' && r === axis ? undefined : keep ? r : rowsAfterRemoving(r, [axis]);
      // Indices in int32 memory (the runtime hands them out as int64): their own class values until a
      // LabelEncoder or class list renames them.
      const y: RtValue = { ...ctx.newValue(out, 'int32'), onnx: 'int64', rowAxis };
      if (isConst(len)) y.categories = Array.from({ length: len }, (_, i) => i);
      const selectLast = i32(ctx.int('select_last_index', 0));
      ctx.program.addStep(
        kernel,
        () => ({ x: buf(x), y: buf(y), outer: i32(outer), len: i32(len), inner: i32(inner), selectLast }),
        [x],
        [y],
      );
      ctx.output(0, y);
    },
  };
}

export const REDUCE_OPS: Record<string, OpHandler> = {
  ...Object.fromEntries(Object.keys(REDUCE).map((k) => [k, reduceHandler(k)])),
  ArgMax: argReduceHandler('argmax'),
  ArgMin: argReduceHandler('argmin'),
};
