import type { OnnxModel } from './onnx.js';

/**
 * Models of ai.onnx opsets below 7 (the oldest the op handlers are written against). Such a model still
 * compiles when each of its ops has, at the model's opset, the very definition it has at opset 7: the
 * version of the op in effect at opset 7 (ONNX's `since_version`) is at or below the model's opset. Ops
 * whose definition changed between (broadcasting Add before 7, BatchNormalization's `spatial`, …) are not
 * listed and keep the model out.
 */

/** The since_version of each op's definition in effect at opset 7 (onnx/defs), for ops this applies to. */
const SINCE_AT_7: Record<string, number> = {
  Abs: 6,
  Ceil: 6,
  Elu: 6,
  Exp: 6,
  Floor: 6,
  GlobalAveragePool: 1,
  GlobalMaxPool: 1,
  HardSigmoid: 6,
  Identity: 1,
  InstanceNormalization: 6,
  LeakyRelu: 6,
  Log: 6,
  Neg: 6,
  Not: 1,
  Reciprocal: 6,
  Relu: 6,
  Selu: 6,
  Sigmoid: 6,
  Softplus: 1,
  Softsign: 1,
  Sqrt: 6,
  Tanh: 6,
};

/** The core ops of a model below opset 7 whose definition differs there from opset 7's (empty: it compiles). */
export function opsChangedSince(model: OnnxModel, opset: number): string[] {
  const changed = model.graph.nodes
    .filter((n) => n.domain === 'ai.onnx' && !((SINCE_AT_7[n.opType] ?? Infinity) <= opset))
    .map((n) => n.opType);
  return [...new Set(changed)].sort();
}
