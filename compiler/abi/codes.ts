/**
 * Codes and constants the compiler and the kernels must agree on. This file is the only place they
 * are written: `assembly/build.mjs` generates `assembly/generated/abi.ts` from it (as `ACT_RELU`,
 * `POST_SOFTMAX`, …, and the constants by name), and the compiler imports it.
 */
export const CODES = {
  /** GEMM/convolution epilogue activations (assembly/vmath.ts `epilogue`). */
  ACT: { NONE: 0, RELU: 1, LEAKY_RELU: 2, SIGMOID: 3, TANH: 4, CLIP: 5, HARD_SIGMOID: 6, HARD_SWISH: 7, GELU: 8 },
  /** ai.onnx.ml post_transform of classifier scores. */
  POST: { NONE: 0, LOGISTIC: 1, SOFTMAX: 2, SOFTMAX_ZERO: 3, PROBIT: 4 },
  /** Tree ensemble aggregate_function. */
  AGG: { SUM: 0, AVERAGE: 1, MIN: 2, MAX: 3 },
  /** SVM kernel_type. */
  SVM: { LINEAR: 0, POLY: 1, RBF: 2, SIGMOID: 3 },
  /** ai.onnx.ml Normalizer norm. */
  NORM: { MAX: 0, L1: 1, L2: 2 },
  /** Pad mode. */
  PAD: { CONSTANT: 0, REFLECT: 1, EDGE: 2 },
  /** two_class_scores: how one score per row becomes two columns. */
  TWO_CLASS: { COMPLEMENT: 1, NEGATE: 2 },
  /** Activation functions of RNN, GRU and LSTM (assembly/rnn/activations.ts), in the ONNX operator doc's order. */
  RNN_ACT: {
    RELU: 0,
    TANH: 1,
    SIGMOID: 2,
    AFFINE: 3,
    LEAKY_RELU: 4,
    THRESHOLDED_RELU: 5,
    SCALED_TANH: 6,
    HARD_SIGMOID: 7,
    ELU: 8,
    SOFTSIGN: 9,
    SOFTPLUS: 10,
  },
} as const;

/** Numbers both sides depend on. */
export const CONSTANTS = {
  /** Columns per packed GEMM weight panel (compiler/pack.ts writes them, assembly/gemm.ts reads them). */
  PANEL_WIDTH: 8,
  /** Time steps whose input projection the recurrent kernels compute as one GEMM (bounds their scratch). */
  RNN_CHUNK: 16,
} as const;
