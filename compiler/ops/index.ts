import type { OpHandler } from './op.js';
import { BATCHNORM_OPS } from './batchnorm.js';
import { BINARY_OPS } from './binary.js';
import { CAST_OPS } from './cast.js';
import { CONV_OPS } from './conv.js';
import { DROPOUT_OPS } from './dropout.js';
import { EXPAND_OPS } from './expand.js';
import { GEMM_OPS } from './gemm.js';
import { INDEXING_OPS } from './indexing.js';
import { INSTANCE_NORM_OPS } from './instancenorm.js';
import { LINEAR_OPS } from './ml/linear.js';
import { PREPROCESSING_OPS } from './ml/preprocessing.js';
import { SVM_OPS } from './ml/svm.js';
import { TREE_OPS } from './ml/trees.js';
import { MOVEMENT_OPS } from './movement.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { PAD_OPS } from './pad.js';
import { POOL_OPS } from './pool.js';
import { REDUCE_OPS } from './reduce.js';
import { SCAN_OPS } from './scan.js';
import { SHAPE_OPS } from './shape.js';
import { SOFTMAX_OPS } from './softmax.js';
import { UNARY_OPS } from './unary.js';
import { WHERE_OPS } from './where.js';

export type { OpHandler, OpMeaning } from './op.js';

/** Supported ops by domain, one module per ONNX op family. */
export const OPS: Record<string, Record<string, OpHandler>> = {
  'ai.onnx': {
    ...UNARY_OPS,
    ...BINARY_OPS,
    ...WHERE_OPS,
    ...GEMM_OPS,
    ...CONV_OPS,
    ...POOL_OPS,
    ...NORMALIZATION_OPS,
    ...BATCHNORM_OPS,
    ...INSTANCE_NORM_OPS,
    ...SOFTMAX_OPS,
    ...REDUCE_OPS,
    ...SHAPE_OPS,
    ...DROPOUT_OPS,
    ...CAST_OPS,
    ...MOVEMENT_OPS,
    ...EXPAND_OPS,
    ...PAD_OPS,
    ...INDEXING_OPS,
    ...SCAN_OPS,
  },
  'ai.onnx.ml': { ...LINEAR_OPS, ...PREPROCESSING_OPS, ...TREE_OPS, ...SVM_OPS },
};
