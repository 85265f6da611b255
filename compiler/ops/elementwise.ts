import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lower.js';
import { batchAxisOf, buf, countArg, data, f32, type RtValue, type StepArgs, type Value } from '../program.js';
import { CODES } from '../abi/codes.js';
import { KERNELS, type FamilyKernel } from '../abi/kernels.js';
import { physicalDims, physicalPerm, toPlain } from '../layout.js';
import { broadcastMap, broadcastShapes, broadcastStrides, product, stridedView, stridesOf, Tensor } from '../tensor.js';
import { fuseColumnAffine } from './gemm.js';
import type { OpHandler } from './index.js';

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
  const x = ctx.rtLayout(0, true);
  if (x.dtype !== 'float32') throw new NodeProblem('integer inputs are not supported here');
  // Fuse into the GEMM that produced x, when x is read by nothing else.
  if (act !== undefined && x.gemm && x.gemm.act === ACT.NONE && x.buffer.pendingReads === 0) {
    x.gemm.act = act;
    [x.gemm.p0, x.gemm.p1] = [params[0] ?? 0, params[1] ?? 0];
    return { ...ctx.alias(x, x.dims), gemm: undefined };
  }
  const y = { ...ctx.inPlaceOr(x, x.dims, x.batched), layout: x.layout };
  // The op's parameters, in order, are the kernel's parameters after x, y, n (compiler/abi/kernels.ts).
  const named = Object.fromEntries(KERNELS[kernel].params.slice(3).map(([name], i) => [name, f32(params[i])]));
  const args = { x: buf(x), y: buf(y), n: countArg(x), ...named } as StepArgs<typeof kernel>;
  ctx.program.addStep(kernel, () => args, [x], [y]);
  return y;
}

const clip: OpHandler = {
  fold(ctx, [x]) {
    const [lo, hi] = clipBounds(ctx);
    return [broadcastMap([x!], x!.dtype, (v) => Math.min(Math.max(v, lo), hi))];
  },
  lower(ctx) {
    ctx.output(0, lowerUnary(ctx, 'unary_clip', ACT.CLIP, clipBounds(ctx)));
  },
};

interface BinarySpec {
  kernel: FamilyKernel<'binary'>;
  fn(a: number, b: number): number;
  /** Comparisons make booleans (1/0; kept as float32 at run time). */
  bool?: boolean;
  /** For integer tensors (constant folding only). */
  intFn?(a: number, b: number): number;
  /** The kernel for two integer (int64 → int32 at run time) operands, where there is one. */
  intKernel?: FamilyKernel<'binary'>;
}

const BINARY: Record<string, BinarySpec> = {
  Add: { kernel: 'binary_add', fn: (a, b) => a + b, intKernel: 'binary_add_i32' },
  Sub: { kernel: 'binary_sub', fn: (a, b) => a - b, intKernel: 'binary_sub_i32' },
  Mul: { kernel: 'binary_mul', fn: (a, b) => a * b, intKernel: 'binary_mul_i32' },
  Div: { kernel: 'binary_div', fn: (a, b) => a / b, intFn: (a, b) => Math.trunc(a / b) },
  Pow: { kernel: 'binary_pow', fn: Math.pow },
  Max: { kernel: 'binary_max', fn: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)) },
  Min: { kernel: 'binary_min', fn: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)) },
  Less: { kernel: 'binary_less', fn: (a, b) => +(a < b), bool: true },
  Greater: { kernel: 'binary_greater', fn: (a, b) => +(a > b), bool: true },
  Equal: { kernel: 'binary_equal', fn: (a, b) => +(a === b), bool: true },
  LessOrEqual: { kernel: 'binary_less_equal', fn: (a, b) => +(a <= b), bool: true },
  GreaterOrEqual: { kernel: 'binary_greater_equal', fn: (a, b) => +(a >= b), bool: true },
};

function foldBinary(spec: BinarySpec, a: Tensor, b: Tensor): Tensor {
  const f = !a.isFloat && spec.intFn ? spec.intFn : spec.fn;
  return broadcastMap([a, b], spec.bool ? 'bool' : a.dtype, f);
}

/**
 * One broadcasting binary kernel call. The kernel walks an i32 table [R, dims, a strides, b strides]
 * (written here into the data segment) whose dim 0 is replaced by the run-time row count.
 */
export function lowerBinary(
  ctx: NodeContext,
  kernel: FamilyKernel<'binary'>,
  a: Value,
  b: Value,
  dtype: 'float32' | 'int32' = 'float32',
): RtValue {
  const nhwc = [a, b].filter((v): v is RtValue => v.kind === 'rt' && v.layout === 'nhwc');
  if (nhwc.length) {
    const rank = nhwc[0].dims.length;
    const allChannelsLast = [a, b].every((v) =>
      v.kind === 'const' ? v.tensor.dims.length <= rank : v.layout === 'nhwc' && v.dims.length === rank,
    );
    if (allChannelsLast) {
      // Broadcast in memory order: constants are permuted like the images ([C,1,1] → [1,1,1,C]).
      const perm = physicalPerm(rank);
      const physical = (v: Value): Value => {
        if (v.kind === 'rt') return { ...v, dims: physicalDims(v.dims), layout: undefined, gemm: undefined };
        const t = v.tensor.reshape([...new Array(rank - v.tensor.dims.length).fill(1), ...v.tensor.dims]);
        const strides = stridesOf(t.dims);
        return {
          kind: 'const',
          tensor: stridedView(
            t,
            perm.map((p) => t.dims[p]),
            perm.map((p) => strides[p]),
            0,
          ),
        };
      };
      const y = lowerBinary(ctx, kernel, physical(a), physical(b), dtype);
      const logical = [y.dims[0], y.dims[rank - 1], ...y.dims.slice(1, rank - 1)];
      return { ...y, dims: logical, layout: 'nhwc' };
    }
    a = a.kind === 'rt' ? toPlain(ctx.program, a) : a;
    b = b.kind === 'rt' ? toPlain(ctx.program, b) : b;
  }
  const dimsOf = (v: Value) => (v.kind === 'rt' ? v.dims : v.tensor.dims);
  let out = broadcastShapes(dimsOf(a), dimsOf(b));
  if (!out) throw new NodeProblem(`input shapes [${dimsOf(a)}] and [${dimsOf(b)}] do not broadcast`, 'invalid-graph');
  const batched = (a.kind === 'rt' && a.batched) || (b.kind === 'rt' && b.batched);
  // Every batched operand must put its batch on the same output axis, and nothing else may vary there.
  let outBatch = -1;
  for (const v of [a, b]) {
    if (batchAxisOf(v) < 0) continue;
    const at = batchAxisOf(v) + out.length - dimsOf(v).length;
    if (outBatch >= 0 && at !== outBatch)
      throw new NodeProblem('the inputs have their batches on different axes', 'batch');
    outBatch = at;
  }
  if (batched) {
    ctx.movedBatch(outBatch, 'broadcasting a lower-rank batched input');
    for (const v of [a, b]) {
      const d = dimsOf(v);
      const own = d[outBatch - (out.length - d.length)] ?? 1;
      if (v.kind === 'const' && own !== 1)
        throw new NodeProblem(`a constant of shape [${d}] varies along the batch axis`, 'batch');
      if (v.kind === 'rt' && v.batched && own !== out[outBatch])
        throw new NodeProblem('inputs with different entries per batch row would broadcast across the batch', 'batch');
    }
  }
  if (out.length === 0) out = [1];
  const strides = (v: Value): number[] => {
    if (v.kind === 'const') return broadcastStrides(v.tensor.dims, out!);
    const s = broadcastStrides(v.dims, out!);
    // Axis 0 of a batched operand has rows × dims[0] entries, whatever its dims[0].
    if (v.batched && v.dims.length === out!.length) s[0] = product(v.dims.slice(1));
    return s;
  };
  const [dims, as, bs] = collapse(out, strides(a), strides(b));
  const table = ctx.program.addInts([dims.length, ...dims, ...as, ...bs]);

  const operand = (v: Value) => (v.kind === 'rt' ? v : null);
  const reusable = [operand(a), operand(b)].find(
    (v) => v && v.batched === batched && v.dims.length === out!.length && v.dims.every((d, i) => d === out![i]),
  );
  const y = {
    ...ctx.inPlaceOr(reusable ?? undefined, out, batched),
    batchAxis: outBatch > 0 ? outBatch : undefined,
    dtype,
  };
  const constant = (t: Tensor) =>
    dtype === 'int32' ? ctx.program.addInts(Array.from(t.numbers)) : ctx.program.addFloats(t.toFloat32());
  const arg = (v: Value) =>
    v.kind === 'rt' ? { t: 'buf' as const, b: v.buffer } : { t: 'data' as const, d: constant(v.tensor) };
  const [argA, argB] = [arg(a), arg(b)];
  const rows = batched ? { t: 'rows' as const, times: out[0] } : { t: 'i32' as const, v: out[0] };
  ctx.program.addStep(
    kernel,
    () => ({ a: argA, b: argB, y: buf(y), rows, table: data(table) }),
    [a, b].filter((v): v is RtValue => v.kind === 'rt'),
    [y],
  );
  return y;
}

/** Merge adjacent dims (after dim 0, which the batch replaces) that both operands walk contiguously. */
function collapse(dims: number[], as: number[], bs: number[]): [number[], number[], number[]] {
  const d = [dims[0]];
  const a = [as[0]];
  const b = [bs[0]];
  for (let i = 1; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = d.length - 1;
    const mergeable = last >= 1 && a[last] === as[i] * dims[i] && b[last] === bs[i] * dims[i];
    if (mergeable) {
      d[last] *= dims[i];
      a[last] = as[i];
      b[last] = bs[i];
    } else {
      d.push(dims[i]);
      a.push(as[i]);
      b.push(bs[i]);
    }
  }
  return [d, a, b];
}

function binaryHandler(name: string, spec: BinarySpec): OpHandler {
  return {
    fold: (_ctx, [a, b]) => [foldBinary(spec, a!, b!)],
    lower(ctx) {
      let a = ctx.input(0)!;
      let b = ctx.input(1)!;
      if (spec.bool) {
        // Comparing integers (class indices against codes: AdaBoost, ColumnTransformer exports) as floats
        // is exact below 2^24.
        a = a.kind === 'rt' ? asFloat(ctx, a) : a;
        b = b.kind === 'rt' ? asFloat(ctx, b) : b;
      }
      const isInt = (v: Value) => (v.kind === 'rt' ? v.dtype !== 'float32' : !v.tensor.isFloat);
      if (spec.intKernel && isInt(a) && isInt(b)) {
        // Integer arithmetic (IsolationForest's labels: a comparison cast to int64, times −2, plus 1).
        for (const v of [a, b]) {
          if (v.kind === 'rt' && v.categories?.some((c, i) => c !== i))
            throw new NodeProblem('arithmetic on class labels is not supported');
        }
        ctx.output(0, lowerBinary(ctx, spec.intKernel, a, b, 'int32'));
        return;
      }
      if ((a.kind === 'rt' && a.dtype !== 'float32') || (b.kind === 'rt' && b.dtype !== 'float32'))
        throw new NodeProblem('integer inputs are not supported here');
      const fused = fuseIntoGemm(ctx, name, a, b);
      ctx.output(0, fused ?? lowerBinary(ctx, spec.kernel, a, b));
    },
  };
}

/** Add/Sub/Mul of a constant row vector (or scalar) right after a GEMM folds into the GEMM. */
function fuseIntoGemm(ctx: NodeContext, name: string, a: Value, b: Value): RtValue | null {
  if (name !== 'Add' && name !== 'Sub' && name !== 'Mul') return null;
  const commutes = name !== 'Sub';
  const [x, c] =
    a.kind === 'rt' && b.kind === 'const'
      ? [a, b.tensor]
      : commutes && b.kind === 'rt' && a.kind === 'const'
        ? [b, a.tensor]
        : [null, null];
  if (!x?.gemm || !c) return null;
  const n = x.gemm.n;
  // One value per output channel: the last axis, or axis 1 of a channels-last image ([C,1,1]).
  const channelAxis = x.layout === 'nhwc' ? 1 : x.dims.length - 1;
  const aligned = [...new Array(Math.max(x.dims.length - c.dims.length, 0)).fill(1), ...c.dims];
  const perChannel = c.size === 1 || (c.size === n && c.dims.length <= x.dims.length && aligned[channelAxis] === n);
  if (!perChannel) return null;
  const values = c.toFloat32();
  const at = (j: number) => values[c.size === 1 ? 0 : j];
  if (name === 'Mul') return fuseColumnAffine(ctx, x, at, null);
  return fuseColumnAffine(ctx, x, null, name === 'Sub' ? (j) => -at(j) : at);
}

/** Sum, Mean, Max, Min take any number of inputs: a chain of binary calls. */
function variadicHandler(kernel: FamilyKernel<'binary'>, f: (a: number, b: number) => number, mean = false): OpHandler {
  return {
    fold(ctx, inputs) {
      let acc = inputs[0]!;
      for (const t of inputs.slice(1)) acc = broadcastMap([acc, t!], acc.dtype, f);
      return [mean ? broadcastMap([acc], acc.dtype, (v) => v / inputs.length) : acc];
    },
    lower(ctx) {
      let acc: Value = ctx.input(0)!;
      for (let i = 1; i < ctx.inputCount; i++) acc = lowerBinary(ctx, kernel, acc, ctx.input(i)!);
      if (mean)
        acc = lowerBinary(ctx, 'binary_mul', acc, {
          kind: 'const',
          tensor: Tensor.scalar('float32', 1 / ctx.inputCount),
        });
      ctx.output(0, acc);
    },
  };
}

/** A run-time value as float32: integers convert, class indices become their numeric class values. */
export function asFloat(ctx: NodeContext, x: RtValue): RtValue {
  if (x.dtype === 'float32') return x;
  const y = ctx.newValue(x.dims, x.batched);
  y.batchAxis = x.batchAxis;
  const cats = x.categories;
  const count = countArg(x);
  if (cats && cats.some((c, i) => c !== i)) {
    if (cats.some((c) => typeof c === 'string')) throw new NodeProblem('string class labels cannot be used as numbers');
    const table = ctx.program.addFloats(Float32Array.from(cats as number[]));
    ctx.program.addStep('lookup_f32', () => ({ idx: buf(x), table: data(table), y: buf(y), n: count }), [x], [y]);
  } else {
    ctx.program.addStep('cast_i32_f32', () => ({ x: buf(x), y: buf(y), n: count }), [x], [y]);
  }
  return y;
}

const scalar = (v: number): Value => ({ kind: 'const', tensor: Tensor.scalar('float32', v) });

/** x != 0 as a run-time boolean (1/0 float; NaN is true, as ONNX casts it). */
export function lowerNonZero(ctx: NodeContext, x: RtValue): RtValue {
  return lowerBinary(ctx, 'binary_sub', scalar(1), lowerBinary(ctx, 'binary_equal', asFloat(ctx, x), scalar(0)));
}

/**
 * Logical ops on run-time booleans, which are 1/0 floats: Not = 1 − x, And = a·b, Or = max, Xor = a ≠ b;
 * IsNaN = 1 − (x == x). Converters emit them around classic models (SGDClassifier, calibration,
 * PowerTransformer, QuantileTransformer).
 */
function logicalHandler(
  arity: 1 | 2,
  fn: (a: number, b: number) => number,
  lower: (ctx: NodeContext, a: Value, b: Value) => RtValue,
): OpHandler {
  return {
    fold: (_ctx, [a, b]) => [broadcastMap(arity === 1 ? [a!] : [a!, b!], 'bool', fn)],
    lower(ctx) {
      const a = ctx.input(0)!;
      const b = arity === 2 ? ctx.input(1)! : a;
      ctx.output(0, lower(ctx, a.kind === 'rt' ? asFloat(ctx, a) : a, b.kind === 'rt' ? asFloat(ctx, b) : b));
    },
  };
}

const not = (ctx: NodeContext, x: Value) => lowerBinary(ctx, 'binary_sub', scalar(1), x);
const LOGICAL: Record<string, OpHandler> = {
  Not: logicalHandler(
    1,
    (a) => +!a,
    (ctx, a) => not(ctx, a),
  ),
  And: logicalHandler(
    2,
    (a, b) => +(!!a && !!b),
    (ctx, a, b) => lowerBinary(ctx, 'binary_mul', a, b),
  ),
  Or: logicalHandler(
    2,
    (a, b) => +(!!a || !!b),
    (ctx, a, b) => lowerBinary(ctx, 'binary_max', a, b),
  ),
  Xor: logicalHandler(
    2,
    (a, b) => +(!!a !== !!b),
    (ctx, a, b) => not(ctx, lowerBinary(ctx, 'binary_equal', a, b)),
  ),
  IsNaN: logicalHandler(
    1,
    (a) => +Number.isNaN(a),
    (ctx, a) => not(ctx, lowerBinary(ctx, 'binary_equal', a, a)),
  ),
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

export const ELEMENTWISE_OPS: Record<string, OpHandler> = {
  ...Object.fromEntries(Object.entries(UNARY).map(([k, s]) => [k, unaryHandler(s)])),
  ...Object.fromEntries(Object.entries(BINARY).map(([k, s]) => [k, binaryHandler(k, s)])),
  Clip: clip,
  ...LOGICAL,
  Sum: variadicHandler('binary_add', (a, b) => a + b),
  Mean: variadicHandler('binary_add', (a, b) => a + b, true),
};
// Max/Min take any number of inputs too: two is the common case, more chain.
ELEMENTWISE_OPS.Max = variadicHandler('binary_max', BINARY.Max.fn);
ELEMENTWISE_OPS.Min = variadicHandler('binary_min', BINARY.Min.fn);
