import {
  META_FORMAT,
  META_VERSION,
  rowSize,
  type Dim,
  type ImagePreprocessing,
  type ModelMeta,
  type TensorMeta,
} from '../runtime/meta.js';
import { VERSION } from '../runtime/version.js';
import { categoricalFeatures } from './categorical.js';
import { emitModel } from './emit.js';
import { CompileError } from './errors.js';
import { checkLabels, labelCounts } from './labels.js';
import { lower, type BatchMode, type Lowered } from './lower.js';
import { decodeOnnx, type OnnxModel, type OnnxNode } from './onnx.js';
import { chooseMaxBatch, computeLifetimes, peakLiveBytes, planArena } from './plan.js';
import type { RtValue } from './program.js';

export interface CompileOptions {
  /** Class labels, index-aligned with the scores; default: the ONNX metadata_props "labels". */
  labels?: string[];
  /** Rows per `run` call; default: as many as fit a 4 MiB arena, at most 1024. */
  maxBatch?: number;
  /** Use relaxed SIMD (fused multiply-add): faster, but only for browsers that have it. */
  relaxedSimd?: boolean;
  /** 'auto' (default): a dynamic batch when the graph allows it, else the exported static shapes. */
  batch?: 'auto' | 'dynamic' | 'static';
  /** The kernel library bytes; default: dist/kernels.wasm (or kernels-relaxed.wasm) beside the compiler. */
  kernels?: Uint8Array;
  /** Export every kernel call as `step<i>:<kernel>(rows)` too, for profiling. */
  exportSteps?: boolean;
  /** Task override; default: inferred from the outputs. */
  task?: ModelMeta['task'];
  /** The model takes images: how to preprocess them (missing fields are inferred from the input shape). */
  image?: Partial<Omit<ImagePreprocessing, 'type' | 'layout'>>;
}

export interface CompileResult {
  wasm: Uint8Array;
  meta: ModelMeta;
}

export const MIN_OPSET = 7;
export const MAX_OPSET = 21;
const ARENA_BUDGET = 4 << 20;
const MAX_BATCH_LIMIT = 1024;

/** WebAssembly memory a model may plan: 2 GiB keeps every pointer positive in i32 arithmetic. */
const MAX_MEMORY = 2 ** 31;

/**
 * Compile ONNX model bytes into one self-contained `.wasm` model file. Every failure is a CompileError:
 * anything else escaping is a compiler bug, still reported as one (code 'internal').
 */
export async function compile(onnxBytes: Uint8Array, options: CompileOptions = {}): Promise<CompileResult> {
  try {
    return await compileModel(onnxBytes, options);
  } catch (err) {
    if (err instanceof CompileError) throw err;
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new CompileError(
      'internal',
      `Internal compiler error (${what}). The model is probably malformed in a way the compiler does not check yet; please report it with the model.`,
    );
  }
}

async function compileModel(onnxBytes: Uint8Array, options: CompileOptions): Promise<CompileResult> {
  const model = decodeOnnx(onnxBytes);
  const opset = model.opsets['ai.onnx'];
  // Pure ai.onnx.ml graphs (onnxmltools' XGBoost exports) may declare any ai.onnx opset: it is unused.
  const usesCoreOps = model.graph.nodes.some((n) => n.domain === 'ai.onnx');
  if (usesCoreOps && (opset < MIN_OPSET || opset > MAX_OPSET)) {
    throw new CompileError(
      'unsupported-ops',
      `The model uses ONNX opset ${opset}; ml-widgets compiles opsets ${MIN_OPSET}–${MAX_OPSET}. Re-export it with opset_version between them.`,
    );
  }
  const lowered = lowerWithBatch(model, options.batch ?? 'auto');
  const { program } = lowered;
  program.finishData();
  computeLifetimes(program);
  const maxBatch =
    lowered.mode !== 'dynamic'
      ? 1
      : Math.max(1, Math.floor(options.maxBatch ?? chooseMaxBatch(program, ARENA_BUDGET, MAX_BATCH_LIMIT)));
  const arenaBytes = planArena(program, maxBatch);
  // Checked before emitting: a plan past wasm's limits must be refused, not wrapped into i32 offsets.
  if (!(program.dataSize + arenaBytes <= MAX_MEMORY)) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    throw new CompileError(
      'too-large',
      `The model needs ${mib(program.dataSize)} of weights and ${mib(arenaBytes)} of working memory for ${maxBatch} row(s) per call, more than the ${mib(MAX_MEMORY)} of WebAssembly memory a model may plan.${maxBatch > 1 ? ' Lower --max-batch, or use' : ' Use'} a smaller model or smaller inputs.`,
    );
  }

  const labels =
    options.labels ??
    labelsFromMetadata(model) ??
    lowered.outputs.find((o) => o.value.zipMapLabels)?.value.zipMapLabels ??
    lowered.outputs.find((o) => o.value.categories)?.value.categories?.map(String);
  const shapeOf = (v: RtValue): Dim[] =>
    lowered.mode === 'static' ? [1, ...v.dims] : [v.dims[0] === 1 ? 'N' : `N*${v.dims[0]}`, ...v.dims.slice(1)];
  // Models that handle missing values (Imputer, trees, an explicit IsNaN test) take NaN; for the rest a
  // non-finite input is an error.
  const missing =
    program.kernels.has('impute') ||
    program.kernels.has('tree_accumulate') ||
    model.graph.nodes.some((n) => n.opType === 'IsNaN');
  const inputs: TensorMeta[] = lowered.inputs.map(({ name, value }) => ({
    name,
    dtype: 'float32',
    shape: shapeOf(value),
    kind: 'values',
    ...(missing ? { missing } : {}),
  }));
  // Columns the model one-hot encodes: forms map a <select> to the encoder's categories.
  const categorical = categoricalFeatures(
    model,
    inputs.map((t) => t.name),
    inputs.map(rowSize),
  );
  inputs.forEach((t, i) => categorical[i] && (t.features = categorical[i]));
  const outputs: TensorMeta[] = lowered.outputs.map(({ name, value }) =>
    outputMeta(model, name, value, shapeOf(value)),
  );
  checkLabels(labels, labelCounts(outputs), options.labels !== undefined);
  const task =
    options.task ??
    taskFromMetadata(model) ??
    (outputs.some((o) => o.kind !== 'values') ? 'classification' : 'regression');
  let meta: ModelMeta | undefined;

  const wasm = emitModel({
    kernels: options.kernels ?? (await loadKernels(!!options.relaxedSimd)),
    relaxedSimd: !!options.relaxedSimd,
    program,
    inputOffsets: lowered.inputs.map((i) => i.value.buffer.offset),
    outputOffsets: lowered.outputs.map((o) => o.value.buffer.offset),
    maxBatch,
    arenaBytes,
    exportSteps: options.exportSteps,
    meta: ({ memoryBytes, weightBytes, kernels }) => {
      meta = {
        format: META_FORMAT,
        version: META_VERSION,
        producer: { name: 'ml-widgets', version: VERSION },
        source: {
          producer: `${model.producer} ${model.producerVersion}`.trim(),
          producerVersion: model.producerVersion,
          opset,
          domains: model.opsets,
        },
        task,
        inputs,
        outputs,
        labels: labels ?? null,
        preprocessing: options.image ? imagePreprocessing(options.image, inputs[0]) : null,
        features: options.relaxedSimd ? ['simd', 'relaxed-simd'] : ['simd'],
        ops: lowered.ops.sort(),
        kernels,
        weightBytes,
        arenaBytes,
        peakLiveBytes: peakLiveBytes(program, maxBatch),
        memoryBytes,
        maxBatch,
      };
      return new TextEncoder().encode(JSON.stringify(meta));
    },
  });
  return { wasm, meta: meta! };
}

function lowerWithBatch(model: OnnxModel, batch: 'auto' | 'dynamic' | 'static'): Lowered & { mode: BatchMode } {
  if (batch === 'static') return { ...lower(model, 'static'), mode: 'static' };
  try {
    return { ...lower(model, 'dynamic'), mode: 'dynamic' };
  } catch (err) {
    if (batch !== 'auto' || !(err instanceof CompileError) || err.code !== 'batch') throw err;
    // Graphs that move the batch axis around without mixing rows (attention) run one row per call.
    try {
      return { ...lower(model, 'rowwise'), mode: 'rowwise' };
    } catch (rowErr) {
      if (!(rowErr instanceof CompileError) || rowErr.code !== 'batch') throw rowErr;
    }
    // Graphs that do mix rows (e.g. flatten everything) still run at their exported shape when it is
    // fixed. When it is not, the batch problem is the one to report.
    try {
      return { ...lower(model, 'static'), mode: 'static' };
    } catch {
      throw new CompileError(
        'batch',
        'The model mixes the rows of a batch, which ml-widgets runs independently, and its input shapes are not fixed. Export it with a fixed batch size to compile it at that shape:',
        err.problems,
      );
    }
  }
}

/** Complete the image preprocessing from the input's shape: layout, size and channel count. */
function imagePreprocessing(given: NonNullable<CompileOptions['image']>, input: TensorMeta): ImagePreprocessing {
  const dims = input.shape.slice(1) as number[];
  let layout: ImagePreprocessing['layout'];
  let c: number, h: number, w: number;
  if (dims.length === 3 && (dims[0] === 1 || dims[0] === 3)) [layout, c, h, w] = ['NCHW', dims[0], dims[1], dims[2]];
  else if (dims.length === 3 && (dims[2] === 1 || dims[2] === 3))
    [layout, h, w, c] = ['NHWC', dims[0], dims[1], dims[2]];
  else if (dims.length === 1 && Number.isInteger(Math.sqrt(dims[0])))
    [layout, c, h, w] = ['flat', 1, Math.sqrt(dims[0]), Math.sqrt(dims[0])];
  else if (dims.length === 2) [layout, c, h, w] = ['flat', 1, dims[0], dims[1]];
  else
    throw new CompileError(
      'invalid-graph',
      `Input "${input.name}" has shape [${input.shape}], which is not an image (N×C×H×W, N×H×W×C or N×H·W).`,
    );
  if ((given.width && given.width !== w) || (given.height && given.height !== h)) {
    throw new CompileError(
      'invalid-graph',
      `--image ${given.width}x${given.height} does not match the model's ${w}x${h} input.`,
    );
  }
  const channels = given.channels ?? (c === 1 ? 'L' : 'RGB');
  if ((channels === 'L') !== (c === 1))
    throw new CompileError('invalid-graph', `The input has ${c} channel(s) but --channels is ${channels}.`);
  const perChannel = (v: number[] | undefined, fallback: number) => {
    const list = v ?? [fallback];
    if (list.length !== 1 && list.length !== c)
      throw new CompileError(
        'invalid-graph',
        `Give ${c === 1 ? '1 value' : `1 or ${c} values`} for --mean/--std (the input has ${c} channel${c === 1 ? '' : 's'}), not ${list.length}.`,
      );
    return list.length === c ? list : new Array(c).fill(list[0]);
  };
  return {
    type: 'image',
    width: w,
    height: h,
    channels,
    layout,
    scale: given.scale ?? 1 / 255,
    mean: perChannel(given.mean, 0),
    std: perChannel(given.std, 1),
    resize: given.resize ?? 'center-crop',
    ...(given.invert ? { invert: true } : {}),
  };
}

/** Labels from metadata_props "labels": a JSON array or comma-separated text. */
function labelsFromMetadata(model: OnnxModel): string[] | undefined {
  const raw = model.metadata.labels ?? model.metadata.classes;
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw);
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // not JSON: comma-separated
  }
  return raw.split(',').map((s) => s.trim());
}

function taskFromMetadata(model: OnnxModel): ModelMeta['task'] | undefined {
  const t = model.metadata.task;
  return t === 'classification' || t === 'regression' ? t : undefined;
}

function outputMeta(model: OnnxModel, name: string, value: RtValue, shape: Dim[]): TensorMeta {
  if (value.dtype === 'float32')
    return {
      name,
      dtype: 'float32',
      shape,
      kind: value.zipMapLabels ? 'probabilities' : outputKind(model, name, value),
    };
  const declared = model.graph.outputs.find((o) => o.name === name)?.dtype;
  const categories = value.categories;
  const dtype = categories?.some((c) => typeof c === 'string') ? 'string' : declared === 'int32' ? 'int32' : 'int64';
  return { name, dtype, shape, kind: 'label', ...(categories ? { categories } : {}) };
}

/** What an output's numbers mean, from the op that produced it (looking through views). */
function outputKind(model: OnnxModel, name: string, value: RtValue): TensorMeta['kind'] {
  const producers = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  let node = producers.get(name);
  while (node && ['Identity', 'Reshape', 'Flatten', 'Dropout', 'Cast'].includes(node.opType))
    node = producers.get(node.inputs[0]);
  if (node?.opType === 'Softmax') return 'probabilities';
  if (node?.opType === 'LogSoftmax') return 'log-probabilities';
  if (node?.opType === 'Sigmoid' && value.dims[value.dims.length - 1] === 1) return 'probabilities'; // binary: p(class 1)
  // Several targets of a regressor are values, not class logits (also one regressor per target, concatenated).
  const REGRESSORS = ['LinearRegressor', 'TreeEnsembleRegressor', 'SVMRegressor'];
  const fromRegressors = (n: OnnxNode | undefined, depth = 0): boolean => {
    while (n && ['Identity', 'Reshape', 'Flatten', 'Cast'].includes(n.opType)) n = producers.get(n.inputs[0]);
    if (!n || depth > 8) return false;
    if (REGRESSORS.includes(n.opType)) return true;
    return n.opType === 'Concat' && n.inputs.every((i) => fromRegressors(producers.get(i), depth + 1));
  };
  if (fromRegressors(node)) return 'values';
  // Scores whose class is picked by ArgMin are distances (KMeans: the label is the nearest centre), where
  // smaller is better: not logits to rank by a softmax.
  let source = name;
  for (
    let n = producers.get(source);
    n && ['Identity', 'Reshape', 'Flatten', 'Cast', 'Sqrt'].includes(n.opType);
    n = producers.get(source)
  )
    source = n.inputs[0];
  if (model.graph.nodes.some((n) => n.opType === 'ArgMin' && (n.inputs[0] === source || n.inputs[0] === name)))
    return 'values';
  if (taskFromMetadata(model) === 'regression') return 'values';
  const last = value.dims[value.dims.length - 1] ?? 1;
  return last > 1 ? 'logits' : 'values';
}

/** Read the prebuilt kernel library that ships beside the compiler (Node: file; browser: fetch). */
async function loadKernels(relaxed: boolean): Promise<Uint8Array> {
  const url = new URL(relaxed ? '../kernels-relaxed.wasm' : '../kernels.wasm', import.meta.url);
  try {
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      return new Uint8Array(await readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new CompileError(
      'invalid-onnx',
      `The kernel library ${url.href} is missing (${(err as Error).message}); run "npm run build:kernels".`,
    );
  }
}
