import { meaning, type OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { FLOAT_TYPES, broadcastMap } from '../tensor.js';
import { type FamilyKernel, KERNELS } from '../abi/kernels.js';
import { type RtValue, type StepArgs, buf, countArg, f32, onnxTypeOf } from '../program.js';
import { foldIntUnary, lowerIntUnary, type IntUnary } from './int-unary.js';

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
  /** The op on integers (int32, int64, uint8, int8), where ONNX defines it. */
  int?: IntUnary;
}

const none = () => [];

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
  Neg: { kernel: 'unary_neg', params: none, fn: () => (x) => -x, int: 'neg' },
  Abs: { kernel: 'unary_abs', params: none, fn: () => Math.abs, int: 'abs' },
  Sqrt: { kernel: 'unary_sqrt', params: none, fn: () => Math.sqrt },
  Reciprocal: { kernel: 'unary_reciprocal', params: none, fn: () => (x) => 1 / x },
  Erf: { kernel: 'unary_erf', params: none, fn: () => erf },
  // NaN stays NaN, as onnxruntime and numpy
  Sign: { kernel: 'unary_sign', params: none, fn: () => (x) => (x !== x ? NaN : +(x > 0) - +(x < 0)), int: 'sign' },
  Elu: {
    kernel: 'unary_elu',
    params: (ctx) => [ctx.float('alpha', 1)],
    fn:
      ([a]) =>
      (x) =>
        x < 0 ? a * Math.expm1(x) : x,
  },
  Selu: {
    kernel: 'unary_selu',
    params: (ctx) => [ctx.float('alpha', 1.67326319217681884765625), ctx.float('gamma', 1.05070102214813232421875)],
    fn:
      ([a, g]) =>
      (x) =>
        x > 0 ? g * x : g * a * Math.expm1(x),
  },
  Celu: {
    kernel: 'unary_celu',
    params: (ctx) => [ctx.float('alpha', 1)],
    fn:
      ([a]) =>
      (x) =>
        x < 0 ? a * Math.expm1(x / a) : x,
  },
  ThresholdedRelu: {
    kernel: 'unary_thresholded_relu',
    params: (ctx) => [ctx.float('alpha', 1)],
    fn:
      ([a]) =>
      (x) =>
        x > a ? x : 0,
  },
  Shrink: {
    kernel: 'unary_shrink',
    params: (ctx) => [ctx.float('bias', 0), ctx.float('lambd', 0.5)],
    fn:
      ([bias, lambd]) =>
      (x) =>
        x < -lambd ? x + bias : x > lambd ? x - bias : 0,
  },
  Softplus: { kernel: 'unary_softplus', params: none, fn: () => softplus },
  Softsign: { kernel: 'unary_softsign', params: none, fn: () => (x) => x / (1 + Math.abs(x)) },
  Mish: { kernel: 'unary_mish', params: none, fn: () => (x) => x * Math.tanh(softplus(x)) },
  Sin: { kernel: 'unary_sin', params: none, fn: () => Math.sin },
  Cos: { kernel: 'unary_cos', params: none, fn: () => Math.cos },
  Tan: { kernel: 'unary_tan', params: none, fn: () => Math.tan },
  Asin: { kernel: 'unary_asin', params: none, fn: () => Math.asin },
  Acos: { kernel: 'unary_acos', params: none, fn: () => Math.acos },
  Atan: { kernel: 'unary_atan', params: none, fn: () => Math.atan },
  Sinh: { kernel: 'unary_sinh', params: none, fn: () => Math.sinh },
  Cosh: { kernel: 'unary_cosh', params: none, fn: () => Math.cosh },
  Asinh: { kernel: 'unary_asinh', params: none, fn: () => Math.asinh },
  Acosh: { kernel: 'unary_acosh', params: none, fn: () => Math.acosh },
  Atanh: { kernel: 'unary_atanh', params: none, fn: () => Math.atanh },
  Floor: { kernel: 'unary_floor', params: none, fn: () => Math.floor },
  Ceil: { kernel: 'unary_ceil', params: none, fn: () => Math.ceil },
  Round: { kernel: 'unary_round', params: none, fn: () => roundHalfToEven },
};

/** log(1 + e^x) without overflow. */
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Round half to even (as f32x4.nearest), keeping −0. */
const roundHalfToEven = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));

function unaryHandler(spec: UnarySpec): OpHandler {
  return {
    inputs: 'X',
    fold(ctx, [x]) {
      const f = FLOAT_TYPES.has(x!.dtype) || !spec.int ? spec.fn(spec.params(ctx)) : foldIntUnary(spec.int, x!.dtype);
      return [broadcastMap([x!], x!.dtype, f)];
    },
    lower(ctx) {
      const x = ctx.rtLayout(0);
      if (x.dtype !== 'float32' && spec.int) return ctx.output(0, lowerIntUnary(ctx, spec.int, ctx.rtAny(0)));
      ctx.output(0, lowerUnary(ctx, spec.kernel, spec.act, spec.params(ctx)));
    },
  };
}

export function lowerUnary(
  ctx: NodeContext,
  kernel: FamilyKernel<'unary'>,
  act: number | undefined,
  params: number[],
): RtValue {
  // Elementwise: any memory order will do, so channels-last values stay channels-last.
  const x = ctx.rtLayout(0);
  if (x.dtype !== 'float32')
    throw new NodeProblem(`${ctx.node.opType} on ${onnxTypeOf(x)} tensors is not supported (float32 is)`);
  const y = { ...ctx.inPlaceOr(x, x.dims), layout: x.layout };
  // The op's parameters, in order, are the kernel's parameters after x, y, n (compiler/abi/kernels.ts).
  const named = Object.fromEntries(KERNELS[kernel].params.slice(3).map(([name], i) => [name, f32(params[i])]));
  const args = { x: buf(x), y: buf(y), n: countArg(x), ...named } as StepArgs<typeof kernel>;
  const step = ctx.program.addStep(kernel, () => args, [x], [y]);
  // An activation the GEMM epilogue has: it may fold into the GEMM that wrote x (compiler/fuse.ts).
  if (act !== undefined) step.fusable = { kind: 'activation', act, p0: params[0] ?? 0, p1: params[1] ?? 0 };
  return y;
}

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
};
