import type { OpHandler } from '../op.js';
import { NodeProblem } from '../../errors.js';
import { normalizeAxis, type NodeContext } from '../../lowering/context.js';
import { buf, i32, type RtValue, type Storage } from '../../program.js';
import { product, type Size } from '../../shape/size.js';
import { Tensor, type DataType } from '../../tensor.js';
import { dequantize, dynamicParameters, quantize, U8 } from './math.js';
import { operand, perChannel, perTensor, ptrOf, qtypeOf, required, storageFor, type Operand } from './operands.js';

/**
 * QuantizeLinear (opsets 10, 13, 19, 21 without blocks), DequantizeLinear (same; uint8, int8, int32) and
 * DynamicQuantizeLinear (11): per tensor, or per axis with a 1-D scale (and zero point) along `axis`.
 * Scales and zero points may be constants or computed at run time; the kernels read them in place.
 */

/** A tensor viewed about its quantization axis: [outer, axis, inner] (per tensor: [1, 1, size]). */
interface AxisView {
  outer: Size;
  axis: Size;
  inner: Size;
  /** The axis, for per-axis quantization. */
  at?: number;
}

/** The view the scale's shape asks for (opset 13+: 1-D along `axis`; before: one scale only). */
function axisView(ctx: NodeContext, dims: Size[], scale: Operand, zp: Operand | undefined): AxisView {
  if (ctx.int('block_size', 0) !== 0)
    throw new NodeProblem('blocked quantization (block_size ≠ 0) is not supported yet');
  if (ctx.opset < 13) {
    perTensor(ctx, scale, 'the scale');
    perTensor(ctx, zp, 'the zero point');
    return { outer: 1, axis: 1, inner: product(dims) };
  }
  const scalar = scale.dims.length === 0 || (scale.dims.length === 1 && scale.dims[0] === 1);
  if (scalar) {
    perTensor(ctx, zp, 'the zero point (with one scale)');
    return { outer: 1, axis: 1, inner: product(dims) };
  }
  const at = normalizeAxis(ctx.int('axis', 1), dims.length);
  perChannel(ctx, scale, dims[at], 'the scale');
  if (zp && perChannel(ctx, zp, dims[at], 'the zero point') === 1)
    throw new NodeProblem('the zero point must have the shape of the scale', 'invalid-graph');
  return { outer: product(dims.slice(0, at)), axis: dims[at], inner: product(dims.slice(at + 1)), at };
}

/** The per-axis index of flat element i of a view with constant sizes. */
const axisIndex = (v: AxisView, i: number): number => Math.floor(i / (v.inner as number)) % (v.axis as number);

/** Rows survive unless the quantization axis is theirs (each row would need its own scale). */
function rowsOf(x: Operand, view: AxisView): RtValue['rowAxis'] {
  if (!x.reads.length) return 'none';
  const r = x.reads[0].rowAxis;
  return view.at !== undefined && r === view.at ? undefined : r;
}

/** QuantizeLinear's output type: the zero point's, else opset 21's output_dtype, else uint8. */
function outputType(ctx: NodeContext, zp: Operand | undefined): DataType {
  if (zp) return zp.type;
  const code = ctx.int('output_dtype', 0);
  if (code === 0 || code === 2) return 'uint8';
  if (code === 3) return 'int8';
  throw new NodeProblem(`output_dtype ${code} is not supported (uint8 and int8 are)`);
}

const QUANTIZED: DataType[] = ['uint8', 'int8'];

const quantizeLinear: OpHandler = {
  inputs: 'x y_scale y_zero_point?',
  fold(ctx, [x, s, z]) {
    const scale = required(ctx, 1, 'y_scale', ['float32']);
    const zp = operand(ctx, 2, 'y_zero_point', QUANTIZED);
    const view = axisView(ctx, x!.dims, scale, zp);
    const type = outputType(ctx, zp);
    const q = qtypeOf(type);
    const xs = x!.numbers;
    const out = Float64Array.from(xs, (v, i) => {
      const a = view.at === undefined ? 0 : axisIndex(view, i);
      return quantize(v, s!.numbers[a], z ? z.numbers[a] : 0, q);
    });
    return [Tensor.fromNumbers(type, x!.dims, out)];
  },
  lower(ctx) {
    const x = required(ctx, 0, 'x', ['float32']);
    const scale = required(ctx, 1, 'y_scale', ['float32']);
    const zp = operand(ctx, 2, 'y_zero_point', QUANTIZED);
    const view = axisView(ctx, x.dims, scale, zp);
    const type = outputType(ctx, zp);
    const y: RtValue = { ...ctx.newValue(x.dims, storageFor(type)), rowAxis: rowsOf(x, view) };
    const [xp, sp, zpp] = [ptrOf(ctx, x), ptrOf(ctx, scale), ptrOf(ctx, zp)];
    ctx.program.addStep(
      type === 'int8' ? 'quantize_i8' : 'quantize_u8',
      () => ({
        x: xp,
        scale: sp,
        zp: zpp,
        y: buf(y),
        outer: i32(view.outer),
        axis: i32(view.axis),
        inner: i32(view.inner),
      }),
      [...x.reads, ...scale.reads, ...(zp?.reads ?? [])],
      [y],
    );
    ctx.output(0, y);
  },
};

const DEQUANTIZED: DataType[] = ['uint8', 'int8', 'int32'];
const DEQUANTIZE_KERNEL = { uint8: 'dequantize_u8', int8: 'dequantize_i8', int32: 'dequantize_i32' } as const;

/** DequantizeLinear's zero point must have x's type. */
function checkZeroPoint(x: Operand, zp: Operand | undefined): void {
  if (zp && zp.type !== x.type)
    throw new NodeProblem(`the zero point is ${zp.type} but x is ${x.type}; they must match`, 'invalid-graph');
}

const dequantizeLinear: OpHandler = {
  inputs: 'x x_scale x_zero_point?',
  fold(ctx, [x, s, z]) {
    const xo = required(ctx, 0, 'x', DEQUANTIZED);
    const scale = required(ctx, 1, 'x_scale', ['float32']);
    const zp = operand(ctx, 2, 'x_zero_point', DEQUANTIZED);
    checkZeroPoint(xo, zp);
    const view = axisView(ctx, x!.dims, scale, zp);
    const out = Float64Array.from(x!.numbers, (v, i) => {
      const a = view.at === undefined ? 0 : axisIndex(view, i);
      return dequantize(v, s!.numbers[a], z ? z.numbers[a] : 0);
    });
    return [Tensor.fromNumbers('float32', x!.dims, out)];
  },
  lower(ctx) {
    const x = required(ctx, 0, 'x', DEQUANTIZED);
    const scale = required(ctx, 1, 'x_scale', ['float32']);
    const zp = operand(ctx, 2, 'x_zero_point', DEQUANTIZED);
    checkZeroPoint(x, zp);
    const view = axisView(ctx, x.dims, scale, zp);
    const y: RtValue = { ...ctx.newValue(x.dims), rowAxis: rowsOf(x, view) };
    const [xp, sp, zpp] = [ptrOf(ctx, x), ptrOf(ctx, scale), ptrOf(ctx, zp)];
    ctx.program.addStep(
      DEQUANTIZE_KERNEL[x.type as keyof typeof DEQUANTIZE_KERNEL],
      () => ({
        x: xp,
        scale: sp,
        zp: zpp,
        y: buf(y),
        outer: i32(view.outer),
        axis: i32(view.axis),
        inner: i32(view.inner),
      }),
      [...x.reads, ...scale.reads, ...(zp?.reads ?? [])],
      [y],
    );
    ctx.output(0, y);
  },
};

/** DynamicQuantizeLinear (uint8): its scale and zero point from the data's range, then QuantizeLinear. */
const dynamicQuantizeLinear: OpHandler = {
  inputs: 'x',
  fold(_ctx, [x]) {
    const { scale, zp } = dynamicParameters(x!.numbers);
    const y = Float64Array.from(x!.numbers, (v) => quantize(v, scale, zp, U8));
    return [Tensor.fromNumbers('uint8', x!.dims, y), Tensor.scalar('float32', scale), Tensor.scalar('uint8', zp)];
  },
  lower(ctx) {
    const x = ctx.rt(0);
    // One scale for the whole tensor: every output depends on every row.
    const y = ctx.newValue(x.dims, 'uint8');
    const scale = ctx.newValue([]);
    const zp = ctx.newValue([], 'uint8' as Storage);
    ctx.program.addStep(
      'dynamic_quantize',
      () => ({ x: buf(x), y: buf(y), scaleOut: buf(scale), zpOut: buf(zp), n: i32(product(x.dims)) }),
      [x],
      [y, scale, zp],
    );
    ctx.output(0, y);
    ctx.output(1, scale);
    ctx.output(2, zp);
  },
};

export const QUANTIZE_OPS: Record<string, OpHandler> = {
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  DynamicQuantizeLinear: dynamicQuantizeLinear,
};
