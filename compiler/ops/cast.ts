import { meaning, type OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { buf, countArg, data } from '../program.js';
import { dataTypeName } from '../onnx.js';
import { lowerNonZero } from './binary.js';
import { type DataType, Tensor } from '../tensor.js';

/**
 * Cast between element types: run-time floats are float32 and run-time integers int32 class indices.
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

const cast: OpHandler = {
  inputs: 'input',
  fold(ctx, [x]) {
    const to = dataTypeName(ctx.int('to', 1));
    if (to === 'string' || x!.dtype === 'string') throw new NodeProblem('casts to or from strings are not supported');
    return [Tensor.fromNumbers(to, x!.dims, Array.from(x!.numbers, castValue(to)))];
  },
  lower(ctx) {
    const to = dataTypeName(ctx.int('to', 1));
    const x = ctx.rtAny(0, true);
    // Run-time floats are float32 (float64/float16 targets compute in float32, within the 1e-4 budget);
    // run-time integers are int32 class indices, which int64/int32 casts leave as they are.
    const floatTarget = to === 'float32' || to === 'float64' || to === 'float16';
    const intTarget = to === 'int64' || to === 'int32';
    // Run-time booleans are 1/0 floats: nonzero (and NaN) becomes 1.
    if (to === 'bool') return ctx.output(0, lowerNonZero(ctx, x));
    if (!floatTarget && !intTarget) throw new NodeProblem(`casting a run-time tensor to ${to} is not supported`);
    // A float cast up to double asks for double-precision arithmetic, which float32 cannot stand in for
    // (scikit-learn's GaussianProcessRegressor export cancels terms near 1e9): refuse, never answer wrongly.
    if (to === 'float64' && x.dtype === 'float32') {
      throw new NodeProblem(
        'casts run-time values to float64: the model computes in double precision, and ml-widgets computes in float32, which can give wrong answers here. Export the model to compute in float32',
      );
    }
    if ((x.dtype === 'float32') === floatTarget) return ctx.output(0, x);
    const count = countArg(x);
    if (floatTarget) {
      // Class indices become their numeric class values; plain integers convert.
      const y = ctx.newValue(x.dims, x.batched);
      y.batchAxis = x.batchAxis;
      const cats = x.categories;
      if (cats && cats.some((c, i) => c !== i)) {
        if (cats.some((c) => typeof c === 'string'))
          throw new NodeProblem('casting string labels to numbers is not supported');
        const table = ctx.program.addFloats(Float32Array.from(cats as number[]));
        ctx.program.addStep('lookup_f32', () => ({ idx: buf(x), table: data(table), y: buf(y), n: count }), [x], [y]);
      } else {
        ctx.program.addStep('cast_i32_f32', () => ({ x: buf(x), y: buf(y), n: count }), [x], [y]);
      }
      return ctx.output(0, y);
    }
    const y = ctx.newValue(x.dims, x.batched, 'int32');
    y.batchAxis = x.batchAxis;
    ctx.program.addStep('cast_f32_i32', () => ({ x: buf(x), y: buf(y), n: count }), [x], [y]);
    ctx.output(0, y);
  },
};

export const CAST_OPS: Record<string, OpHandler> = { Cast: meaning(cast, { passes: 'values' }) };
