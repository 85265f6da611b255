import { meaning, type OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { buf, countArg, type RtValue } from '../program.js';
import { dataTypeName } from '../onnx.js';
import { asFloat, lowerNonZero } from './binary.js';
import { castTargetCode } from './legacy.js';
import { type DataType, Tensor } from '../tensor.js';

/**
 * Cast between element types. Run-time floats are float32; run-time integers are int32 (ONNX int64 and
 * int32 alike, what class indices and labels need) unless they came in as int64 data; booleans are 1/0
 * floats, or uint8 as a bool input holds them. Sizes (shape values) stay sizes.
 */

function castValue(to: DataType): (x: number) => number {
  switch (to) {
    case 'float32':
    case 'float64':
    case 'float16':
      return (x) => x;
    case 'bool':
      return (x) => (x !== 0 ? 1 : 0);
    default:
      return (x) => (Number.isFinite(x) ? Math.trunc(x) : 0);
  }
}

const FLOATS = new Set<DataType>(['float32', 'float64', 'float16']);
const INTS = new Set<DataType>(['int64', 'int32']);

const cast: OpHandler = {
  inputs: 'input',
  fold(ctx, [x]) {
    const to = dataTypeName(castTargetCode(ctx));
    if (to === 'string' || x!.dtype === 'string') throw new NodeProblem('casts to or from strings are not supported');
    return [Tensor.fromNumbers(to, x!.dims, Array.from(x!.numbers, castValue(to)))];
  },
  lower(ctx) {
    const to = dataTypeName(castTargetCode(ctx));
    const v = ctx.input(0)!;
    if (v.kind === 'shape') {
      if (INTS.has(to)) return ctx.output(0, v);
      throw new NodeProblem(`casting a shape computed at run time to ${to} is not supported`);
    }
    const x = ctx.rtAny(0);
    const from = x.onnx ?? x.dtype;
    if (to === 'bool') {
      if (from === 'bool') return ctx.output(0, x);
      // Nonzero (and NaN) becomes 1.
      return ctx.output(0, lowerNonZero(ctx, x));
    }
    if (FLOATS.has(to)) {
      // A float cast up to double asks for double-precision arithmetic, which float32 cannot stand in for
      // (scikit-learn's GaussianProcessRegressor export cancels terms near 1e9): refuse, never answer wrongly.
      if (to === 'float64' && x.dtype === 'float32' && !x.onnx)
        throw new NodeProblem(
          'casts run-time values to float64: the model computes in double precision, and ml-widgets computes in float32, which can give wrong answers here. Export the model to compute in float32',
        );
      // float64/float16 targets compute in float32, within the 1e-4 budget.
      const y = asFloat(ctx, x);
      return ctx.output(0, y === x && x.onnx === 'bool' ? { ...x, onnx: undefined } : y);
    }
    if (!INTS.has(to)) throw new NodeProblem(`casting a run-time tensor to ${to} is not supported yet`);
    if (x.dtype === 'int64' && to === 'int32') {
      const y = { ...ctx.newValue(x.dims, 'int32'), rowAxis: x.rowAxis };
      ctx.program.addStep('cast_i64_i32', () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
      return ctx.output(0, y);
    }
    if (x.dtype === 'int32' || x.dtype === 'int64') return ctx.output(0, relabel(x, to));
    if (x.dtype !== 'float32') {
      // uint8/int8 (and uint8 booleans) widen through float32, exactly.
      const f = asFloat(ctx, x);
      return ctx.output(0, relabel(toInt32(ctx, f), to));
    }
    ctx.output(0, relabel(toInt32(ctx, x), to));
  },
};

/** Truncate floats to int32 (NaN and out-of-range give 0). */
function toInt32(ctx: Parameters<OpHandler['lower']>[0], x: RtValue): RtValue {
  const y = { ...ctx.newValue(x.dims, 'int32'), rowAxis: x.rowAxis };
  ctx.program.addStep('cast_f32_i32', () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
  return y;
}

/** The same integer memory under another ONNX integer type (int64 values held as int32). */
const relabel = (x: RtValue, to: DataType): RtValue => ({ ...x, onnx: to === x.dtype ? undefined : to });

export const CAST_OPS: Record<string, OpHandler> = { Cast: meaning(cast, { passes: 'values' }) };
