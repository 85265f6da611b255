/**
 * The kernel ABI: every function the kernel library (assembly/) exports, with its parameters in order.
 * This table is the one place a kernel's interface is written:
 *  - `Program.addStep` takes a kernel name from it and its arguments by parameter name (typed here);
 *  - `assembly/build.mjs` generates the library's entry (`assembly/generated/index.ts`), the one-line
 *    kernels of each family (`family` below) and their op codes, and checks every export of the built
 *    library against this table both ways (names, parameter count and types);
 *  - the kernel tests call kernels through it by parameter name.
 * As in XNNPACK, a family shares one signature and one implementation; adding one of its kernels is one
 * line here (plus its op code in the family's `switch`). Families of new kernels may live in their own
 * table file beside this one (compiler/abi/<family>.ts), spread into KERNELS below.
 */
import { CAST_KERNELS } from './cast.js';
import { COMPARE_KERNELS } from './compare.js';
import { INDEXING_KERNELS } from './indexing.js';
import { INTEGER_KERNELS } from './integer.js';
import { REDUCE_AXES_KERNELS } from './reduce_axes.js';
import { LOSS_KERNELS } from './loss.js';
import { NMS_KERNELS } from './nms.js';
import { QUANT_KERNELS } from './quant.js';
import { NORM_KERNELS } from './norm.js';
import { RESAMPLE_KERNELS } from './resample.js';
import { SHAPE_VALUES_KERNELS } from './shape_values.js';
import { SIGNAL_KERNELS } from './signal.js';
import { TEXT_KERNELS } from './text.js';
import { f32, i32, ptr, WINDOW, type Family, type KernelSpec, type Param, type ParamKind } from './spec.js';
import { RNN_KERNELS } from './rnn.js';

export type { Family, KernelSpec, Param, ParamKind } from './spec.js';

// Family signatures (one per family).
const UNARY = [ptr('x'), ptr('y'), i32('n')] as const;
const BINARY = [ptr('a'), ptr('b'), ptr('y'), i32('rows'), ptr('table')] as const;
const REDUCE = [ptr('x'), ptr('y'), i32('outer'), i32('len'), i32('inner')] as const;
const IMAGES = [ptr('x'), ptr('y'), i32('images'), i32('H'), i32('W'), i32('C')] as const;

const unary = (...extra: Param[]) => ({ module: 'unary', family: 'unary', params: [...UNARY, ...extra] }) as const;
const binary = { module: 'binary', family: 'binary', params: BINARY } as const;
const reduce = { module: 'reduce', family: 'reduce', params: REDUCE } as const;

export const KERNELS = {
  // ---- GEMM and matrix products (gemm.ts, matmul.ts)
  /** c[M, N] (row stride ldc) = act(a[M, K] (row stride lda) · packed w + bias). */
  gemm: {
    module: 'gemm',
    params: [
      ptr('a'),
      i32('lda'),
      ptr('w'),
      ptr('bias'),
      ptr('c'),
      i32('ldc'),
      i32('M'),
      i32('N'),
      i32('K'),
      i32('act'),
      f32('p0'),
      f32('p1'),
    ],
  },
  /** Batched c[b] = a[b] · b[b mod bPeriod] (bPeriod 0: b advances with a). */
  matmul: {
    module: 'matmul',
    params: [ptr('a'), ptr('b'), ptr('c'), i32('batches'), i32('M'), i32('N'), i32('K'), i32('bPeriod')],
  },

  // ---- elementwise (unary.ts, binary.ts)
  unary_relu: unary(),
  unary_leaky_relu: unary(f32('alpha')),
  unary_sigmoid: unary(),
  unary_tanh: unary(),
  unary_exp: unary(),
  unary_log: unary(),
  unary_neg: unary(),
  unary_abs: unary(),
  unary_sqrt: unary(),
  unary_reciprocal: unary(),
  unary_erf: unary(),
  unary_clip: unary(f32('lo'), f32('hi')),
  unary_hard_sigmoid: unary(f32('alpha'), f32('beta')),
  unary_hard_swish: unary(),
  unary_gelu: unary(),
  unary_sign: unary(),
  /** x < 0 ? alpha·(e^x − 1) : x */
  unary_elu: unary(f32('alpha')),
  /** x > 0 ? gamma·x : gamma·alpha·(e^x − 1) */
  unary_selu: unary(f32('alpha'), f32('gamma')),
  /** x < 0 ? alpha·(e^(x/alpha) − 1) : x */
  unary_celu: unary(f32('alpha')),
  /** x > alpha ? x : 0 */
  unary_thresholded_relu: unary(f32('alpha')),
  /** x < −lambd ? x + bias : x > lambd ? x − bias : 0 */
  unary_shrink: unary(f32('bias'), f32('lambd')),
  unary_softplus: unary(),
  unary_softsign: unary(),
  unary_mish: unary(),
  unary_sin: unary(),
  unary_cos: unary(),
  unary_tan: unary(),
  unary_asin: unary(),
  unary_acos: unary(),
  unary_atan: unary(),
  unary_sinh: unary(),
  unary_cosh: unary(),
  unary_asinh: unary(),
  unary_acosh: unary(),
  unary_atanh: unary(),
  unary_floor: unary(),
  unary_ceil: unary(),
  /** Half to even. */
  unary_round: unary(),
  binary_add: binary,
  binary_sub: binary,
  binary_mul: binary,
  binary_div: binary,
  binary_pow: binary,
  binary_max: binary,
  binary_min: binary,
  binary_less: binary,
  binary_greater: binary,
  binary_equal: binary,
  binary_less_equal: binary,
  binary_greater_equal: binary,
  binary_add_i32: binary,
  binary_sub_i32: binary,
  binary_mul_i32: binary,
  /** x < 0 ? x·slope : x (PRelu; the slope broadcast to x). */
  binary_prelu: binary,
  /** y[i] = cond[i] ≠ 0 ? a[i] : b[i] (Where, over equal-shaped operands). */
  where: { module: 'reduce', params: [ptr('cond'), ptr('a'), ptr('b'), ptr('y'), i32('n')] },

  // ---- reductions, softmax, arg-reductions (reduce.ts, softmax.ts, argmax.ts)
  reduce_sum: reduce,
  reduce_mean: reduce,
  reduce_max: reduce,
  reduce_min: reduce,
  reduce_prod: reduce,
  reduce_logsumexp: { module: 'reduce', params: REDUCE },
  softmax: { module: 'softmax', params: [ptr('x'), ptr('y'), i32('outer'), i32('axis'), i32('inner')] },
  log_softmax: { module: 'softmax', params: [ptr('x'), ptr('y'), i32('outer'), i32('axis'), i32('inner')] },
  /** y = 1 at the first largest element along `axis` of [outer, axis, inner], 0 elsewhere (Hardmax). */
  hardmax: { module: 'softmax', params: [ptr('x'), ptr('y'), i32('outer'), i32('axis'), i32('inner')] },
  /** y[b] = det(x[b]) of n×n float32 matrices, LU with partial pivoting in f64; scratch ≥ 8·n² bytes (Det). */
  det: { module: 'det', params: [ptr('x'), ptr('y'), i32('batches'), i32('n'), ptr('scratch')] },
  argmax: { module: 'argmax', params: [...REDUCE, i32('selectLast')] },
  argmin: { module: 'argmax', params: [...REDUCE, i32('selectLast')] },

  // ---- typed elementwise: bool results, integers, casts (compare.ts, where.ts, integer.ts, cast.ts)
  ...COMPARE_KERNELS,
  ...INTEGER_KERNELS,
  ...CAST_KERNELS,

  // ---- memory and data movement (memory.ts, layout.ts, pad.ts, cast.ts)
  copy: { module: 'memory', params: [ptr('x'), ptr('y'), i32('nbytes')] },
  fill: { module: 'memory', params: [ptr('y'), i32('n'), f32('v')] },
  /** n bytes at y set to v (a bool or uint8 tensor of one value). */
  fill_u8: { module: 'memory', params: [ptr('y'), i32('n'), i32('v')] },
  /** y[r, i] = table[idx[r], i] for rows of `inner` elements (index bound `rows`). */
  gather_rows: {
    module: 'memory',
    params: [ptr('idx'), ptr('table'), ptr('y'), i32('count'), i32('inner'), i32('rows')],
  },
  /** y[o, c, i] = x[o, idx[c], i] over [outer, axis, inner] (Gather with run-time indices, any 4/8-byte data). */
  gather_axis: {
    module: 'memory',
    params: [
      ptr('x'),
      ptr('idx'),
      ptr('y'),
      i32('outer'),
      i32('axis'),
      i32('inner'),
      i32('count'),
      i32('idxBytes'),
      i32('elemBytes'),
    ],
  },
  /** An n-d strided gather into a contiguous y: table = [rank, dims…, strides…], dim 0 given as `rows`. */
  strided_copy: { module: 'layout', params: [ptr('x'), ptr('y'), i32('rows'), ptr('table')] },
  /** strided_copy of elements of elemSize bytes (1, 2, 4, 8); dims and strides in elements. */
  strided_copy_sized: { module: 'layout', params: [ptr('x'), ptr('y'), i32('rows'), ptr('table'), i32('elemSize')] },
  /** `count` blocks of `chunk` floats, read every srcStride and written every dstStride floats. */
  copy_blocks: {
    module: 'layout',
    params: [ptr('x'), ptr('y'), i32('count'), i32('chunk'), i32('srcStride'), i32('dstStride')],
  },
  /** copy_blocks of elements of elemSize bytes (1, 2, 4, 8); chunk and strides in elements. */
  copy_blocks_sized: {
    module: 'layout',
    params: [ptr('x'), ptr('y'), i32('count'), i32('chunk'), i32('srcStride'), i32('dstStride'), i32('elemSize')],
  },
  nchw_to_nhwc: { module: 'layout', params: [ptr('x'), ptr('y'), i32('images'), i32('C'), i32('HW')] },
  nhwc_to_nchw: { module: 'layout', params: [ptr('x'), ptr('y'), i32('images'), i32('C'), i32('HW')] },
  /** table = [rank, out dims…, in dims…, leading pads…]; mode: CODES.PAD. */
  pad: { module: 'pad', params: [ptr('x'), ptr('y'), i32('rows'), ptr('table'), i32('mode'), f32('value')] },
  /** pad with the constant's 4 bytes read at value (a run-time constant_value, an int32 constant). */
  pad_at: { module: 'pad', params: [ptr('x'), ptr('y'), i32('rows'), ptr('table'), i32('mode'), ptr('value')] },
  /** y[i] = table[idx[i]] (class indices to their float class values). */
  lookup_f32: { module: 'cast', params: [ptr('idx'), ptr('table'), ptr('y'), i32('n')] },
  /** The index of the first non-finite float among n at x, or −1 (the runtime's input check). */
  first_non_finite: { module: 'check', params: [ptr('x'), i32('n')], returns: 'i32' },

  // ---- convolution and pooling over channels-last images (conv.ts, pool.ts, pad.ts)
  im2col: {
    module: 'conv',
    params: [ptr('x'), ptr('col'), i32('images'), i32('H'), i32('W'), i32('C'), i32('c0'), i32('cn'), ...WINDOW],
  },
  conv_depthwise: {
    module: 'conv',
    params: [
      ptr('x'),
      ptr('w'),
      ptr('bias'),
      ptr('y'),
      i32('images'),
      i32('H'),
      i32('W'),
      i32('C'),
      ...WINDOW,
      i32('act'),
      f32('p0'),
      f32('p1'),
    ],
  },
  /** Adds each column of a transposed convolution's GEMM into the output pixel it lands on (bias first). */
  col2im: {
    module: 'pad',
    params: [
      ptr('col'),
      ptr('y'),
      i32('images'),
      i32('H'),
      i32('W'),
      i32('Co'),
      i32('KH'),
      i32('KW'),
      i32('SH'),
      i32('SW'),
      i32('DH'),
      i32('DW'),
      i32('PT'),
      i32('PL'),
      i32('OH'),
      i32('OW'),
      ptr('bias'),
    ],
  },
  maxpool: { module: 'pool', params: [...IMAGES, ...WINDOW] },
  /** MaxPool's Indices: y [images, C, OH, OW] i64 (NCHW flat indices of each window's max), x NHWC. */
  maxpool_indices: { module: 'pool', params: [...IMAGES, ...WINDOW, i32('storageOrder')] },
  avgpool: {
    module: 'pool',
    params: [
      ...IMAGES,
      i32('KH'),
      i32('KW'),
      i32('SH'),
      i32('SW'),
      i32('PT'),
      i32('PL'),
      i32('PB'),
      i32('PR'),
      i32('OH'),
      i32('OW'),
      i32('countIncludePad'),
    ],
  },
  global_avgpool: { module: 'pool', params: [ptr('x'), ptr('y'), i32('images'), i32('HW'), i32('C')] },
  global_maxpool: { module: 'pool', params: [ptr('x'), ptr('y'), i32('images'), i32('HW'), i32('C')] },
  lrn: {
    module: 'pool',
    params: [
      ptr('x'),
      ptr('y'),
      i32('images'),
      i32('HW'),
      i32('C'),
      i32('size'),
      f32('alpha'),
      f32('beta'),
      f32('bias'),
    ],
  },
  ...NORM_KERNELS,
  layer_norm: {
    module: 'pool',
    params: [ptr('x'), ptr('scale'), ptr('bias'), ptr('y'), i32('rows'), i32('D'), f32('epsilon')],
  },
  /** LayerNormalization's Mean and InvStdDev outputs per row (0 = not written), as layer_norm computes them. */
  layer_norm_stats: {
    module: 'pool',
    params: [ptr('x'), ptr('mean'), ptr('invStd'), i32('rows'), i32('D'), f32('epsilon')],
  },

  // ---- classic ML (scores.ts, trees.ts, svm.ts, preprocessing.ts, indexing.ts)
  post_transform: { module: 'scores', params: [ptr('x'), ptr('y'), i32('rows'), i32('C'), i32('post')] },
  two_class_scores: { module: 'scores', params: [ptr('x'), ptr('y'), i32('rows'), i32('mode'), i32('post')] },
  label_threshold: { module: 'scores', params: [ptr('x'), ptr('y'), i32('rows'), f32('threshold')] },
  tree_accumulate: {
    module: 'trees',
    params: [
      ptr('x'),
      i32('F'),
      i32('rows'),
      ptr('nodes'),
      ptr('trees'),
      i32('nTrees'),
      ptr('table'),
      i32('nOut'),
      i32('aggregate'),
      i32('nanLeft'),
      ptr('acc'),
      ptr('has'),
    ],
  },
  tree_finalize_regressor: {
    module: 'trees',
    params: [
      ptr('acc'),
      ptr('has'),
      ptr('scores'),
      i32('rows'),
      i32('nOut'),
      i32('nTrees'),
      i32('aggregate'),
      ptr('base'),
      i32('nBase'),
      i32('post'),
    ],
  },
  tree_finalize_classifier: {
    module: 'trees',
    params: [
      ptr('acc'),
      ptr('has'),
      ptr('scores'),
      ptr('labels'),
      i32('rows'),
      i32('C'),
      ptr('base'),
      i32('nBase'),
      i32('post'),
      i32('binaryCase'),
      i32('allPositive'),
    ],
  },
  svm_kernel: {
    module: 'svm',
    params: [
      ptr('x'),
      i32('F'),
      i32('rows'),
      ptr('sv'),
      i32('V'),
      i32('kind'),
      f32('gamma'),
      f32('coef0'),
      f32('degree'),
      ptr('out'),
    ],
  },
  svm_classify: {
    module: 'svm',
    params: [
      ptr('kernels'),
      i32('rows'),
      i32('V'),
      i32('C'),
      ptr('perClass'),
      ptr('coef'),
      ptr('rho'),
      ptr('probA'),
      ptr('probB'),
      ptr('scores'),
      ptr('labels'),
      ptr('scratch'),
      i32('post'),
      i32('allPositive'),
    ],
  },
  svm_regress: {
    module: 'svm',
    params: [ptr('kernels'), i32('rows'), i32('V'), ptr('coef'), f32('rho'), i32('oneClass'), ptr('y')],
  },
  normalize_rows: { module: 'preprocessing', params: [ptr('x'), ptr('y'), i32('rows'), i32('D'), i32('norm')] },
  impute: {
    module: 'preprocessing',
    params: [ptr('x'), ptr('y'), i32('rows'), i32('D'), ptr('values'), i32('nValues'), f32('replaced')],
  },
  one_hot: { module: 'preprocessing', params: [ptr('x'), ptr('y'), i32('n'), ptr('cats'), i32('C')] },
  gather_columns: {
    module: 'preprocessing',
    params: [ptr('x'), ptr('y'), i32('rows'), i32('D'), ptr('indices'), i32('K')],
  },
  label_encode: {
    module: 'preprocessing',
    params: [
      ptr('x'),
      ptr('y'),
      i32('n'),
      ptr('keys'),
      ptr('values'),
      i32('K'),
      f32('fallback'),
      i32('xInt'),
      i32('yInt'),
    ],
  },
  /** y[r, m] = Σ_f (x[r, f] − t[m, f])² (k-nearest neighbours' distances to the training rows). */
  squared_distances: { module: 'indexing', params: [ptr('x'), ptr('t'), ptr('y'), i32('rows'), i32('F'), i32('M')] },

  // ---- indexing: gathers, scatters, data-dependent sizes, TopK, CumSum (compiler/abi/indexing.ts)
  ...INDEXING_KERNELS,
  // ---- reductions over run-time axes (compiler/abi/reduce_axes.ts)
  ...REDUCE_AXES_KERNELS,
  // ---- resampling: Resize, Upsample, GridSample, RoiAlign, MaxUnpool (compiler/abi/resample.ts)
  ...RESAMPLE_KERNELS,
  // ---- recurrent: LSTM, GRU, RNN (assembly/rnn/, table in ./rnn.ts)
  ...RNN_KERNELS,
  // ---- quantization: QuantizeLinear, DequantizeLinear, integer and QLinear products (./quant.ts)
  ...QUANT_KERNELS,
  // ---- losses: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss (./loss.ts)
  ...LOSS_KERNELS,
  // ---- detection: NonMaxSuppression (./nms.ts)
  ...NMS_KERNELS,
  // ---- signal: HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix (./signal.ts)
  ...SIGNAL_KERNELS,
  // ---- shape operands given at run time: Reshape, Squeeze, Slice, Expand, … (./shape_values.ts)
  ...SHAPE_VALUES_KERNELS,
  // ---- text: TfIdfVectorizer (./text.ts)
  ...TEXT_KERNELS,
} as const satisfies Record<string, KernelSpec>;

// A name in two family tables would lose one entry to the spread above without a word: refuse it.
{
  const seen = new Set<string>();
  const tables = [COMPARE_KERNELS, INTEGER_KERNELS, CAST_KERNELS, INDEXING_KERNELS, REDUCE_AXES_KERNELS];
  for (const table of [
    ...tables,
    RESAMPLE_KERNELS,
    RNN_KERNELS,
    QUANT_KERNELS,
    LOSS_KERNELS,
    NMS_KERNELS,
    SIGNAL_KERNELS,
    SHAPE_VALUES_KERNELS,
    TEXT_KERNELS,
  ])
    for (const name of Object.keys(table)) {
      if (seen.has(name)) throw new Error(`kernel ${name} is in two ABI tables`);
      seen.add(name);
    }
}

export type KernelName = keyof typeof KERNELS;

/** The parameter names of a kernel, in order. */
export type ParamsOf<K extends KernelName> = (typeof KERNELS)[K]['params'];
type NamesOf<P extends readonly Param[]> = P[number][0];
type KindOf<P extends readonly Param[], N extends string> = Extract<P[number], readonly [N, ParamKind]>[1];

/** A kernel call's arguments by parameter name, each of the kind its parameter takes. */
export type KernelArgs<K extends KernelName, A extends Record<ParamKind, unknown>> = {
  [N in NamesOf<ParamsOf<K>>]: A[KindOf<ParamsOf<K>, N>];
};

/** The kernels of a family, as a type (they share one signature). */
export type FamilyKernel<F extends Family> = {
  [K in KernelName]: (typeof KERNELS)[K] extends { family: F } ? K : never;
}[KernelName];

/** Kernels of a family, in table order: their op codes are their positions. */
export function familyMembers(family: Family): KernelName[] {
  return (Object.keys(KERNELS) as KernelName[]).filter((k) => (KERNELS[k] as KernelSpec).family === family);
}
