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
  /** Resize / Upsample `mode`. */
  RESIZE: { NEAREST: 0, LINEAR: 1, CUBIC: 2 },
  /** Resize `coordinate_transformation_mode` (Resize-10 and Upsample: ASYMMETRIC). */
  COORD: {
    HALF_PIXEL: 0,
    ASYMMETRIC: 1,
    PYTORCH_HALF_PIXEL: 2,
    TF_HALF_PIXEL_FOR_NN: 3,
    ALIGN_CORNERS: 4,
    TF_CROP_AND_RESIZE: 5,
    HALF_PIXEL_SYMMETRIC: 6,
  },
  /** Resize `nearest_mode`; SIMPLE is Resize-10's and Upsample's rule (ceil when downsampling, else floor). */
  NEAREST: { ROUND_PREFER_FLOOR: 0, ROUND_PREFER_CEIL: 1, FLOOR: 2, CEIL: 3, SIMPLE: 4 },
  /** What `resize_table` reads: Resize `scales` (f32) or `sizes` (i64 as the node gives them, i32 from a table). */
  RESIZE_SRC: { SCALES: 0, SIZES_I64: 1, SIZES_I32: 2 },
  /** Resize `keep_aspect_ratio_policy` (opset 18). */
  ASPECT: { STRETCH: 0, NOT_LARGER: 1, NOT_SMALLER: 2 },
  /** GridSample `mode` (opset 16 names; opset 20's linear/cubic are BILINEAR/BICUBIC). */
  GRID: { BILINEAR: 0, NEAREST: 1, BICUBIC: 2 },
  /** GridSample `padding_mode`. */
  GRID_PAD: { ZEROS: 0, BORDER: 1, REFLECTION: 2 },
  /** Element types of run-time tensors, for kernels that compute on any of them (bool is U8). */
  ELEM: { F32: 0, I32: 1, I64: 2, U8: 3, I8: 4 },
  /** ScatterElements / ScatterND `reduction`. */
  SCATTER: { NONE: 0, ADD: 1, MUL: 2, MAX: 3, MIN: 4 },
  /** NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss `reduction`. */
  LOSS: { NONE: 0, SUM: 1, MEAN: 2 },
  /** TfIdfVectorizer `mode`. */
  TFIDF: { TF: 0, IDF: 1, TFIDF: 2 },
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
