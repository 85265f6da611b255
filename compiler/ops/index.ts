import type { OpHandler } from './op.js';
import { ARITHMETIC_OPS } from './arithmetic.js';
import { BATCHNORM_OPS } from './batchnorm.js';
import { CAST_OPS } from './cast.js';
import { INSTANCE_NORM_OPS } from './instancenorm.js';
import { CLIP_OPS } from './clip.js';
import { COMPARE_OPS } from './compare.js';
import { CONTROL_OPS } from './control.js';
import { CONV_OPS } from './conv.js';
import { DROPOUT_OPS } from './dropout.js';
import { EXPAND_OPS } from './expand.js';
import { EYELIKE_OPS } from './eyelike.js';
import { EINSUM_OPS } from './einsum.js';
import { GATHER_OPS } from './gather.js';
import { GEMM_OPS } from './gemm.js';
import { INDEXING_OPS } from './indexing.js';
import { LOGICAL_OPS } from './logical.js';
import { LOOP_OPS } from './loop.js';
import { LINEAR_OPS } from './ml/linear.js';
import { PREPROCESSING_OPS } from './ml/preprocessing.js';
import { SVM_OPS } from './ml/svm.js';
import { TREE_OPS } from './ml/trees.js';
import { LOSS_OPS } from './loss.js';
import { MOVEMENT_OPS } from './movement.js';
import { NMS_OPS } from './nms.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { PAD_OPS } from './pad.js';
import { PRELU_DET_OPS } from './prelu-det.js';
import { SIGNAL_OPS } from './signal.js';
import { POOL_OPS } from './pool.js';
import { QUANT_OPS } from './quant/index.js';
import { RANGE_OPS } from './range.js';
import { REARRANGE_OPS } from './rearrange.js';
import { RECURRENT_OPS } from './recurrent.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_OPS } from './resize.js';
import { SCATTER_OPS } from './scatter.js';
import { SELECT_OPS } from './select.js';
import { SHAPE_OPS } from './shape.js';
import { SOFTMAX_OPS } from './softmax.js';
import { SPATIAL_OPS } from './spatial.js';
import { TFIDF_OPS } from './tfidf.js';
import { TRANSPOSE_OPS } from './transpose.js';
import { UNARY_OPS } from './unary.js';
import { WHERE_OPS } from './where.js';

export type { OpHandler, OpMeaning } from './op.js';

/** One ONNX op family: the op modules the user-facing op list groups together. */
export interface OpFamily {
  name: string;
  domain: 'ai.onnx' | 'ai.onnx.ml';
  ops: Record<string, OpHandler>;
}

/** Every op the compiler compiles, by family, one module (or a few) per ONNX op family. */
export const OP_FAMILIES: readonly OpFamily[] = [
  {
    name: 'Elementwise maths and activations',
    domain: 'ai.onnx',
    ops: { ...UNARY_OPS, ...CLIP_OPS, ...PRELU_DET_OPS },
  },
  {
    name: 'Arithmetic, comparison and logic',
    domain: 'ai.onnx',
    ops: { ...ARITHMETIC_OPS, ...COMPARE_OPS, ...LOGICAL_OPS, ...WHERE_OPS },
  },
  { name: 'Matrix products', domain: 'ai.onnx', ops: { ...GEMM_OPS, ...EINSUM_OPS } },
  { name: 'Convolution and pooling', domain: 'ai.onnx', ops: { ...CONV_OPS, ...POOL_OPS } },
  {
    name: 'Normalization',
    domain: 'ai.onnx',
    ops: { ...NORMALIZATION_OPS, ...BATCHNORM_OPS, ...INSTANCE_NORM_OPS, ...SOFTMAX_OPS },
  },
  { name: 'Reductions', domain: 'ai.onnx', ops: REDUCE_OPS },
  { name: 'Shapes and types', domain: 'ai.onnx', ops: { ...SHAPE_OPS, ...DROPOUT_OPS, ...CAST_OPS } },
  { name: 'Data movement', domain: 'ai.onnx', ops: { ...MOVEMENT_OPS, ...TRANSPOSE_OPS, ...EXPAND_OPS, ...PAD_OPS } },
  {
    name: 'Indexing and selection',
    domain: 'ai.onnx',
    ops: { ...INDEXING_OPS, ...GATHER_OPS, ...SCATTER_OPS, ...SELECT_OPS, ...RANGE_OPS, ...EYELIKE_OPS },
  },
  { name: 'Resampling and rearrangement', domain: 'ai.onnx', ops: { ...RESIZE_OPS, ...SPATIAL_OPS, ...REARRANGE_OPS } },
  { name: 'Control flow', domain: 'ai.onnx', ops: { ...CONTROL_OPS, ...LOOP_OPS } },
  { name: 'Recurrent', domain: 'ai.onnx', ops: RECURRENT_OPS },
  { name: 'Quantization', domain: 'ai.onnx', ops: QUANT_OPS },
  { name: 'Detection', domain: 'ai.onnx', ops: NMS_OPS },
  { name: 'Signal', domain: 'ai.onnx', ops: SIGNAL_OPS },
  { name: 'Losses', domain: 'ai.onnx', ops: LOSS_OPS },
  { name: 'Text features', domain: 'ai.onnx', ops: TFIDF_OPS },
  { name: 'Linear models', domain: 'ai.onnx.ml', ops: LINEAR_OPS },
  { name: 'Trees', domain: 'ai.onnx.ml', ops: TREE_OPS },
  { name: 'Support vector machines', domain: 'ai.onnx.ml', ops: SVM_OPS },
  { name: 'Preprocessing', domain: 'ai.onnx.ml', ops: PREPROCESSING_OPS },
];

/** Supported ops by domain (the lowering's lookup table). */
export const OPS: Record<string, Record<string, OpHandler>> = {};
for (const family of OP_FAMILIES) {
  for (const [name, handler] of Object.entries(family.ops)) {
    const domain = (OPS[family.domain] ??= {});
    if (domain[name]) throw new Error(`op ${family.domain}.${name} is in two families`);
    domain[name] = handler;
  }
}
