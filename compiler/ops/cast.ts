import { meaning, type OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { onnxTypeOf, type RtValue } from '../program.js';
import { dataTypeName } from '../onnx.js';
import { storageOf } from '../lowering/storage.js';
import { asFloat } from './binary.js';
import { castTo, shapeAsTensor, toBool } from './elementwise.js';
import { castNumber } from './typed-fold.js';
import { castTargetCode } from './legacy.js';
import { type DataType, Tensor } from '../tensor.js';

/**
 * Cast between element types, with onnxruntime's semantics on x86 (compiler/abi/cast.ts): float → int
 * truncates, with the type's MIN for NaN, ±Inf and out of range; narrower integers keep the low bits;
 * anything → bool is x ≠ 0. Constants fold the same way (typed-fold.ts). Sizes (shape values) stay sizes.
 * Integers held as int32 for class indices (ArgMax, labels) keep their memory across int32/int64 casts.
 */

const FLOATS = new Set<DataType>(['float32', 'float64', 'float16']);
const INTS = new Set<DataType>(['int64', 'int32']);

const cast: OpHandler = {
  inputs: 'input',
  fold(ctx, [x]) {
    const to = dataTypeName(castTargetCode(ctx));
    if (to === 'string' || x!.dtype === 'string') throw new NodeProblem('casts to or from strings are not supported');
    return [Tensor.fromNumbers(to, x!.dims, Array.from(x!.numbers, castNumber(x!.dtype, to)))];
  },
  lower(ctx) {
    const to = dataTypeName(castTargetCode(ctx));
    const v = ctx.input(0)!;
    if (v.kind === 'shape') {
      if (INTS.has(to)) return ctx.output(0, v);
      const sizes = shapeAsTensor(ctx, v, FLOATS.has(to) ? 'float32' : 'int32');
      return ctx.output(0, to === 'bool' ? toBool(ctx, sizes) : FLOATS.has(to) ? sizes : lowerToInt(ctx, sizes, to));
    }
    const x = ctx.rtAny(0);
    if (onnxTypeOf(x) === to) return ctx.output(0, x);
    if (to === 'bool') return ctx.output(0, toBool(ctx, x));
    if (FLOATS.has(to)) {
      // A float cast up to double asks for double-precision arithmetic, which float32 cannot stand in for
      // (scikit-learn's GaussianProcessRegressor export cancels terms near 1e9): refuse, never answer wrongly.
      if (to === 'float64' && x.dtype === 'float32' && !x.onnx)
        throw new NodeProblem(
          'casts run-time values to float64: the model computes in double precision, and ml-widgets computes in float32, which can give wrong answers here. Export the model to compute in float32',
        );
      // float64/float16 targets compute in float32, within the 1e-4 budget.
      const y = asFloat(ctx, x);
      return ctx.output(0, y === x ? { ...x, onnx: undefined } : y);
    }
    ctx.output(0, lowerToInt(ctx, x, to));
  },
};

/** A run-time value cast to an integer type. */
function lowerToInt(ctx: Parameters<OpHandler['lower']>[0], x: RtValue, to: DataType): RtValue {
  const target = storageOf(to);
  if (!target) throw new NodeProblem(`casting a run-time tensor to ${to} is not supported yet`);
  // int32 memory serves int32 and int64 alike where it already holds them (class indices keep their classes).
  if (x.dtype === 'int32' && INTS.has(to) && (to === 'int32' || x.categories)) return relabel(x, to);
  return relabel(castTo(ctx, x, target), to);
}

/** The same memory under another ONNX type (int64 values held as int32). */
const relabel = (x: RtValue, to: DataType): RtValue => ({ ...x, onnx: to === x.dtype ? undefined : to });

export const CAST_OPS: Record<string, OpHandler> = { Cast: meaning(cast, { passes: 'values' }) };
