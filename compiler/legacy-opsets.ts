import type { OnnxModel } from './onnx.js';

/**
 * Models of ai.onnx opsets below 7. Such a model compiles when each of its ops either has a handler that
 * reads its old definition (READ_AS_DEFINED_THEN) or has, at the model's opset, the very definition it has
 * at opset 7: the
 * version of the op in effect at opset 7 (ONNX's `since_version`) is at or below the model's opset. Ops
 * whose definition changed between (broadcasting Add before 7, BatchNormalization's `spatial`, …) are not
 * listed and keep the model out.
 */

/**
 * The first opset whose definition of each op means what opset 7's does (onnx/defs). For the unary ops and
 * InstanceNormalization, opset 6 only dropped the `consumed_inputs` hint (an in-place optimisation with no
 * effect on the result), so their opset 1 definition counts.
 */
const SINCE_AT_7: Record<string, number> = {
  Abs: 1,
  Ceil: 1,
  Elu: 1,
  Exp: 1,
  Floor: 1,
  GlobalAveragePool: 1,
  GlobalMaxPool: 1,
  HardSigmoid: 1,
  Identity: 1,
  InstanceNormalization: 1,
  LeakyRelu: 1,
  Log: 1,
  Neg: 1,
  Not: 1,
  Reciprocal: 1,
  Relu: 1,
  Selu: 1,
  Sigmoid: 1,
  Softplus: 1,
  Softsign: 1,
  Sqrt: 1,
  Tanh: 1,
};

/**
 * Ops whose handlers read their definitions of opsets 1–6 as the spec of the time gives them (broadcast/axis
 * attributes, is_test, spatial, Cast-1's type names, …; compiler/ops/legacy.ts), each checked against
 * onnxruntime-node by test/node/old-opsets.test.mjs.
 */
const READ_AS_DEFINED_THEN = new Set([
  'Add',
  'And',
  'ArgMax',
  'AveragePool',
  'BatchNormalization',
  'Cast',
  'Clip',
  'Concat',
  'Conv',
  'ConvTranspose',
  'Div',
  'Dropout',
  'Flatten',
  'Gather',
  'Gemm',
  'Greater',
  'LRN',
  'Less',
  'LogSoftmax',
  'LpNormalization',
  'MatMul',
  'Max',
  'MaxPool',
  'Mean',
  'Min',
  'Mul',
  'Or',
  'Pad',
  'Pow',
  'ReduceL2',
  'ReduceLogSumExp',
  'ReduceMax',
  'ReduceMean',
  'ReduceSum',
  'Reshape',
  'Slice',
  'Softmax',
  'Split',
  'Squeeze',
  'Sub',
  'Sum',
  'TopK',
  'Transpose',
  'Unsqueeze',
  'Xor',
]);

/** The core ops of a model below opset 7 whose definition differs there from opset 7's (empty: it compiles). */
export function opsChangedSince(model: OnnxModel, opset: number): string[] {
  const changed = model.graph.nodes
    .filter((n) => n.domain === 'ai.onnx' && !READ_AS_DEFINED_THEN.has(n.opType))
    .filter((n) => !((SINCE_AT_7[n.opType] ?? Infinity) <= opset))
    .map((n) => n.opType);
  return [...new Set(changed)].sort();
}
