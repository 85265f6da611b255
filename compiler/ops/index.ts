import type { NodeContext } from '../lower.js';
import type { Tensor } from '../tensor.js';
import { ARGMAX_OPS } from './argmax.js';
import { CONV_OPS } from './conv.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { GEMM_OPS } from './gemm.js';
import { ML_OPS } from './ml.js';
import { NEIGHBOR_OPS } from './neighbors.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { SHAPE_OPS } from './shape.js';
import { SOFTMAX_OPS } from './softmax.js';
import { STRUCTURE_OPS } from './structure.js';

/** How one ONNX op compiles: `fold` when every input is a constant, `lower` to kernel calls otherwise. */
export interface OpHandler {
  fold?(ctx: NodeContext, inputs: (Tensor | undefined)[]): Tensor[];
  lower(ctx: NodeContext): void;
}

/** Supported ops by domain. */
export const OPS: Record<string, Record<string, OpHandler>> = {
  'ai.onnx': {
    ...ELEMENTWISE_OPS,
    ...GEMM_OPS,
    ...SOFTMAX_OPS,
    ...SHAPE_OPS,
    ...ARGMAX_OPS,
    ...NORMALIZATION_OPS,
    ...STRUCTURE_OPS,
    ...CONV_OPS,
    ...NEIGHBOR_OPS,
  },
  'ai.onnx.ml': ML_OPS,
};
