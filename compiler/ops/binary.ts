import type { FamilyKernel } from '../abi/kernels.js';
import { meaning, type OpHandler } from './op.js';
import type { NodeContext } from '../lowering/context.js';
import { broadcastRows } from '../lowering/rows.js';
import { broadcastShapes, broadcastStrides, shapeToString, type SizeCheck } from '../shape/shapes.js';
import { add, floorDiv, isConst, max, min, mul, sameSize, sameSizes, sub, type Size } from '../shape/size.js';
import { NodeProblem } from '../errors.js';
import { Tensor, broadcastMap, stridedView, stridesOf as tensorStrides } from '../tensor.js';
import { physicalDims, physicalPerm, toPlain } from '../lowering/layout.js';
import { legacyBroadcast, requireSameShapes } from './legacy.js';
import {
  buf,
  countArg,
  i32,
  type ConstValue,
  type EpilogueOp,
  type PtrArg,
  type RtValue,
  type ShapeValue,
  type Value,
  data,
} from '../program.js';

/**
 * Elementwise binary ops with numpy broadcasting (arithmetic, comparisons, logic, the variadic Sum/Mean/Max/Min):
 * one broadcasting kernel call each (assembly/binary.ts).
 */

interface BinarySpec {
  kernel: FamilyKernel<'binary'>;
  fn(a: number, b: number): number;
  /** Comparisons make booleans (1/0; kept as float32 at run time). */
  bool?: boolean;
  /** For integer tensors (constant folding only). */
  intFn?(a: number, b: number): number;
  /** The kernel for two integer (int64 → int32 at run time) operands, where there is one. */
  intKernel?: FamilyKernel<'binary'>;
  /** The op on sizes (shape arithmetic that stays symbolic at compile time). */
  sizeFn?(a: Size, b: Size): Size | undefined;
}

const BINARY: Record<string, BinarySpec> = {
  Add: { kernel: 'binary_add', fn: (a, b) => a + b, intKernel: 'binary_add_i32', sizeFn: add },
  Sub: { kernel: 'binary_sub', fn: (a, b) => a - b, intKernel: 'binary_sub_i32', sizeFn: sub },
  Mul: { kernel: 'binary_mul', fn: (a, b) => a * b, intKernel: 'binary_mul_i32', sizeFn: mul },
  // Sizes are non-negative: truncation is floor division (a negative divisor stays unknown).
  Div: {
    kernel: 'binary_div',
    fn: (a, b) => a / b,
    intFn: (a, b) => Math.trunc(a / b),
    sizeFn: (a, b) => (typeof b === 'number' && b > 0 ? floorDiv(a, b) : undefined),
  },
  Pow: { kernel: 'binary_pow', fn: Math.pow },
  Max: { kernel: 'binary_max', fn: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)), sizeFn: max },
  Min: { kernel: 'binary_min', fn: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)), sizeFn: min },
  Less: { kernel: 'binary_less', fn: (a, b) => +(a < b), bool: true },
  Greater: { kernel: 'binary_greater', fn: (a, b) => +(a > b), bool: true },
  // Sizes are never negative: a symbolic size is not −1 (torch's "-1 means keep" in Expand shapes).
  Equal: {
    kernel: 'binary_equal',
    fn: (a, b) => +(a === b),
    bool: true,
    sizeFn: (a, b) =>
      sameSize(a, b)
        ? 1
        : isConst(a) && isConst(b)
          ? 0
          : (isConst(a) && a < 0) || (isConst(b) && b < 0)
            ? 0
            : undefined,
  },
  LessOrEqual: { kernel: 'binary_less_equal', fn: (a, b) => +(a <= b), bool: true },
  GreaterOrEqual: { kernel: 'binary_greater_equal', fn: (a, b) => +(a >= b), bool: true },
};

/**
 * An op on two integer vectors/scalars of which at least one is a shape value (sizes known up to
 * symbols): the elementwise result as sizes, or undefined when it cannot stay symbolic.
 */
function foldSizes(a: Value, b: Value, f: (a: Size, b: Size) => Size | undefined): ShapeValue | undefined {
  if (a.kind === 'rt' || b.kind === 'rt' || (a.kind !== 'shape' && b.kind !== 'shape')) return undefined;
  const sizesOf = (v: ShapeValue | ConstValue): Size[] | undefined =>
    v.kind === 'shape' ? v.values : v.tensor.isFloat ? undefined : Array.from(v.tensor.numbers);
  const [va, vb] = [sizesOf(a), sizesOf(b)];
  const [da, db] = [dimsOf(a) as number[], dimsOf(b) as number[]];
  if (!va || !vb || da.length > 1 || db.length > 1) return undefined;
  const n = Math.max(va.length, vb.length);
  if ((va.length !== n && va.length !== 1) || (vb.length !== n && vb.length !== 1)) return undefined;
  const values: Size[] = [];
  for (let i = 0; i < n; i++) {
    const r = f(va[va.length === 1 ? 0 : i], vb[vb.length === 1 ? 0 : i]);
    if (r === undefined) return undefined;
    values.push(r);
  }
  return { kind: 'shape', dims: da.length || db.length ? [n] : [], values };
}

/** B of a constant op at opsets 1–6, re-viewed as its `broadcast`/`axis` attributes say (ops/legacy.ts). */
function legacyTensor(ctx: NodeContext, a: Tensor, b: Tensor): Tensor {
  return (legacyBroadcast(ctx, { kind: 'const', tensor: a }, { kind: 'const', tensor: b }) as ConstValue).tensor;
}

function foldBinary(spec: BinarySpec, a: Tensor, b: Tensor): Tensor {
  const f = !a.isFloat && spec.intFn ? spec.intFn : spec.fn;
  return broadcastMap([a, b], spec.bool ? 'bool' : a.dtype, f);
}

/**
 * One broadcasting binary kernel call. The kernel walks an i32 table [R, dims, a strides, b strides] whose
 * dim 0 is given as its `rows` argument; the table is written at run time when sizes are symbolic.
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
      v.kind === 'const'
        ? v.tensor.dims.length <= rank
        : v.kind === 'rt' && v.layout === 'nhwc' && v.dims.length === rank,
    );
    if (allChannelsLast) {
      // Broadcast in memory order: constants are permuted like the images ([C,1,1] → [1,1,1,C]).
      const perm = physicalPerm(rank);
      const physical = (v: Value): Value => {
        if (v.kind === 'rt') return { ...v, dims: physicalDims(v.dims), layout: undefined };
        const t = (v as ConstValue).tensor;
        const full = t.reshape([...new Array(rank - t.dims.length).fill(1), ...t.dims]);
        const strides = tensorStrides(full.dims);
        return {
          kind: 'const',
          tensor: stridedView(
            full,
            perm.map((p) => full.dims[p]),
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
  [a, b] = [a, b].map((v) => asRuntimeOperand(ctx, v, dtype));
  const checks: SizeCheck[] = [];
  let out = broadcastShapes(dimsOf(a), dimsOf(b), checks);
  if (!out)
    throw new NodeProblem(
      `input shapes ${shapeToString(dimsOf(a))} and ${shapeToString(dimsOf(b))} do not broadcast`,
      'invalid-graph',
    );
  for (const c of checks) ctx.require(c.a, c.b, c.message);
  const rowAxis = broadcastRows([a, b], out.length);
  if (out.length === 0) out = [1];
  const strides = (v: Value): Size[] => broadcastStrides(dimsOf(v), out!);
  const [dims, as, bs] = collapse(out, strides(a), strides(b));
  const table = ctx.program.addTable([dims.length, ...dims, ...as, ...bs]);

  const operand = (v: Value) => (v.kind === 'rt' ? v : null);
  const reusable = [operand(a), operand(b)].find((v) => v && sameSizes(v.dims, out!));
  const y = { ...ctx.inPlaceOr(reusable ?? undefined, out, dtype), rowAxis };
  const constant = (t: Tensor) =>
    dtype === 'int32' ? ctx.program.addInts(Array.from(t.numbers)) : ctx.program.addFloats(t.toFloat32());
  const arg = (v: Value): PtrArg =>
    v.kind === 'rt' ? { t: 'buf', b: v.buffer } : { t: 'data', d: constant((v as ConstValue).tensor) };
  const [argA, argB] = [arg(a), arg(b)];
  const step = ctx.program.addStep(
    kernel,
    () => ({ a: argA, b: argB, y: buf(y), rows: i32(out![0]), table }),
    [a, b].filter((v): v is RtValue => v.kind === 'rt'),
    [y],
  );
  step.fusable = columnAffine(kernel, a, b, out);
  return y;
}

const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);

/** A shape value (sizes known only at run time) as a run-time tensor of `dtype`; other values as they are. */
function asRuntimeOperand(ctx: NodeContext, v: Value, dtype: 'float32' | 'int32'): Value {
  if (v.kind !== 'shape') return v;
  const ints = { ...ctx.newValue(v.dims, 'int32'), rowAxis: 'none' as const };
  const table = ctx.program.addTable(v.values);
  ctx.program.addStep('copy', () => ({ x: table, y: buf(ints), nbytes: i32(v.values.length * 4) }), [], [ints]);
  if (dtype === 'int32') return ints;
  const floats = { ...ctx.newValue(v.dims), rowAxis: 'none' as const };
  ctx.program.addStep(
    'cast_i32_f32',
    () => ({ x: buf(ints), y: buf(floats), n: i32(v.values.length) }),
    [ints],
    [floats],
  );
  return floats;
}

/** Merge adjacent dims (after dim 0, the kernel's `rows`) that both operands walk contiguously. */
function collapse(dims: Size[], as: Size[], bs: Size[]): [Size[], Size[], Size[]] {
  const d = [dims[0]];
  const a = [as[0]];
  const b = [bs[0]];
  for (let i = 1; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = d.length - 1;
    const mergeable = last >= 1 && sameSize(a[last], mul(as[i], dims[i])) && sameSize(b[last], mul(bs[i], dims[i]));
    if (mergeable) {
      d[last] = mul(d[last], dims[i]);
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
    inputs: 'A B',
    fold: (ctx, [a, b]) => [foldBinary(spec, a!, legacyTensor(ctx, a!, b!))],
    lower(ctx) {
      let a = ctx.input(0)!;
      let b = legacyBroadcast(ctx, a, ctx.input(1)!);
      // Shape arithmetic (sizes from Shape, +, ·, ÷ by constants) stays symbolic at compile time.
      const sizes = spec.sizeFn && foldSizes(a, b, spec.sizeFn);
      if (sizes && spec.bool)
        return ctx.output(0, {
          kind: 'const',
          tensor: Tensor.fromNumbers('bool', sizes.dims, sizes.values as number[]),
        });
      if (sizes) return ctx.outputSizes(0, sizes.dims, sizes.values);
      for (const v of [a, b]) {
        if (v.kind === 'rt' && v.dtype === 'int64')
          throw new NodeProblem('int64 arithmetic on values computed at run time is not supported yet');
      }
      if (spec.bool) {
        // Comparing integers (class indices against codes: AdaBoost, ColumnTransformer exports) as floats
        // is exact below 2^24.
        a = a.kind === 'rt' ? asFloat(ctx, a) : a;
        b = b.kind === 'rt' ? asFloat(ctx, b) : b;
      }
      const isInt = (v: Value) => (v.kind === 'rt' ? v.dtype !== 'float32' : v.kind === 'shape' || !v.tensor.isFloat);
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
      const y = lowerBinary(ctx, spec.kernel, a, b);
      ctx.output(0, spec.bool ? { ...y, onnx: 'bool' } : y);
    },
  };
}

/**
 * x + c, c + x, x − c, x · c or c · x with a constant c that varies only along x's last axis (or not at all):
 * a per-column affine map a GEMM's epilogue can apply instead, when x is its output (compiler/fuse.ts).
 * A channels-last image reaches here in memory order, its channels last.
 */
function columnAffine(kernel: FamilyKernel<'binary'>, a: Value, b: Value, out: Size[]): EpilogueOp | undefined {
  if (kernel !== 'binary_add' && kernel !== 'binary_sub' && kernel !== 'binary_mul') return undefined;
  const [x, c] =
    a.kind === 'rt' && b.kind === 'const'
      ? [a, b.tensor]
      : kernel !== 'binary_sub' && b.kind === 'rt' && a.kind === 'const'
        ? [b, a.tensor]
        : [null, null];
  if (!x || !c || x.dtype !== 'float32' || x.layout || !c.isFloat) return undefined;
  if (!sameSizes(x.dims, out)) return undefined; // x itself broadcast
  const channels = x.dims[x.dims.length - 1];
  if (typeof channels !== 'number') return undefined;
  const aligned = [...new Array(Math.max(x.dims.length - c.dims.length, 0)).fill(1), ...c.dims];
  const alongLast = c.dims.length <= x.dims.length && aligned[aligned.length - 1] === c.size;
  if (c.size !== 1 && !(c.size === channels && alongLast)) return undefined;
  const values = c.toFloat32();
  const column = Float32Array.from({ length: channels }, (_, j) => values[c.size === 1 ? 0 : j]);
  if (kernel === 'binary_mul') return { kind: 'affine', scale: column, bias: null, channels };
  return { kind: 'affine', scale: null, bias: kernel === 'binary_sub' ? column.map((v) => -v) : column, channels };
}

/** Sum, Mean, Max, Min take any number of inputs: a chain of binary calls. */
function variadicHandler(kernel: FamilyKernel<'binary'>, f: (a: number, b: number) => number, mean = false): OpHandler {
  return {
    inputs: '...data_0',
    fold(ctx, inputs) {
      requireSameShapes(
        ctx,
        inputs.map((t) => ({ kind: 'const', tensor: t! })),
      );
      let acc = inputs[0]!;
      for (const t of inputs.slice(1)) acc = broadcastMap([acc, t!], acc.dtype, f);
      return [mean ? broadcastMap([acc], acc.dtype, (v) => v / inputs.length) : acc];
    },
    lower(ctx) {
      requireSameShapes(
        ctx,
        Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i)!),
      );
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

/** A run-time value as float32: integers and booleans convert, class indices become their class values. */
export function asFloat(ctx: NodeContext, x: RtValue): RtValue {
  if (x.dtype === 'float32') return x;
  const y = { ...ctx.newValue(x.dims), rowAxis: x.rowAxis };
  const cats = x.categories;
  const n = countArg(x);
  if (cats && cats.some((c, i) => c !== i)) {
    if (cats.some((c) => typeof c === 'string')) throw new NodeProblem('string class labels cannot be used as numbers');
    const table = ctx.program.addFloats(Float32Array.from(cats as number[]));
    ctx.program.addStep('lookup_f32', () => ({ idx: buf(x), table: data(table), y: buf(y), n }), [x], [y]);
    return y;
  }
  const kernel = ({ int32: 'cast_i32_f32', int64: 'cast_i64_f32', uint8: 'cast_u8_f32', int8: 'cast_i8_f32' } as const)[
    x.dtype
  ];
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n }), [x], [y]);
  return y;
}

const scalar = (v: number): Value => ({ kind: 'const', tensor: Tensor.scalar('float32', v) });

/** x != 0 as a run-time boolean (1/0 float; NaN is true, as ONNX casts it). */
export function lowerNonZero(ctx: NodeContext, x: RtValue): RtValue {
  const y = lowerBinary(ctx, 'binary_sub', scalar(1), lowerBinary(ctx, 'binary_equal', asFloat(ctx, x), scalar(0)));
  return { ...y, onnx: 'bool' };
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
    inputs: arity === 1 ? 'X' : 'A B',
    fold: (ctx, [a, b]) => [broadcastMap(arity === 1 ? [a!] : [a!, legacyTensor(ctx, a!, b!)], 'bool', fn)],
    lower(ctx) {
      const a = ctx.input(0)!;
      const b = arity === 2 ? legacyBroadcast(ctx, a, ctx.input(1)!) : a;
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
  // A model that tests for NaN handles missing values itself.
  IsNaN: meaning(
    logicalHandler(
      1,
      (a) => +Number.isNaN(a),
      (ctx, a) => not(ctx, lowerBinary(ctx, 'binary_equal', a, a)),
    ),
    { acceptsMissing: true },
  ),
};

export const BINARY_OPS: Record<string, OpHandler> = {
  ...Object.fromEntries(Object.entries(BINARY).map(([k, s]) => [k, binaryHandler(k, s)])),
  ...LOGICAL,
  Sum: variadicHandler('binary_add', (a, b) => a + b),
  Mean: variadicHandler('binary_add', (a, b) => a + b, true),
  // Max/Min take any number of inputs too: two is the common case, more chain.
  Max: variadicHandler('binary_max', BINARY.Max.fn),
  Min: variadicHandler('binary_min', BINARY.Min.fn),
};
