/**
 * The `ml.meta` custom section: versioned JSON describing a compiled model. The compiler writes it,
 * the runtime validates it, `inspect` prints it, elements read labels and tasks from it.
 */
export const META_SECTION = 'ml.meta';
export const META_FORMAT = 'ml-widgets';
export const META_VERSION = 1;

/** WebAssembly memory a model may plan and the runtime accepts: 2 GiB keeps every pointer positive in i32. */
export const MAX_MODEL_MEMORY = 2 ** 31;

/**
 * Dimension: a number, or the batch dimension (always axis 0): "N" for one entry per row, "N*k" for
 * k entries per row (an output that reshaped rows, e.g. [N,2,12] → [2N,12]).
 */
export type Dim = number | 'N' | `N*${number}`;

/** Entries along axis 0 per batch row. */
export function perRow(dim: Dim): number {
  return typeof dim === 'string' && dim.startsWith('N*') ? Number(dim.slice(2)) : 1;
}

export type DType = 'float32' | 'int32' | 'int64' | 'string';

export interface TensorMeta {
  name: string;
  dtype: DType;
  /** Shape with the batch dimension first ("N"). */
  shape: Dim[];
  /**
   * What the values mean, so elements can present them: `probabilities` (sum to 1),
   * `logits`/`log-probabilities` (softmax them for display), `label` (class index), `values` (regression).
   */
  kind: 'probabilities' | 'logits' | 'log-probabilities' | 'label' | 'values';
  /**
   * For `label` outputs: the class values the model's indices stand for (strings or numbers). The
   * module computes indices; the runtime returns `categories[index]`.
   */
  categories?: (string | number)[];
  /** Inputs only: NaN marks a missing value the model handles (Imputer, tree ensembles). */
  missing?: boolean;
  /**
   * Inputs only: per column of a row, what the model does with it beyond plain arithmetic (null for a
   * plain number). Absent when every column is a plain number. Forms map `<select>`s through it.
   */
  features?: (FeatureMeta | null)[];
}

/** A column the model one-hot encodes (scikit-learn's OneHotEncoder on integer codes). */
export interface FeatureMeta {
  /** The integer codes the encoder knows, in the order of its one-hot columns. */
  categories: number[];
  /** `ignore`: any other code encodes as all zeros; `error`: the original encoder rejects it. */
  unknown: 'ignore' | 'error';
}

/**
 * Image preprocessing: resize to width×height (`resize`), take `channels`, then per channel
 * value = (pixel · scale − mean[c]) / std[c], written in `layout` ("NCHW", "NHWC", or "flat" for a
 * [N, H·W] grayscale input, as an MLP on 8×8 digits takes).
 */
export interface ImagePreprocessing {
  type: 'image';
  width: number;
  height: number;
  channels: 'RGB' | 'BGR' | 'L';
  layout: 'NCHW' | 'NHWC' | 'flat';
  scale: number;
  mean: number[];
  std: number[];
  resize: 'center-crop' | 'fit' | 'stretch';
  /** Dark strokes on light paper become high values (digits drawn on a sketch pad). */
  invert?: boolean;
}

export interface ModelMeta {
  format: typeof META_FORMAT;
  version: number;
  producer: { name: string; version: string };
  source: { producer: string; producerVersion: string; opset: number; domains: Record<string, number> };
  task: 'classification' | 'regression' | 'unknown';
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  /** Class labels for classification outputs, index-aligned with the scores. */
  labels: string[] | null;
  /** How to turn an image into the model's input, when the model takes images. */
  preprocessing: null | ImagePreprocessing;
  /** WebAssembly features the module needs, e.g. ["simd"] or ["simd", "relaxed-simd"]. */
  features: string[];
  /** ONNX op types the model was compiled from. */
  ops: string[];
  /** Kernel functions in the module. */
  kernels: string[];
  weightBytes: number;
  arenaBytes: number;
  /** The largest set of buffers alive at once: the arena can be no smaller than this. */
  peakLiveBytes?: number;
  /** Exact linear memory size; the memory cannot grow. */
  memoryBytes: number;
  /** Rows per `run` call; the runtime chunks larger batches. */
  maxBatch: number;
}

/** Elements per row: the product of all dims after the batch dim. */
export function rowSize(t: Pick<TensorMeta, 'shape'>): number {
  let n = perRow(t.shape[0]);
  for (let i = 1; i < t.shape.length; i++) n *= t.shape[i] as number;
  return n;
}
