import type { OpHandler } from './op.js';
import { ARITHMETIC_OPS } from './arithmetic.js';
import { CAST_OPS } from './cast.js';
import { CLIP_OPS } from './clip.js';
import { COMPARE_OPS } from './compare.js';
import { CONV_OPS } from './conv.js';
import { EXPAND_OPS } from './expand.js';
import { GEMM_OPS } from './gemm.js';
import { INDEXING_OPS } from './indexing.js';
import { LOGICAL_OPS } from './logical.js';
import { LINEAR_OPS } from './ml/linear.js';
import { PREPROCESSING_OPS } from './ml/preprocessing.js';
import { SVM_OPS } from './ml/svm.js';
import { TREE_OPS } from './ml/trees.js';
import { MOVEMENT_OPS } from './movement.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { PAD_OPS } from './pad.js';
import { PRELU_DET_OPS } from './prelu-det.js';
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
    ...CLIP_OPS,
    ...PRELU_DET_OPS,
    ...ARITHMETIC_OPS,
    ...COMPARE_OPS,
    ...LOGICAL_OPS,
    ...WHERE_OPS,
    ...GEMM_OPS,
    ...CONV_OPS,
    ...POOL_OPS,
    ...NORMALIZATION_OPS,
    ...SOFTMAX_OPS,
    ...REDUCE_OPS,
    ...SHAPE_OPS,
    ...CAST_OPS,
    ...MOVEMENT_OPS,
    ...EXPAND_OPS,
    ...PAD_OPS,
    ...INDEXING_OPS,
    ...SCAN_OPS,
  },
  'ai.onnx.ml': { ...LINEAR_OPS, ...PREPROCESSING_OPS, ...TREE_OPS, ...SVM_OPS },
};
