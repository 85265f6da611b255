import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { bytesOf } from '../lowering/storage.js';
import { buf, data, i32, onnxTypeOf, type PtrArg, type RtValue, type Value } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product, sameSize, type Size } from '../shape/size.js';
import { Tensor } from '../tensor.js';

/**
 * NegativeLogLikelihoodLoss (12, 13) and SoftmaxCrossEntropyLoss (12, 13) over input [N, C, d1…dk] and
 * integer targets [N, d1…dk]: `reduction` none, sum or mean (the default), class `weights`,
 * `ignore_index`, and SoftmaxCrossEntropyLoss's log_prob output, as the ONNX function bodies (which
 * onnxruntime runs): an ignored target adds nothing and weighs nothing, so a mean over no weight is NaN.
 * A target outside [0, C) counts as ignored (onnxruntime refuses it).
 */

const REDUCTION: Record<string, number> = { none: CODES.LOSS.NONE, sum: CODES.LOSS.SUM, mean: CODES.LOSS.MEAN };

function reductionOf(ctx: NodeContext): number {
  const r = ctx.string('reduction', 'mean');
  const code = REDUCTION[r];
  if (code === undefined) throw new NodeProblem(`reduction "${r}" is not one of none, sum, mean`, 'invalid-graph');
  return code;
}

/** The ignore_index attribute as the kernel takes it (−1: none; never a class index). */
function ignoreIndexOf(ctx: NodeContext): number {
  const v = ctx.attr('ignore_index');
  return typeof v === 'number' && v >= -(2 ** 31) && v < 2 ** 31 ? v : -1;
}

/** An operand the kernel reads through a pointer: a constant in the data segment or a run-time buffer. */
function pointer(
  ctx: NodeContext,
  v: Value,
  storage: 'int64' | 'int32' | 'float32',
): { ptr: PtrArg; reads: RtValue[] } {
  if (v.kind === 'const') return { ptr: data(ctx.program.addData(bytesOf(v.tensor, storage))), reads: [] };
  if (v.kind === 'shape') throw new NodeProblem('a shape cannot be a loss operand', 'invalid-graph');
  return { ptr: buf(v), reads: [v] };
}

interface LossOperands {
  x: RtValue;
  N: Size;
  C: Size;
  D: Size;
  target: { ptr: PtrArg; reads: RtValue[]; bytes: number; dims: Size[] };
  weight?: { ptr: PtrArg; reads: RtValue[] };
}

function operands(ctx: NodeContext): LossOperands {
  const x = ctx.rt(0);
  if (x.dims.length < 2)
    throw new NodeProblem(`the input must be [N, C, …], got ${shapeToString(x.dims)}`, 'invalid-graph');
  const [N, C] = x.dims;
  const t = ctx.input(1)!;
  const type = onnxTypeOf(t);
  if (type !== 'int64' && type !== 'int32')
    throw new NodeProblem(`the target is ${type}; it must be int64 or int32`, 'invalid-graph');
  const tv = t.kind === 'const' ? t : t.kind === 'rt' ? ctx.rtAny(1) : undefined;
  if (!tv) throw new NodeProblem('the target cannot be a shape', 'invalid-graph');
  const tDims = tv.kind === 'const' ? tv.tensor.dims : tv.dims;
  const want = [N, ...x.dims.slice(2)];
  if (tDims.length !== want.length)
    throw new NodeProblem(`the target ${shapeToString(tDims)} must be ${shapeToString(want)}`, 'invalid-graph');
  tDims.forEach((d, i) => {
    if (sameSize(d, want[i])) return;
    if (isConst(d) && isConst(want[i]))
      throw new NodeProblem(`the target ${shapeToString(tDims)} must be ${shapeToString(want)}`, 'invalid-graph');
    ctx.require(d, want[i], `the target's dimension ${i} must match the input's`);
  });
  // Run-time int64 may be held as int64 or as int32; a constant goes in as int64.
  const storage = tv.kind === 'const' ? 'int64' : tv.dtype === 'int64' ? 'int64' : 'int32';
  if (tv.kind === 'rt' && tv.dtype !== 'int64' && tv.dtype !== 'int32')
    throw new NodeProblem(`the target holds ${tv.dtype}`, 'invalid-graph');
  const target = { ...pointer(ctx, tv, storage), bytes: storage === 'int64' ? 8 : 4, dims: want };
  const w = ctx.input(2);
  let weight: LossOperands['weight'];
  if (w) {
    const wDims = w.kind === 'const' ? w.tensor.dims : w.dims;
    if (wDims.length !== 1 || !sameSize(wDims[0], C))
      throw new NodeProblem(`the weights ${shapeToString(wDims)} must be [C] = [${String(C)}]`, 'invalid-graph');
    weight = pointer(ctx, w.kind === 'rt' ? ctx.rt(2) : w, 'float32');
  }
  return { x, N, C, D: product(x.dims.slice(2)), target, weight };
}

/** The loss kernel over log-probabilities `logp`; returns the loss value. */
function lowerLoss(ctx: NodeContext, logp: RtValue, o: LossOperands): RtValue {
  const reduction = reductionOf(ctx);
  const none = reduction === CODES.LOSS.NONE;
  const rowAxis = none && logp.rowAxis === 0 && (o.target.reads[0]?.rowAxis ?? 0) === 0 ? 0 : undefined;
  const y: RtValue = { ...ctx.newValue(none ? o.target.dims : []), rowAxis };
  const ignoreIndex = ignoreIndexOf(ctx);
  ctx.program.addStep(
    'nll_loss',
    () => ({
      x: buf(logp),
      target: o.target.ptr,
      weight: o.weight?.ptr ?? { t: 'null' },
      y: buf(y),
      N: i32(o.N),
      C: i32(o.C),
      D: i32(o.D),
      targetBytes: i32(o.target.bytes),
      ignoreIndex: i32(ignoreIndex),
      reduction: i32(reduction),
    }),
    [logp, ...o.target.reads, ...(o.weight?.reads ?? [])],
    [y],
  );
  return y;
}

/** Both losses on constants: log-softmax first for SoftmaxCrossEntropyLoss (in f64, as the kernels' sums). */
function foldLoss(ctx: NodeContext, [x, t, w]: (Tensor | undefined)[], softmax: boolean): Tensor[] {
  const [N, C] = x!.dims;
  const D = x!.dims.slice(2).reduce((a, b) => a * b, 1);
  const v = Float64Array.from(x!.numbers);
  if (softmax)
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        const at = (c: number) => (n * C + c) * D + d;
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, v[at(c)]);
        let s = 0;
        for (let c = 0; c < C; c++) s += Math.exp(v[at(c)] - m);
        const shift = m + Math.log(s);
        for (let c = 0; c < C; c++) v[at(c)] -= shift;
      }
  const reduction = reductionOf(ctx);
  const ignore = ignoreIndexOf(ctx);
  const losses = new Float64Array(N * D);
  let sum = 0;
  let weights = 0;
  for (let i = 0; i < N * D; i++) {
    const target = t!.numbers[i];
    if (target < 0 || target >= C || target === ignore) continue;
    const wt = w ? w.numbers[target] : 1;
    const logp = Math.fround(v[(Math.floor(i / D) * C + target) * D + (i % D)]);
    losses[i] = Math.fround(-logp * wt);
    sum += losses[i];
    weights += wt;
  }
  const out =
    reduction === CODES.LOSS.NONE
      ? Tensor.fromNumbers('float32', t!.dims, losses)
      : Tensor.scalar('float32', reduction === CODES.LOSS.MEAN ? sum / weights : sum);
  return softmax ? [out, Tensor.fromNumbers('float32', x!.dims, v)] : [out];
}

const negativeLogLikelihoodLoss: OpHandler = {
  inputs: 'input target weight?',
  fold: (ctx, inputs) => foldLoss(ctx, inputs, false),
  lower(ctx) {
    const o = operands(ctx);
    ctx.output(0, lowerLoss(ctx, o.x, o));
  },
};

const softmaxCrossEntropyLoss: OpHandler = {
  inputs: 'scores labels weights?',
  fold: (ctx, inputs) => foldLoss(ctx, inputs, true),
  lower(ctx) {
    const o = operands(ctx);
    // log_prob [N, C, d…]: an output, or scratch the loss reads.
    const logp: RtValue = { ...ctx.newValue(o.x.dims), rowAxis: o.x.rowAxis === 0 ? 0 : undefined };
    ctx.program.addStep(
      'log_softmax',
      () => ({ x: buf(o.x), y: buf(logp), outer: i32(o.N), axis: i32(o.C), inner: i32(o.D) }),
      [o.x],
      [logp],
    );
    ctx.output(0, lowerLoss(ctx, logp, o));
    ctx.output(1, logp);
  },
};

export const LOSS_OPS: Record<string, OpHandler> = {
  NegativeLogLikelihoodLoss: negativeLogLikelihoodLoss,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropyLoss,
};
