import type { OpHandler } from './op.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, broadcastMap } from '../tensor.js';
import { toNHWC } from '../lowering/layout.js';
import { lowerBinary } from './binary.js';
import { buf, countArg, type RtValue, type Value } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, type Size } from '../shape/size.js';
import type { FamilyKernel } from '../abi/kernels.js';

/**
 * Inference BatchNormalization is a per-channel affine map y = x·a + b, with a = scale / sqrt(var + epsilon)
 * and b = bias − mean·a. Constant statistics fold at compile time into one Mul and one Add over the channel
 * axis, which fold into a preceding GEMM or conv (compiler/fuse.ts); statistics given at run time are combined
 * per call (a few elementwise kernels over C values). Before opset 9, `spatial` = 0 gives every activation its
 * own statistics ([C, D1…] instead of [C]); before opset 7, `is_test` must say inference.
 */

const PARAMS = ['scale', 'B', 'input_mean', 'input_var'];

function checkInference(ctx: NodeContext): void {
  if (ctx.opset < 7 && !ctx.int('is_test', 0))
    throw new NodeProblem(
      'is_test=0 is training mode (batch statistics); export the model for inference (is_test=1, or opset 7 on)',
    );
  if (ctx.opset >= 14 && ctx.int('training_mode', 0))
    throw new NodeProblem('training_mode=1 is not supported (inference only)');
  if ([1, 2, 3, 4].some((i) => ctx.isOutputUsed(i)))
    throw new NodeProblem('the running statistics outputs are training-only');
}

/** The statistics' dims: [C], or [C, D1…] per activation (spatial = 0, opsets 1–8). */
function paramDims(ctx: NodeContext, xDims: Size[]): Size[] {
  if (xDims.length < 2) throw new NodeProblem(`input ${shapeToString(xDims)} has no channel axis`, 'invalid-graph');
  const spatial = ctx.opset < 9 ? ctx.int('spatial', 1) : 1;
  return spatial ? [xDims[1]] : xDims.slice(1);
}

/** Each statistic must have the dims the mode says (broadcasting does not apply to them). */
function checkParams(ctx: NodeContext, values: Value[], want: Size[]): void {
  values.forEach((v, i) => {
    const d = v.kind === 'const' ? v.tensor.dims : v.dims;
    if (d.length !== want.length || d.some((s, j) => isConst(s) && isConst(want[j]) && s !== want[j]))
      throw new NodeProblem(
        `${PARAMS[i]} is ${shapeToString(d)}; the input ${want.length > 1 ? 'with spatial=0 ' : ''}needs ${shapeToString(want)}`,
        'invalid-graph',
      );
    d.forEach((s, j) => ctx.require(s, want[j], `${PARAMS[i]} dim ${j} must match the input`));
  });
}

function affineOf(scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, eps: number) {
  const a = Float64Array.from(scale.numbers, (s, c) => s / Math.sqrt(variance.numbers[c] + eps));
  const b = Float64Array.from(bias.numbers, (v, c) => v - mean.numbers[c] * a[c]);
  return { a, b };
}

const batchNormalization: OpHandler = {
  inputs: 'X scale B input_mean input_var',
  fold(ctx, inputs) {
    checkInference(ctx);
    const x = inputs[0]!;
    const params = inputs.slice(1, 5) as Tensor[];
    const dims = paramDims(ctx, x.dims);
    checkParams(
      ctx,
      params.map((tensor) => ({ kind: 'const', tensor })),
      dims,
    );
    const { a, b } = affineOf(params[0], params[1], params[2], params[3], ctx.float('epsilon', 1e-5));
    const at = (t: Float64Array) =>
      Tensor.fromNumbers('float32', [...(dims as number[]), ...x.dims.slice(1 + dims.length).map(() => 1)], t);
    return [broadcastMap([x, at(a), at(b)], x.dtype, (v, s, o) => v * s + o)];
  },
  lower(ctx) {
    checkInference(ctx);
    const x = ctx.rtLayout(0);
    const dims = paramDims(ctx, x.dims);
    const params = [1, 2, 3, 4].map((i) => ctx.input(i)!);
    checkParams(ctx, params, dims);
    // Broadcast over [C, 1, 1, …] (or [C, D1…]) against [N, C, D1…].
    const lifted = [1, ...dims, ...x.dims.slice(1 + dims.length).map(() => 1)];
    const eps = ctx.float('epsilon', 1e-5);
    let a: Value;
    let b: Value;
    if (params.every((p) => p.kind === 'const')) {
      const t = params.map((p) => (p as { tensor: Tensor }).tensor);
      const ab = affineOf(t[0], t[1], t[2], t[3], eps);
      a = { kind: 'const', tensor: Tensor.fromNumbers('float32', lifted as number[], ab.a) };
      b = { kind: 'const', tensor: Tensor.fromNumbers('float32', lifted as number[], ab.b) };
    } else {
      [a, b] = runtimeAffine(ctx, params, eps).map((v) => liftTo(ctx, v, lifted, x));
    }
    // After a GEMM or conv both steps fold into its epilogue: the scale into the packed weights.
    ctx.output(0, lowerBinary(ctx, 'binary_add', lowerBinary(ctx, 'binary_mul', x, a), b));
  },
};

/** a = scale / sqrt(var + eps), b = bias − mean·a from statistics of which some are known only at run time. */
function runtimeAffine(ctx: NodeContext, [scale, bias, mean, variance]: Value[], eps: number): Value[] {
  const sd = sqrt(ctx, binary(ctx, 'binary_add', variance, scalar(eps)));
  const a = binary(ctx, 'binary_div', scale, sd);
  return [a, binary(ctx, 'binary_sub', bias, binary(ctx, 'binary_mul', mean, a))];
}

const scalar = (v: number): Value => ({ kind: 'const', tensor: Tensor.scalar('float32', v) });

const FOLD: Partial<Record<FamilyKernel<'binary'>, (a: number, b: number) => number>> = {
  binary_add: (a, b) => a + b,
  binary_sub: (a, b) => a - b,
  binary_mul: (a, b) => a * b,
  binary_div: (a, b) => a / b,
};

/** A binary op on two statistics: folded when both are constants. */
function binary(ctx: NodeContext, kernel: FamilyKernel<'binary'>, a: Value, b: Value): Value {
  if (a.kind === 'const' && b.kind === 'const')
    return { kind: 'const', tensor: broadcastMap([a.tensor, b.tensor], 'float32', FOLD[kernel]!) };
  return lowerBinary(ctx, kernel, a, b);
}

function sqrt(ctx: NodeContext, v: Value): Value {
  if (v.kind === 'const') return { kind: 'const', tensor: broadcastMap([v.tensor], 'float32', Math.sqrt) };
  const x = v as RtValue;
  const y = ctx.newValue(x.dims);
  ctx.program.addStep('unary_sqrt', () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
  return y;
}

/** A [C…] statistic as [1, C…, 1…] in the input's memory order (free when the spatial part is 1s). */
function liftTo(ctx: NodeContext, v: Value, lifted: Size[], x: RtValue): Value {
  if (v.kind === 'const') return { kind: 'const', tensor: v.tensor.reshape(lifted as number[]) };
  const r = v as RtValue;
  const view: RtValue = { ...ctx.alias(r, lifted), rowAxis: 'none' };
  if (r.dtype !== 'float32') throw new NodeProblem('BatchNormalization statistics must be float tensors');
  return x.layout === 'nhwc' ? toNHWC(ctx.program, view) : view;
}

export const BATCHNORM_OPS: Record<string, OpHandler> = { BatchNormalization: batchNormalization };
