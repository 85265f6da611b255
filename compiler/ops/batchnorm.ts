import type { OpHandler } from './op.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, broadcastMap } from '../tensor.js';
import { toNHWC } from '../lowering/layout.js';
import { lowerBinary } from './binary.js';
import { buf, countArg, i32, type RtValue, type Value } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, mul, product, type Size } from '../shape/size.js';
import type { FamilyKernel } from '../abi/kernels.js';

/**
 * Inference BatchNormalization is a per-channel affine map y = x·a + b, with a = scale / sqrt(var + epsilon)
 * and b = bias − mean·a. Constant statistics fold at compile time into one Mul and one Add over the channel
 * axis, which fold into a preceding GEMM or conv (compiler/fuse.ts); statistics given at run time are combined
 * per call (a few elementwise kernels over C values). Before opset 9, `spatial` = 0 gives every activation its
 * own statistics ([C, D1…] instead of [C]); before opset 7, `is_test` must say inference.
 *
 * training_mode=1 (opsets 14 on) normalises with the batch's own mean and (population) variance over every
 * axis but the channels, and gives the running statistics: running = input·momentum + batch·(1 − momentum).
 */

const PARAMS = ['scale', 'B', 'input_mean', 'input_var'];

/** Whether the node normalises with its batch's statistics (training_mode=1); refuses older training forms. */
function isTraining(ctx: NodeContext): boolean {
  if (ctx.opset < 7 && !ctx.int('is_test', 0))
    throw new NodeProblem(
      'is_test=0 is training mode (batch statistics); export the model for inference (is_test=1, or opset 7 on)',
    );
  const mode = ctx.opset >= 14 ? ctx.int('training_mode', 0) : 0;
  if (mode !== 0 && mode !== 1) throw new NodeProblem(`"training_mode" is ${mode}; it must be 0 or 1`, 'invalid-graph');
  if (mode) {
    if ([3, 4].some((i) => ctx.isOutputUsed(i)))
      throw new NodeProblem('training_mode=1 has three outputs (Y, running_mean, running_var)', 'invalid-graph');
    return true;
  }
  if ([1, 2, 3, 4].some((i) => ctx.isOutputUsed(i)))
    throw new NodeProblem(
      ctx.opset >= 14
        ? 'the running statistics outputs need training_mode=1'
        : `the mean and variance outputs of opsets 9–13 (training) are not supported; export with opset 14 on and training_mode=1`,
    );
  return false;
}

/** The momentum of the running statistics, checked. */
function momentumOf(ctx: NodeContext): number {
  const m = ctx.float('momentum', 0.9);
  if (!Number.isFinite(m)) throw new NodeProblem(`"momentum" is ${m}; it must be a finite number`, 'invalid-graph');
  return m;
}

/** Y, running_mean and running_var of training mode, all inputs constant (ONNX's reference, in float64). */
function foldTraining(ctx: NodeContext, [x, scale, bias, mean, variance]: Tensor[]): Tensor[] {
  const C = x.dims[1];
  const S = x.dims.slice(2).reduce((a, b) => a * b, 1);
  const N = x.dims[0];
  const v = x.numbers;
  const at = (n: number, c: number, s: number) => v[(n * C + c) * S + s];
  const m = new Float64Array(C);
  const d = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) m[c] += at(n, c, s);
    m[c] /= N * S;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) d[c] += (at(n, c, s) - m[c]) ** 2;
    d[c] /= N * S;
  }
  const eps = ctx.float('epsilon', 1e-5);
  const y = Float64Array.from(v, (value, i) => {
    const c = Math.floor(i / S) % C;
    return ((value - m[c]) / Math.sqrt(d[c] + eps)) * scale.numbers[c] + bias.numbers[c];
  });
  const k = momentumOf(ctx);
  const running = (input: Tensor, batch: Float64Array) =>
    Tensor.fromNumbers(
      'float32',
      [C],
      Float64Array.from(batch, (b, c) => input.numbers[c] * k + b * (1 - k)),
    );
  return [Tensor.fromNumbers('float32', x.dims, y), running(mean, m), running(variance, d)];
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
    const training = isTraining(ctx);
    const x = inputs[0]!;
    const params = inputs.slice(1, 5) as Tensor[];
    const dims = paramDims(ctx, x.dims);
    checkParams(
      ctx,
      params.map((tensor) => ({ kind: 'const', tensor })),
      dims,
    );
    if (training) return foldTraining(ctx, inputs as Tensor[]);
    const { a, b } = affineOf(params[0], params[1], params[2], params[3], ctx.float('epsilon', 1e-5));
    const at = (t: Float64Array) =>
      Tensor.fromNumbers('float32', [...(dims as number[]), ...x.dims.slice(1 + dims.length).map(() => 1)], t);
    return [broadcastMap([x, at(a), at(b)], x.dtype, (v, s, o) => v * s + o)];
  },
  lower(ctx) {
    if (isTraining(ctx)) return lowerTraining(ctx);
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

/**
 * Training mode at run time, in plain layout: the batch mean over every axis but 1 (two reduce_mean calls:
 * the spatial axes, then the images), the deviations d = x − mean, their mean square, then
 * y = d · scale / sqrt(var + eps) + B and the running statistics (a few kernels over C values).
 */
function lowerTraining(ctx: NodeContext): void {
  const x = ctx.rt(0);
  const dims = paramDims(ctx, x.dims);
  const params = [1, 2, 3, 4].map((i) => ctx.input(i)!);
  checkParams(ctx, params, dims);
  const lifted = [1, ...dims, ...x.dims.slice(2).map(() => 1)];
  const [scale, bias, inputMean, inputVar] = params.map((p) => liftTo(ctx, p, lifted, x));
  const mean = channelMean(ctx, x);
  const d = keep(mean, () => lowerBinary(ctx, 'binary_sub', x, mean));
  const variance = keep(d, () => channelMean(ctx, lowerBinary(ctx, 'binary_mul', d, d)));
  const k = momentumOf(ctx);
  const running = (input: Value, batch: RtValue) => {
    const r = binary(
      ctx,
      'binary_add',
      binary(ctx, 'binary_mul', input, scalar(k)),
      keep(batch, () => lowerBinary(ctx, 'binary_mul', batch, scalar(1 - k))),
    );
    return r.kind === 'rt' ? ctx.alias(r, dims) : r;
  };
  if (ctx.isOutputUsed(1)) ctx.output(1, running(inputMean, mean));
  if (ctx.isOutputUsed(2)) ctx.output(2, running(inputVar, variance));
  const sd = sqrt(ctx, binary(ctx, 'binary_add', variance, scalar(ctx.float('epsilon', 1e-5))));
  const a = binary(ctx, 'binary_div', scale, sd);
  ctx.output(0, lowerBinary(ctx, 'binary_add', lowerBinary(ctx, 'binary_mul', d, a), bias));
}

/** `make()`'s steps may not overwrite `v` in place: it is read again afterwards. */
function keep<T>(v: RtValue, make: () => T): T {
  v.buffer.pendingReads++;
  const made = make();
  v.buffer.pendingReads--;
  return made;
}

/** The mean over every axis but the channels of [N, C, …], as [1, C, 1…]: its rows mixed. */
function channelMean(ctx: NodeContext, x: RtValue): RtValue {
  const [N, C] = x.dims;
  const spatial = product(x.dims.slice(2));
  const ones = x.dims.slice(2).map(() => 1);
  const perImage = ctx.newValue([N, C, ...ones]);
  ctx.program.addStep(
    'reduce_mean',
    () => ({ x: buf(x), y: buf(perImage), outer: i32(mul(N, C)), len: i32(spatial), inner: i32(1) }),
    [x],
    [perImage],
  );
  const y = ctx.newValue([1, C, ...ones]);
  ctx.program.addStep(
    'reduce_mean',
    () => ({ x: buf(perImage), y: buf(y), outer: i32(1), len: i32(N), inner: i32(C) }),
    [perImage],
    [y],
  );
  return y;
}

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
