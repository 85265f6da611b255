import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lower.js';
import { buf, i32, type Arg } from '../program.js';
import { Tensor } from '../tensor.js';
import { lowerBinary } from './elementwise.js';
import { fuseColumnAffine } from './gemm.js';
import type { OpHandler } from './index.js';

/**
 * Inference BatchNormalization is a per-channel affine map y = x·a + b (channel axis 1), with
 * a = scale / sqrt(var + epsilon) and b = bias − mean·a. After a GEMM it folds into the weights;
 * otherwise it is one Mul and one Add over the channel axis.
 */
function affine(ctx: NodeContext, inputs: (Tensor | undefined)[]): { a: Float64Array; b: Float64Array } {
  if (ctx.opset >= 14 && ctx.int('training_mode', 0))
    throw new NodeProblem('training_mode=1 is not supported (inference only)');
  if ([1, 2, 3, 4].some((i) => ctx.isOutputUsed(i)))
    throw new NodeProblem('the running statistics outputs are training-only');
  const names = ['scale', 'bias', 'mean', 'variance'];
  const [scale, bias, mean, variance] = names
    .map((what, i) => inputs[i + 1] ?? ctx.constant(i + 1, what))
    .map((t) => t.numbers);
  const eps = ctx.float('epsilon', 1e-5);
  const a = Float64Array.from(scale, (s, c) => s / Math.sqrt(variance[c] + eps));
  const b = Float64Array.from(bias, (v, c) => v - mean[c] * a[c]);
  return { a, b };
}

const batchNormalization: OpHandler = {
  fold(ctx, inputs) {
    const x = inputs[0]!;
    const { a, b } = affine(ctx, inputs);
    const inner = x.dims.slice(2).reduce((p, d) => p * d, 1);
    const C = x.dims[1] ?? 1;
    return [
      Tensor.fromNumbers(
        x.dtype,
        x.dims,
        Array.from(x.numbers, (v, i) => v * a[Math.floor(i / inner) % C] + b[Math.floor(i / inner) % C]),
      ),
    ];
  },
  lower(ctx) {
    const x = ctx.rtLayout(0);
    const { a, b } = affine(ctx, [undefined]);
    if (x.dims.length < 2 || x.dims[1] !== a.length)
      throw new NodeProblem(`input [${x.dims}] does not have ${a.length} channels on axis 1`, 'invalid-graph');
    // After a GEMM or conv (channels-last, channels on the GEMM's columns) it folds into the weights.
    if (x.dims.length === 2 || x.layout === 'nhwc') {
      const fused = fuseColumnAffine(
        ctx,
        x,
        (j) => a[j],
        (j) => b[j],
      );
      if (fused) return ctx.output(0, fused);
    }
    // Broadcast over [C, 1, 1, …] (the channel axis of NCHW-style inputs).
    const channelDims = [a.length, ...x.dims.slice(2).map(() => 1)];
    const scaled = lowerBinary(ctx, 'binary_mul', x, {
      kind: 'const',
      tensor: Tensor.fromNumbers('float32', channelDims, a),
    });
    ctx.output(
      0,
      lowerBinary(ctx, 'binary_add', scaled, { kind: 'const', tensor: Tensor.fromNumbers('float32', channelDims, b) }),
    );
  },
};

/**
 * LpNormalization along the last axis (p = 1 or 2): skl2onnx's OneVsRestClassifier normalises the
 * per-class probabilities with it. The ai.onnx.ml Normalizer kernel does the same per row.
 */
const lpNormalization: OpHandler = {
  lower(ctx) {
    const x = ctx.rt(0);
    const rank = x.dims.length;
    const axis = ctx.int('axis', -1);
    if ((axis < 0 ? axis + rank : axis) !== rank - 1)
      throw new NodeProblem('only normalising along the last axis is supported');
    if (x.batched && rank === 1) throw new NodeProblem('normalising over the batch axis', 'batch');
    const p = ctx.int('p', 2);
    if (p !== 1 && p !== 2) throw new NodeProblem(`p must be 1 or 2, not ${p}`, 'invalid-graph');
    const D = x.dims[rank - 1];
    const outer = x.dims.slice(0, -1).reduce((a, b) => a * b, 1);
    const y = ctx.inPlaceOr(x, x.dims, x.batched);
    const rows: Arg = x.batched ? { t: 'rows', times: outer } : i32(outer);
    ctx.program.addStep('normalize_rows', () => ({ x: buf(x), y: buf(y), rows, D: i32(D), norm: i32(p) }), [x], [y]);
    ctx.output(0, y);
  },
};

export const NORMALIZATION_OPS: Record<string, OpHandler> = {
  BatchNormalization: batchNormalization,
  LpNormalization: lpNormalization,
};
