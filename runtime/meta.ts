/**
 * The `ml.meta` custom section: versioned JSON describing a compiled model. The compiler writes it,
 * the runtime validates it, `inspect` prints it, elements read labels and tasks from it.
 */
export const META_SECTION = 'ml.meta';
export const META_FORMAT = 'ml-widgets';
export const META_VERSION = 2;

/** WebAssembly memory a model may plan and the runtime accepts: 2 GiB keeps every pointer positive in i32. */
export const MAX_MODEL_MEMORY = 2 ** 31;

/**
 * Dimension: a size, or a symbolic one: an input's symbol by name ("batch", "seq", "height"), an output's
 * expression over them ("2*batch", "seq - 1"). A call's actual output shapes come back from the model.
 */
export type Dim = number | string;

/** ONNX element types at the model's boundary; `string` only for labels mapped from class indices. */
export type DType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | 'string';

/** How memory holds a tensor's elements. */
export type Storage = 'float32' | 'int32' | 'int64' | 'uint8' | 'int8';

/** A symbolic dimension and the bounds the model was compiled for (a call outside them is refused). */
export interface SymbolMeta {
  name: string;
  min: number;
  max: number;
  /** `input`: read from the inputs' shapes; `computed`: a size the model works out at run time. */
  kind: 'input' | 'computed';
  /** Set by --dim (as opposed to the default bound). */
  flagged?: boolean;
}

export interface TensorMeta {
  name: string;
  dtype: DType;
  /** How memory holds the elements, when that differs from `dtype` (bool as 1/0 floats, int64 labels as int32). */
  storage?: Storage;
  /** The declared shape, with symbolic dimensions by name (see Dim). */
  shape: Dim[];
  /** For a model with `rows`: elements per row (the shape after axis 0, times what axis 0 has per row). */
  perRow?: number;
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
  /** The symbolic dimensions and their bounds. */
  symbols: SymbolMeta[];
  /**
   * Set when the graph never mixes the rows of a batch along `symbol` (axis 0 of every input and output):
   * `predict(rows)` then runs any number of rows, in chunks of at most `maxBatch`.
   */
  rows: { symbol: string } | null;
  /** Rows per call: the row symbol's bound (1 without `rows`). */
  maxBatch: number;
  /** What each of the model's run-time checks says when it fails (STATUS.CHECK_FAILED reports the index). */
  checks: string[];
  /**
   * What running on several threads needs (absent in models compiled without it): `steps` kernel calls
   * split into slices by the exports phase/slices/slice (0: none, the model then only runs whole calls
   * on several workers), `work` the estimated work of one call at the bounds, in multiply-adds.
   */
  threads?: { steps: number; work: number };
}

/**
 * Elements per row: `perRow` for a model with `rows`; for a shape with a symbolic first dimension and fixed
 * others, what the others hold; for a fixed shape, the whole tensor (one row). NaN when none of these
 * (symbolic dimensions after the first: use `run()` with shapes).
 */
export function rowSize(t: Pick<TensorMeta, 'shape' | 'perRow'>): number {
  if (t.perRow !== undefined) return t.perRow;
  const rest = typeof t.shape[0] === 'string' ? t.shape.slice(1) : t.shape;
  return rest.every((d) => typeof d === 'number') ? rest.reduce<number>((a, d) => a * (d as number), 1) : NaN;
}
