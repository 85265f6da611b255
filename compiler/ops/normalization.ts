import type { OpHandler } from './op.js';
import { normalizeAxis } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { imageGeometry, toNHWC } from '../lowering/layout.js';
import { imageRows } from './window.js';
import { buf, data, f32, i32, type PtrArg, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product, sameSizes } from '../shape/size.js';

/**
 * Normalizations: LayerNormalization, LpNormalization and LRN (BatchNormalization: batchnorm.ts).
 */

/**
 * LpNormalization along the last axis (p = 1 or 2): skl2onnx's OneVsRestClassifier normalises the
 * per-class probabilities with it. The ai.onnx.ml Normalizer kernel does the same per row.
 */
const lpNormalization: OpHandler = {
  inputs: 'input',
  lower(ctx) {
    const x = ctx.rt(0);
    const rank = x.dims.length;
    const axis = ctx.int('axis', -1);
    if ((axis < 0 ? axis + rank : axis) !== rank - 1)
      throw new NodeProblem('only normalising along the last axis is supported');
    const p = ctx.int('p', 2);
    if (p !== 1 && p !== 2) throw new NodeProblem(`p must be 1 or 2, not ${p}`, 'invalid-graph');
    const D = x.dims[rank - 1];
    const outer = product(x.dims.slice(0, -1));
    const y = { ...ctx.inPlaceOr(x, x.dims), rowAxis: x.rowAxis === rank - 1 ? undefined : x.rowAxis };
    ctx.program.addStep(
      'normalize_rows',
      () => ({ x: buf(x), y: buf(y), rows: i32(outer), D: i32(D), norm: i32(p) }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

/**
 * LayerNormalization over the axes from `axis` on (contiguous rows of D values). Scale and B constant (any
 * shape that broadcasts to the normalised dims) or given at run time with exactly those dims. The optional
 * Mean and InvStdDev outputs ([d0…d(axis−1), 1…]) come from layer_norm_stats, read before y may overwrite x.
 */
const layerNormalization: OpHandler = {
  inputs: 'X Scale B?',
  lower(ctx) {
    const x = ctx.rt(0);
    const rank = x.dims.length;
    const axis = normalizeAxis(ctx.int('axis', -1), rank);
    const normDims = x.dims.slice(axis);
    const D = product(normDims);
    const runTime: RtValue[] = [];
    const vec = (i: number, what: string): PtrArg => {
      const v = ctx.input(i);
      if (!v) return data(null);
      if (v.kind !== 'const') {
        if (!sameSizes(v.dims, normDims))
          throw new NodeProblem(
            `${what} is ${shapeToString(v.dims)} at run time; it needs the normalised dims ${shapeToString(normDims)} (or a constant that broadcasts to them)`,
          );
        const rt = ctx.rt(i);
        runTime.push(rt);
        return buf(rt);
      }
      const t = v.tensor;
      if (!isConst(D))
        throw new NodeProblem(
          `the normalised axes ${shapeToString(normDims)} must have fixed sizes for a constant ${what}`,
        );
      if (D % t.size)
        throw new NodeProblem(
          `${what} is ${shapeToString(t.dims)}; it does not broadcast to the normalised dims ${shapeToString(normDims)}`,
          'invalid-graph',
        );
      const f = t.toFloat32();
      return data(ctx.program.addFloats(Float32Array.from({ length: D }, (_, j) => f[j % t.size])));
    };
    const scale = vec(1, 'Scale');
    const bias = vec(2, 'B');
    const epsilon = f32(ctx.float('epsilon', 1e-5));
    const rows = product(x.dims.slice(0, axis));
    const r = x.rowAxis;
    const keepRows = typeof r === 'number' && r >= axis ? undefined : r;
    const statDims = [...x.dims.slice(0, axis), ...normDims.map(() => 1)];
    const stats = [1, 2].map((i): RtValue | null =>
      ctx.isOutputUsed(i) ? { ...ctx.newValue(statDims), rowAxis: keepRows } : null,
    );
    if (stats[0] || stats[1]) {
      const written = stats.filter((s): s is RtValue => !!s);
      ctx.program.addStep(
        'layer_norm_stats',
        () => ({
          x: buf(x),
          mean: stats[0] ? buf(stats[0]) : data(null),
          invStd: stats[1] ? buf(stats[1]) : data(null),
          rows: i32(rows),
          D: i32(D),
          epsilon,
        }),
        [x],
        written,
      );
      stats.forEach((s, k) => s && ctx.output(k + 1, s));
    }
    // Normalising over the rows' axis mixes them.
    const y = { ...ctx.inPlaceOr(x, x.dims), rowAxis: keepRows };
    ctx.program.addStep(
      'layer_norm',
      () => ({ x: buf(x), scale, bias, y: buf(y), rows: i32(rows), D: i32(D), epsilon }),
      [x, ...runTime],
      [y],
    );
    ctx.output(0, y);
  },
};

const lrn: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const plain = ctx.rtLayout(0);
    if (plain.dims.length < 3)
      throw new NodeProblem(`expects an N×C×D1… input, got ${shapeToString(plain.dims)}`, 'invalid-graph');
    const x = toNHWC(ctx.program, plain);
    const { images, C, HW } = imageGeometry(x);
    const y = { ...ctx.newValue(x.dims), layout: 'nhwc' as const, rowAxis: imageRows(x) };
    const size = ctx.int('size', 1);
    const [alpha, beta, bias] = [ctx.float('alpha', 1e-4), ctx.float('beta', 0.75), ctx.float('bias', 1)];
    ctx.program.addStep(
      'lrn',
      () => ({
        x: buf(x),
        y: buf(y),
        images,
        HW: i32(HW),
        C: i32(C),
        size: i32(size),
        alpha: f32(alpha),
        beta: f32(beta),
        bias: f32(bias),
      }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

export const NORMALIZATION_OPS: Record<string, OpHandler> = {
  LayerNormalization: layerNormalization,
  LpNormalization: lpNormalization,
  LRN: lrn,
};
