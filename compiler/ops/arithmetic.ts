import type { FamilyKernel } from '../abi/kernels.js';
import { legacyBroadcast, legacyTensor, requireSameShapes } from './legacy.js';
import { INTEGER_KERNELS } from '../abi/integer.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { onnxTypeOf, type RtValue, type Storage, type Value } from '../program.js';
import { add, floorDiv, max, min, mod, mul, sub, type Size } from '../shape/size.js';
import { FLOAT_TYPES, Tensor, broadcastMap, type DataType } from '../tensor.js';
import { foldSizes, lowerBinary } from './binary.js';
import { CODE, commonStorage, lowerBroadcast, storageOfValue, type BroadcastKernel } from './elementwise.js';
import type { OpHandler } from './op.js';
import { floatPowInt, intBinary, intPowFloat, type IntOp } from './typed-fold.js';

/**
 * Elementwise arithmetic with numpy broadcasting on every element type ONNX gives it: Add, Sub, Mul, Div,
 * Pow, Mod, BitShift and the variadic Sum, Mean, Max, Min. float32 runs the SIMD binary family
 * (assembly/binary.ts); int32, int64, uint8 and int8 the integer kernels (compiler/abi/integer.ts) with
 * their semantics: wrapping in the type's width, and division or modulo by zero giving 0 where
 * onnxruntime stops with an error. Sizes (shape values) stay symbolic through + − · ÷ min max mod.
 */

interface ArithSpec {
  float: FamilyKernel<'binary'>;
  int: IntOp;
  /** The float32 op (constant folding; the result is rounded to float32 as the kernel's is). */
  fn(a: number, b: number): number;
  /** The op on sizes (shape arithmetic that stays symbolic at compile time). */
  sizeFn?(a: Size, b: Size): Size | undefined;
}

const nanOr = (f: (a: number, b: number) => number) => (a: number, b: number) => (a !== a || b !== b ? NaN : f(a, b));

const ARITH = {
  Add: { float: 'binary_add', int: 'add', fn: (a, b) => a + b, sizeFn: add },
  Sub: { float: 'binary_sub', int: 'sub', fn: (a, b) => a - b, sizeFn: sub },
  Mul: { float: 'binary_mul', int: 'mul', fn: (a, b) => a * b, sizeFn: mul },
  // Sizes are non-negative: truncation is floor division (a negative divisor stays unknown).
  Div: {
    float: 'binary_div',
    int: 'div',
    fn: (a, b) => a / b,
    sizeFn: (a, b) => (typeof b === 'number' && b > 0 ? floorDiv(a, b) : undefined),
  },
  Max: { float: 'binary_max', int: 'max', fn: nanOr(Math.max), sizeFn: max },
  Min: { float: 'binary_min', int: 'min', fn: nanOr(Math.min), sizeFn: min },
} as const satisfies Record<string, ArithSpec>;

const isFloat = (t: DataType) => FLOAT_TYPES.has(t);

/** The ONNX element type of an op's operands, taken from a run-time one where there is one. */
function operandType(values: Value[]): DataType {
  return onnxTypeOf(values.find((v) => v.kind === 'rt') ?? values[0]);
}

/** A run-time result labelled with its ONNX type where memory holds it otherwise (int64 held as int32). */
const withType = (y: RtValue, type: DataType): RtValue => ({ ...y, onnx: type === y.dtype ? undefined : type });

/** Sizes as a value: a constant when every one is known. */
function sizesValue(dims: number[], values: Size[]): Value {
  return values.every((s) => typeof s === 'number')
    ? { kind: 'const', tensor: Tensor.fromNumbers('int64', dims, values as number[]) }
    : { kind: 'shape', dims, values };
}

/** The integer kernel for an op on `storage`; an error naming the type where there is none. */
function integerKernel(op: IntOp, storage: Storage, type: DataType, opType: string): BroadcastKernel {
  const name = `${storage === 'uint8' && op === 'fmod' ? 'mod' : op}_${CODE[storage]}`;
  if (!(name in INTEGER_KERNELS))
    throw new NodeProblem(`${opType} on ${type} tensors computed at run time is not supported`);
  return name as BroadcastKernel;
}

/** An integer op over two operands of one integer type, in the storage they meet in. */
function lowerInteger(ctx: NodeContext, op: IntOp, a: Value, b: Value, type: DataType): RtValue {
  for (const v of [a, b]) {
    if (v.kind === 'rt' && v.categories?.some((c, i) => c !== i))
      throw new NodeProblem('arithmetic on class labels is not supported');
  }
  const storage = commonStorage([a, b]);
  if (storage === 'float32') throw new NodeProblem(`the operands are ${type} but held as floats`, 'internal');
  const kernel = integerKernel(op, storage, type, ctx.node.opType);
  return withType(lowerBroadcast(ctx, kernel, a, b, [storage, storage], storage), type);
}

/** Both operands must be float32 at run time when the op is on floats. */
function requireFloats(a: Value, b: Value): void {
  for (const v of [a, b]) {
    if (v.kind === 'rt' && v.dtype !== 'float32')
      throw new NodeProblem(
        `the operands have different element types (${onnxTypeOf(a)}, ${onnxTypeOf(b)})`,
        'invalid-graph',
      );
  }
}

function lowerArithmetic(ctx: NodeContext, spec: ArithSpec, a: Value, b: Value): Value {
  // Shape arithmetic (sizes from Shape, +, ·, ÷ by constants) stays symbolic at compile time.
  const sizes = spec.sizeFn && foldSizes(a, b, spec.sizeFn);
  if (sizes) return sizesValue(sizes.dims, sizes.values);
  const type = operandType([a, b]);
  if (!isFloat(type)) return lowerInteger(ctx, spec.int, a, b, type);
  requireFloats(a, b);
  return lowerBinary(ctx, spec.float, a, b);
}

/** max(a, b) or min(a, b) with broadcasting on any numeric type (Clip's bounds). */
export const lowerMinMax = (ctx: NodeContext, op: 'Max' | 'Min', a: Value, b: Value): Value =>
  lowerArithmetic(ctx, ARITH[op], a, b);

/** The op on constants of `dtype`, as the kernel computes it. */
const foldFn = (spec: ArithSpec, dtype: DataType) => (isFloat(dtype) ? spec.fn : intBinary(spec.int, dtype));

function arithmeticHandler(spec: ArithSpec): OpHandler {
  return {
    inputs: 'A B',
    fold: (ctx, [a, b]) => [broadcastMap([a!, legacyTensor(ctx, a!, b!)], a!.dtype, foldFn(spec, a!.dtype))],
    lower: (ctx) =>
      ctx.output(0, lowerArithmetic(ctx, spec, ctx.input(0)!, legacyBroadcast(ctx, ctx.input(0)!, ctx.input(1)!))),
  };
}

/** Sum, Mean, Max, Min take any number of inputs: a chain of binary calls. */
function variadicHandler(spec: ArithSpec, mean = false): OpHandler {
  return {
    inputs: '...data_0',
    fold(ctx, inputs) {
      requireSameShapes(
        ctx,
        inputs.map((t) => ({ kind: 'const', tensor: t! })),
      );
      const dtype = inputs[0]!.dtype;
      let acc = inputs[0]!;
      for (const t of inputs.slice(1)) acc = broadcastMap([acc, t!], dtype, foldFn(spec, dtype));
      // The kernel multiplies by 1/n in float32.
      const scale = Math.fround(1 / inputs.length);
      return [mean ? broadcastMap([acc], dtype, (v) => v * scale) : acc];
    },
    lower(ctx) {
      requireSameShapes(
        ctx,
        Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i)!),
      );
      let acc: Value = ctx.input(0)!;
      for (let i = 1; i < ctx.inputCount; i++) acc = lowerArithmetic(ctx, spec, acc, ctx.input(i)!);
      if (mean) {
        if (!isFloat(onnxTypeOf(acc))) throw new NodeProblem('Mean takes floating-point tensors', 'invalid-graph');
        acc = lowerBinary(ctx, 'binary_mul', acc, {
          kind: 'const',
          tensor: Tensor.scalar('float32', 1 / ctx.inputCount),
        });
      }
      ctx.output(0, acc);
    },
  };
}

/**
 * Pow: float^float (the SIMD kernel), float^int and int^float as onnxruntime mixes them, int^int (exact
 * while the power fits; MIN where out of range). The result has the base's type.
 */
const pow: OpHandler = {
  inputs: 'X Y',
  fold(_ctx, [x, y]) {
    const t = x!.dtype;
    const f = isFloat(t)
      ? isFloat(y!.dtype)
        ? Math.pow
        : floatPowInt
      : isFloat(y!.dtype)
        ? (a: number, b: number) => intPowFloat(a, b, t)
        : intBinary('pow', t);
    return [broadcastMap([x!, y!], t, f)];
  },
  lower(ctx) {
    const [x, y] = [ctx.input(0)!, ctx.input(1)!];
    const [tx, ty] = [onnxTypeOf(x), onnxTypeOf(y)];
    if (isFloat(tx) && isFloat(ty)) {
      requireFloats(x, y);
      return ctx.output(0, lowerBinary(ctx, 'binary_pow', x, y));
    }
    if (isFloat(tx)) {
      // The exponent as int32 or int64 (uint8 and int8 widen, exactly).
      const e = storageOfValue(y) === 'int64' ? 'int64' : 'int32';
      const kernel = e === 'int64' ? 'pow_f32_i64' : 'pow_f32_i32';
      return ctx.output(0, lowerBroadcast(ctx, kernel, x, y, ['float32', e], 'float32'));
    }
    const base = storageOfValue(x);
    if (base !== 'int32' && base !== 'int64')
      throw new NodeProblem(`Pow on ${tx} tensors computed at run time is not supported (int32 and int64 are)`);
    const kernel = isFloat(ty) ? (`pow_${CODE[base]}_f32` as const) : (`pow_${CODE[base]}` as const);
    const y2 = lowerBroadcast(ctx, kernel, x, y, [base, isFloat(ty) ? 'float32' : base], base);
    ctx.output(0, withType(y2, tx));
  },
};

/** Mod: integers with fmod 0 (the sign of the divisor) or 1 (C's %); floats only with fmod 1 (C's fmod). */
const modHandler: OpHandler = {
  inputs: 'A B',
  fold(ctx, [a, b]) {
    const dtype = a!.dtype;
    const fmod = checkFmod(ctx, dtype);
    return [broadcastMap([a!, b!], dtype, isFloat(dtype) ? (x, y) => x % y : intBinary(fmod ? 'fmod' : 'mod', dtype))];
  },
  lower(ctx) {
    const [a, b] = [ctx.input(0)!, ctx.input(1)!];
    const type = operandType([a, b]);
    const fmod = checkFmod(ctx, type);
    // Sizes are non-negative: both forms agree on them for a positive divisor.
    const sizes = foldSizes(a, b, (x, y) => (typeof y === 'number' && y > 0 ? mod(x, y) : undefined));
    if (sizes) return ctx.output(0, sizesValue(sizes.dims, sizes.values));
    if (!isFloat(type)) return ctx.output(0, lowerInteger(ctx, fmod ? 'fmod' : 'mod', a, b, type));
    requireFloats(a, b);
    ctx.output(0, lowerBroadcast(ctx, 'fmod_f32', a, b, ['float32', 'float32'], 'float32'));
  },
};

function checkFmod(ctx: NodeContext, type: DataType): boolean {
  const fmod = ctx.int('fmod', 0) !== 0;
  if (isFloat(type) && !fmod)
    throw new NodeProblem(
      'Mod on floating-point tensors needs fmod = 1 (ONNX defines no other float Mod; onnxruntime refuses it too)',
      'invalid-graph',
    );
  return fmod;
}

/** BitShift on unsigned integers (uint8 at run time): x << y or x >> y; a shift by the width or more gives 0. */
const bitShift: OpHandler = {
  inputs: 'X Y',
  fold: (ctx, [x, y]) => [broadcastMap([x!, y!], x!.dtype, intBinary(shiftOp(ctx), x!.dtype))],
  lower(ctx) {
    const [x, y] = [ctx.input(0)!, ctx.input(1)!];
    ctx.output(0, lowerInteger(ctx, shiftOp(ctx), x, y, operandType([x, y])));
  },
};

function shiftOp(ctx: NodeContext): IntOp {
  const direction = ctx.string('direction', '');
  if (direction !== 'LEFT' && direction !== 'RIGHT')
    throw new NodeProblem(`direction must be "LEFT" or "RIGHT", not "${direction}"`, 'invalid-graph');
  return direction === 'LEFT' ? 'shl' : 'shr';
}

export const ARITHMETIC_OPS: Record<string, OpHandler> = {
  Add: arithmeticHandler(ARITH.Add),
  Sub: arithmeticHandler(ARITH.Sub),
  Mul: arithmeticHandler(ARITH.Mul),
  Div: arithmeticHandler(ARITH.Div),
  Pow: pow,
  Mod: modHandler,
  BitShift: bitShift,
  Sum: variadicHandler(ARITH.Add),
  Mean: variadicHandler(ARITH.Add, true),
  // Max/Min take any number of inputs too: two is the common case, more chain.
  Max: variadicHandler(ARITH.Max),
  Min: variadicHandler(ARITH.Min),
};
