import type { OpHandler } from './op.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor } from '../tensor.js';
import { physicalDims, toNHWC, toPlain } from '../lowering/layout.js';
import { imageRows } from './window.js';
import { buf, data, f32, i32, type PtrArg, type RtValue } from '../program.js';
import { shapeToString, stridesOf } from '../shape/shapes.js';
import { mul, product, sameSize, type Size } from '../shape/size.js';
import { stridedCopy } from './strided.js';

/**
 * Normalisations over groups that are not contiguous rows, one `instance_norm` call each
 * (assembly/norm.ts): InstanceNormalization (per image and channel, channels-last, any rank ≥ 3) and
 * MeanVarianceNormalization (over any axes: its groups are the values that share the other axes).
 */

/** The statistics of x [images, HW, C] per image and channel, y = (x − mean)·a + bias. */
function emitGroupNorm(
  ctx: NodeContext,
  x: RtValue,
  y: RtValue,
  groups: { images: Size; HW: Size; C: Size },
  scale: PtrArg,
  bias: PtrArg,
  epsilon: number,
  epsOutside: boolean,
): void {
  const scratch = ctx.newValue([mul(groups.C, 4)]);
  ctx.program.addStep(
    'instance_norm',
    () => ({
      x: buf(x),
      scale,
      bias,
      y: buf(y),
      scratch: buf(scratch),
      images: i32(groups.images),
      HW: i32(groups.HW),
      C: i32(groups.C),
      epsilon: f32(epsilon),
      epsOutside: i32(epsOutside ? 1 : 0),
    }),
    [x],
    [y, scratch],
  );
}

/** A [C] parameter as a kernel pointer: constants from the data segment, run-time values in place. */
function channelParam(ctx: NodeContext, i: number, what: string, C: Size): PtrArg {
  const v = ctx.input(i)!;
  const dims = v.kind === 'const' ? v.tensor.dims : v.dims;
  if (dims.length !== 1 || !sameSize(dims[0], C))
    throw new NodeProblem(
      `${what} is ${shapeToString(dims)}; it needs one value per channel ([${C}])`,
      'invalid-graph',
    );
  if (v.kind === 'const') return data(ctx.program.addFloats(v.tensor.toFloat32()));
  return buf(ctx.rt(i));
}

const instanceNormalization: OpHandler = {
  inputs: 'input scale B',
  fold(ctx, [x, scale, bias]) {
    const [n, c] = x!.dims;
    const hw = product(x!.dims.slice(2)) as number;
    const eps = ctx.float('epsilon', 1e-5);
    const v = x!.numbers;
    const out = new Float64Array(x!.size);
    for (let g = 0; g < n * c; g++) {
      const part = Array.from(v.subarray(g * hw, (g + 1) * hw));
      const mean = part.reduce((a, b) => a + b, 0) / hw;
      const variance = part.reduce((a, b) => a + (b - mean) ** 2, 0) / hw;
      const k = g % c;
      const a = scale!.numbers[k] / Math.sqrt(variance + eps);
      part.forEach((e, j) => (out[g * hw + j] = (e - mean) * a + bias!.numbers[k]));
    }
    return [Tensor.fromNumbers(x!.dtype, x!.dims, out)];
  },
  lower(ctx) {
    const plain = ctx.rtLayout(0);
    if (plain.dims.length < 3)
      throw new NodeProblem(`expects an N×C×D1… input, got ${shapeToString(plain.dims)}`, 'invalid-graph');
    const x = toNHWC(ctx.program, plain);
    const [N, C] = x.dims;
    const groups = { images: N, HW: product(x.dims.slice(2)), C };
    const scale = channelParam(ctx, 1, 'scale', C);
    const bias = channelParam(ctx, 2, 'B', C);
    const y: RtValue = { ...ctx.newValue(x.dims), layout: 'nhwc', rowAxis: imageRows(x) };
    emitGroupNorm(ctx, x, y, groups, scale, bias, ctx.float('epsilon', 1e-5), false);
    ctx.output(0, y);
  },
};

/** MVN's epsilon: added to the standard deviation (the ONNX function's 1e-9). */
const MVN_EPSILON = 1e-9;

const meanVarianceNormalization: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const held = ctx.rtLayout(0);
    const rank = held.dims.length;
    const axes = normalizedAxes(ctx.ints('axes') ?? [0, 2, 3], rank);
    // Memory positions of the axes, channels-last or plain; the groups are contiguous when they are.
    const memoryAxes = (v: RtValue) =>
      v.layout === 'nhwc' ? axes.map((a) => (a === 0 ? 0 : a === 1 ? rank - 1 : a - 1)) : axes;
    const contiguous = (m: number[]) => m.every((a, i) => i === 0 || a === m[i - 1] + 1);
    const sorted = (v: RtValue) => [...memoryAxes(v)].sort((p, q) => p - q);
    let x = held;
    if (!contiguous(sorted(x))) {
      const other = x.layout === 'nhwc' ? toPlain(ctx.program, x) : rank >= 3 ? toNHWC(ctx.program, x) : x;
      if (contiguous(sorted(other))) x = other;
    }
    const m = sorted(x);
    if (!contiguous(m)) {
      // Neither order keeps the groups together: move the axes innermost, normalise rows, move back.
      const plain = toPlain(ctx.program, x);
      const kept = plain.dims.map((_, i) => i).filter((i) => !axes.includes(i));
      const perm = [...kept, ...axes];
      const strides = stridesOf(plain.dims);
      const moved = stridedCopy(
        ctx,
        plain,
        perm.map((p) => plain.dims[p]),
        perm.map((p) => strides[p]),
        0,
      );
      const normalised = ctx.newValue(moved.dims);
      const groups = {
        images: product(moved.dims.slice(0, kept.length)),
        HW: product(moved.dims.slice(kept.length)),
        C: 1,
      };
      emitGroupNorm(ctx, moved, normalised, groups, data(null), data(null), MVN_EPSILON, true);
      const back = perm.map((_, i) => perm.indexOf(i));
      const ms = stridesOf(moved.dims);
      ctx.output(
        0,
        stridedCopy(
          ctx,
          normalised,
          plain.dims,
          back.map((p) => ms[p]),
          0,
        ),
      );
      return;
    }
    const dims = x.layout === 'nhwc' ? physicalDims(x.dims) : x.dims;
    const groups = {
      images: product(dims.slice(0, m[0])),
      HW: product(dims.slice(m[0], m[m.length - 1] + 1)),
      C: product(dims.slice(m[m.length - 1] + 1)),
    };
    const r = x.rowAxis;
    const y: RtValue = {
      ...ctx.newValue(x.dims),
      layout: x.layout,
      rowAxis: typeof r === 'number' && axes.includes(r) ? undefined : r,
    };
    emitGroupNorm(ctx, x, y, groups, data(null), data(null), MVN_EPSILON, true);
    ctx.output(0, y);
  },
};

/** The axes in range, sorted, once each: onnxruntime drops the others (the default [0, 2, 3] on a 3-D input). */
function normalizedAxes(axes: number[], rank: number): number[] {
  const out = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].filter((a) => a >= 0 && a < rank);
  if (!out.length)
    throw new NodeProblem(`none of the axes [${axes}] is an axis of a rank-${rank} input`, 'invalid-graph');
  return out.sort((a, b) => a - b);
}

export const INSTANCE_NORM_OPS: Record<string, OpHandler> = {
  InstanceNormalization: instanceNormalization,
  MeanVarianceNormalization: meanVarianceNormalization,
};
