// Kernel library entry: every export here is part of the ABI the compiler calls by name.
// No allocation, no globals, no imports; all buffers are byte offsets chosen by the compiler.

export { gemm } from "./gemm";
export {
  unary_relu, unary_leaky_relu, unary_sigmoid, unary_tanh, unary_exp, unary_log, unary_neg, unary_abs,
  unary_sqrt, unary_reciprocal, unary_erf, unary_clip, unary_hard_sigmoid, unary_hard_swish, unary_gelu, unary_sign,
} from "./unary";
export {
  binary_add, binary_sub, binary_mul, binary_div, binary_pow, binary_max, binary_min,
  binary_less, binary_greater, binary_equal, binary_less_equal, binary_greater_equal,
  binary_add_i32, binary_sub_i32, binary_mul_i32,
} from "./binary";
export { softmax, log_softmax } from "./softmax";
export { copy, fill, gather_rows } from "./memory";
export { first_non_finite } from "./check";
export { argmax, argmin } from "./argmax";
export { matmul } from "./matmul";
export {
  post_transform, two_class_scores, label_threshold, tree_accumulate, tree_finalize_regressor,
  tree_finalize_classifier, svm_kernel, svm_classify, svm_regress, normalize_rows, impute, one_hot, gather_columns, label_encode, sq_dist, topk, cumsum_rows, gather_row_elements,
} from "./ml";
export { cast_i32_f32, cast_f32_i32, lookup_f32 } from "./cast";
export { reduce_sum, reduce_mean, reduce_max, reduce_min, reduce_prod, reduce_logsumexp, select } from "./reduce";
export { im2col, conv_depthwise } from "./conv";
export { maxpool, avgpool, global_avgpool, global_maxpool, lrn, layer_norm } from "./pool";
export { nchw_to_nhwc, nhwc_to_nchw, transpose, copy_strided } from "./layout";
export { pad, col2im } from "./pad";
