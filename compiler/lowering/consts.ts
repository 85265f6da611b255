import { CompileError } from '../errors.js';
import type { OnnxModel } from '../onnx.js';
import { Tensor } from '../tensor.js';

/** A value for `--const NAME=VALUE`: a number (a scalar), a list, or data with a shape. */
export type ConstOption =
  | number
  | boolean
  | bigint
  | ArrayLike<number | bigint | boolean>
  | { data: ArrayLike<number | bigint | boolean>; shape: number[] };

/**
 * Inputs fixed at compile time, as constants of the input's element type and shape (the declared shape
 * where it is fixed; a scalar for a number; a vector for a list). Any mismatch is a CompileError naming
 * the input.
 */
export function constInputs(model: OnnxModel, consts: Record<string, ConstOption>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, option] of Object.entries(consts)) {
    const info = model.graph.inputs.find((i) => i.name === name && !model.graph.initializers.has(i.name));
    if (!info) {
      const names = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name)).map((i) => i.name);
      throw new CompileError(
        'invalid-option',
        `--const ${name}: the model has no input of that name (its inputs: ${names.join(', ')}).`,
      );
    }
    if (info.dtype === 'sequence' || info.dtype === 'map' || info.dtype === 'unknown' || info.dtype === 'string')
      throw new CompileError(
        'invalid-option',
        `--const ${name}: the input is a ${info.dtype}; only numeric inputs can be fixed.`,
      );
    const data = typeof option === 'object' && option !== null && 'data' in option ? option.data : option;
    const values = (typeof data === 'object' ? Array.from(data as ArrayLike<number | bigint | boolean>) : [data]).map(
      Number,
    );
    if (values.some((v) => !Number.isFinite(v)))
      throw new CompileError('invalid-option', `--const ${name}: every value must be a finite number.`);
    const declared =
      info.shape && info.shape.every((d) => typeof d === 'number' && d > 0) ? (info.shape as number[]) : null;
    const shape =
      typeof option === 'object' && option !== null && 'shape' in option
        ? option.shape
        : (declared ?? (typeof data === 'object' ? [values.length] : []));
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== values.length || (info.shape && info.shape.length !== shape.length))
      throw new CompileError(
        'invalid-option',
        `--const ${name}: the input has shape [${(info.shape ?? []).map((d) => d ?? '?')}] but the value has ${values.length} number(s)${'shape' in Object(option) ? ` and shape [${shape}]` : ''}.`,
      );
    out[name] = Tensor.fromNumbers(info.dtype, shape, values);
  }
  return out;
}
