import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { dataTypeName } from '../onnx.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, type Size } from '../shape/size.js';
import { Tensor, type DataType } from '../tensor.js';

/**
 * EyeLike: ones on the k-th diagonal of a matrix shaped like the input. The values depend only on the
 * input's shape (never its data), so a fixed shape makes the output a constant even when the input is
 * computed at run time: nothing runs per call.
 */

/** The element types ONNX allows for EyeLike's output (every numeric type and bool). */
const ALLOWED: ReadonlySet<DataType> = new Set([
  'float16',
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
]);

function eye(ctx: NodeContext, dims: Size[], inputType: DataType): Tensor {
  if (dims.length !== 2) throw new NodeProblem(`expects a 2-D input, got ${shapeToString(dims)}`, 'invalid-graph');
  if (!dims.every(isConst))
    throw new NodeProblem(`the input's shape ${shapeToString(dims)} must be fixed (its output is built from it)`);
  const code = ctx.int('dtype', 0);
  const dtype = code === 0 ? inputType : dataTypeName(code);
  if (!ALLOWED.has(dtype))
    throw new NodeProblem(
      `"dtype" ${code} (${dtype}) is not a type EyeLike can make (numbers or bool)`,
      'invalid-graph',
    );
  const k = ctx.int('k', 0);
  const [rows, cols] = dims as number[];
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) if (i + k >= 0 && i + k < cols) values[i * cols + i + k] = 1;
  return Tensor.fromNumbers(dtype, [rows, cols], values);
}

const eyeLike: OpHandler = {
  inputs: 'input',
  fold: (ctx, [x]) => [eye(ctx, x!.dims, x!.dtype)],
  lower(ctx) {
    const x = ctx.input(0);
    if (!x) throw new NodeProblem('input 0 is missing', 'invalid-graph');
    const dims = x.kind === 'const' ? x.tensor.dims : x.dims;
    const type = x.kind === 'const' ? x.tensor.dtype : x.kind === 'rt' ? (x.onnx ?? x.dtype) : 'int64';
    ctx.output(0, { kind: 'const', tensor: eye(ctx, dims, type) });
  },
};

export const EYELIKE_OPS: Record<string, OpHandler> = { EyeLike: eyeLike };
