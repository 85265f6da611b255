import type { OpHandler } from './op.js';
import { normalizeAxis } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { imageGeometry, toNHWC } from '../lowering/layout.js';
import { imageRows } from './window.js';
import { buf, data, f32, i32 } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product } from '../shape/size.js';

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

const layerNormalization: OpHandler = {
  inputs: 'X Scale! B?!',
  lower(ctx) {
    const x = ctx.rt(0);
    const axis = normalizeAxis(ctx.int('axis', -1), x.dims.length);
    if (ctx.isOutputUsed(1) || ctx.isOutputUsed(2))
      throw new NodeProblem('the mean and inverse-deviation outputs are training-only');
    const D = product(x.dims.slice(axis));
    if (!isConst(D))
      throw new NodeProblem(`the normalised axes ${shapeToString(x.dims.slice(axis))} must have fixed sizes`);
    const vec = (i: number, what: string, fallback: number | null) => {
      const t = ctx.optionalConstant(i, what);
      if (!t) return fallback === null ? null : ctx.program.addFloats(new Float32Array(D).fill(fallback));
      return ctx.program.addFloats(
        Float32Array.from({ length: D }, (_, j) => t.toFloat32()[t.size === 1 ? 0 : j % t.size]),
      );
    };
    const scale = vec(1, 'scale', 1);
    const bias = vec(2, 'bias', null);
    // Normalising over the rows' axis mixes them.
    const r = x.rowAxis;
    const y = { ...ctx.inPlaceOr(x, x.dims), rowAxis: typeof r === 'number' && r >= axis ? undefined : r };
    const rows = i32(product(x.dims.slice(0, axis)));
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
