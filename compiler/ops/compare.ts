import { COMPARE_KERNELS } from '../abi/compare.js';
import { legacyBroadcast, legacyTensor } from './legacy.js';
import type { NodeContext } from '../lowering/context.js';
import { onnxTypeOf, type RtValue, type Storage, type Value } from '../program.js';
import { isConst, sameSize, type Size } from '../shape/size.js';
import { FLOAT_TYPES, Tensor, broadcastMap } from '../tensor.js';
import { asFloat, foldSizes } from './binary.js';
import { CODE, commonStorage, lowerBroadcast, type BroadcastKernel } from './elementwise.js';
import type { OpHandler } from './op.js';

/**
 * Comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual) with numpy broadcasting on float32,
 * int32, int64, uint8, int8 and bool operands, giving bools (uint8 0/1 in memory, ONNX 'bool'): one
 * kernel call (compiler/abi/compare.ts). Floats compare as IEEE does (NaN compares false); uint8 and int8
 * widen to int32 (exact) except for Equal, which compares their bytes. Equal on sizes stays symbolic.
 */

interface CompareSpec {
  kernel: 'less' | 'greater' | 'equal' | 'less_equal' | 'greater_equal';
  fn(a: number, b: number): number;
  sizeFn?(a: Size, b: Size): Size | undefined;
}

const COMPARE: Record<string, CompareSpec> = {
  Less: { kernel: 'less', fn: (a, b) => +(a < b) },
  Greater: { kernel: 'greater', fn: (a, b) => +(a > b) },
  LessOrEqual: { kernel: 'less_equal', fn: (a, b) => +(a <= b) },
  GreaterOrEqual: { kernel: 'greater_equal', fn: (a, b) => +(a >= b) },
  // Sizes are never negative: a symbolic size is not −1 (torch's "-1 means keep" in Expand shapes).
  Equal: {
    kernel: 'equal',
    fn: (a, b) => +(a === b),
    sizeFn: (a, b) =>
      sameSize(a, b)
        ? 1
        : isConst(a) && isConst(b)
          ? 0
          : (isConst(a) && a < 0) || (isConst(b) && b < 0)
            ? 0
            : undefined,
  },
};

/**
 * Class indices that stand for other class values (a classifier's label after a LabelEncoder), or
 * operands of a float and an integer type (older converters compare class codes with float constants):
 * compared as floats, exact below 2^24.
 */
function comparesAsFloats(a: Value, b: Value): boolean {
  const relabelled = (v: Value) => v.kind === 'rt' && !!v.categories?.some((c, i) => c !== i);
  const floats = [a, b].filter((v) => FLOAT_TYPES.has(onnxTypeOf(v))).length;
  return relabelled(a) || relabelled(b) || floats === 1;
}

function lowerCompare(ctx: NodeContext, spec: CompareSpec, a: Value, b: Value): RtValue {
  let storage: Storage;
  if (comparesAsFloats(a, b)) {
    [a, b] = [a, b].map((v) => (v.kind === 'rt' ? asFloat(ctx, v) : v));
    storage = 'float32';
  } else storage = FLOAT_TYPES.has(onnxTypeOf(a)) ? 'float32' : commonStorage([a, b]);
  const bytes = storage === 'uint8' || storage === 'int8';
  // Equal compares bytes as they are; the other comparisons of bytes widen to int32.
  if (bytes && spec.kernel !== 'equal') storage = 'int32';
  const kernel = `${spec.kernel}_${bytes && spec.kernel === 'equal' ? 'u8' : CODE[storage]}`;
  if (!(kernel in COMPARE_KERNELS)) throw new Error(`internal error: no kernel ${kernel}`);
  const y = lowerBroadcast(ctx, kernel as BroadcastKernel, a, b, [storage, storage], 'uint8');
  return { ...y, onnx: 'bool' };
}

function compareHandler(spec: CompareSpec): OpHandler {
  return {
    inputs: 'A B',
    fold: (ctx, [a, b]) => [broadcastMap([a!, legacyTensor(ctx, a!, b!)], 'bool', spec.fn)],
    lower(ctx) {
      const [a, b] = [ctx.input(0)!, legacyBroadcast(ctx, ctx.input(0)!, ctx.input(1)!)];
      const sizes = spec.sizeFn && foldSizes(a, b, spec.sizeFn);
      if (sizes)
        return ctx.output(0, {
          kind: 'const',
          tensor: Tensor.fromNumbers('bool', sizes.dims, sizes.values as number[]),
        });
      ctx.output(0, lowerCompare(ctx, spec, a, b));
    },
  };
}

export const COMPARE_OPS: Record<string, OpHandler> = Object.fromEntries(
  Object.entries(COMPARE).map(([name, spec]) => [name, compareHandler(spec)]),
);
