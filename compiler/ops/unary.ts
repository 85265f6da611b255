import { meaning, type OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { broadcastMap } from '../tensor.js';
import { type FamilyKernel, KERNELS } from '../abi/kernels.js';
import { type RtValue, type StepArgs, buf, countArg, f32 } from '../program.js';

/**
 * Elementwise unary ops: activations and math functions, one SIMD kernel each (assembly/unary.ts). An
 * activation right after a GEMM or convolution folds into its epilogue (compiler/fuse.ts).
 */

const ACT = CODES.ACT;

interface UnarySpec {
  kernel: FamilyKernel<'unary'>;
  /** The GEMM epilogue code when this op can fuse into a preceding GEMM. */
  act?: number;
  params(ctx: NodeContext): number[];
  fn(params: number[]): (x: number) => number;
}

const none = () => [];

const FLT_MAX = 3.4028234663852886e38;

const UNARY: Record<string, UnarySpec> = {
  Relu: { kernel: 'unary_relu', act: ACT.RELU, params: none, fn: () => (x) => (x < 0 ? 0 : x) },
  LeakyRelu: {
    kernel: 'unary_leaky_relu',
    act: ACT.LEAKY_RELU,
    params: (ctx) => [ctx.float('alpha', 0.01)],
    fn:
      ([a]) =>
      (x) =>
        x >= 0 ? x : a * x,
  },
  Sigmoid: { kernel: 'unary_sigmoid', act: ACT.SIGMOID, params: none, fn: () => (x) => 1 / (1 + Math.exp(-x)) },
  Tanh: { kernel: 'unary_tanh', act: ACT.TANH, params: none, fn: () => Math.tanh },
  HardSigmoid: {
    kernel: 'unary_hard_sigmoid',
    act: ACT.HARD_SIGMOID,
    params: (ctx) => [ctx.float('alpha', 0.2), ctx.float('beta', 0.5)],
    fn:
      ([a, b]) =>
      (x) =>
        Math.max(0, Math.min(1, a * x + b)),
  },
  HardSwish: {
    kernel: 'unary_hard_swish',
    act: ACT.HARD_SWISH,
    params: none,
    fn: () => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  },
  Exp: { kernel: 'unary_exp', params: none, fn: () => Math.exp },
  Log: { kernel: 'unary_log', params: none, fn: () => Math.log },
  Neg: { kernel: 'unary_neg', params: none, fn: () => (x) => -x },
  Abs: { kernel: 'unary_abs', params: none, fn: () => Math.abs },
  Sqrt: { kernel: 'unary_sqrt', params: none, fn: () => Math.sqrt },
  Reciprocal: { kernel: 'unary_reciprocal', params: none, fn: () => (x) => 1 / x },
  Erf: { kernel: 'unary_erf', params: none, fn: () => erf },
  // as onnxruntime: (0 < x) − (x < 0), so NaN gives 0
  Sign: { kernel: 'unary_sign', params: none, fn: () => (x) => +(x > 0) - +(x < 0) },
};

/** Clip's bounds: attributes before opset 11, optional constant inputs from 11. */
function clipBounds(ctx: NodeContext): number[] {
  if (ctx.opset < 11) return [ctx.float('min', -FLT_MAX), ctx.float('max', FLT_MAX)];
  const lo = ctx.optionalConstant(1, 'min');
  const hi = ctx.optionalConstant(2, 'max');
  return [lo ? lo.numbers[0] : -FLT_MAX, hi ? hi.numbers[0] : FLT_MAX];
}

function unaryHandler(spec: UnarySpec): OpHandler {
  return {
    inputs: 'X',
    fold(ctx, [x]) {
      const f = spec.fn(spec.params(ctx));
      return [broadcastMap([x!], x!.dtype, f)];
    },
    lower(ctx) {
      ctx.output(0, lowerUnary(ctx, spec.kernel, spec.act, spec.params(ctx)));
    },
  };
}

function lowerUnary(
  ctx: NodeContext,
  kernel: FamilyKernel<'unary'>,
  act: number | undefined,
  params: number[],
): RtValue {
  // Elementwise: any memory order will do, so channels-last values stay channels-last.
  const x = ctx.rtLayout(0);
  if (x.dtype !== 'float32') throw new NodeProblem('integer inputs are not supported here');
  const y = { ...ctx.inPlaceOr(x, x.dims), layout: x.layout };
  // The op's parameters, in order, are the kernel's parameters after x, y, n (compiler/abi/kernels.ts).
  const named = Object.fromEntries(KERNELS[kernel].params.slice(3).map(([name], i) => [name, f32(params[i])]));
  const args = { x: buf(x), y: buf(y), n: countArg(x), ...named } as StepArgs<typeof kernel>;
  const step = ctx.program.addStep(kernel, () => args, [x], [y]);
  // An activation the GEMM epilogue has: it may fold into the GEMM that wrote x (compiler/fuse.ts).
  if (act !== undefined) step.fusable = { kind: 'activation', act, p0: params[0] ?? 0, p1: params[1] ?? 0 };
  return y;
}

const clip: OpHandler = {
  inputs: (opset) => (opset >= 11 ? 'input min?! max?!' : 'input'),
  fold(ctx, [x]) {
    const [lo, hi] = clipBounds(ctx);
    return [broadcastMap([x!], x!.dtype, (v) => Math.min(Math.max(v, lo), hi))];
  },
  lower(ctx) {
    ctx.output(0, lowerUnary(ctx, 'unary_clip', ACT.CLIP, clipBounds(ctx)));
  },
};

/** erf for constant folding: Numerical Recipes' erfc approximation, fractional error < 1.2e-7. */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

export const UNARY_OPS: Record<string, OpHandler> = {
  ...Object.fromEntries(Object.entries(UNARY).map(([k, s]) => [k, unaryHandler(s)])),
  // One sigmoid score is the probability of class 1 (binary classifiers).
  Sigmoid: meaning(unaryHandler(UNARY.Sigmoid), { outputKind: (last) => (last === 1 ? 'probabilities' : undefined) }),
  Sqrt: meaning(unaryHandler(UNARY.Sqrt), { passes: 'order' }),
  Clip: clip,
};
