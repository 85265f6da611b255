import type { CompileOptions } from './compile.js';
import { CompileError } from './errors.js';
import { checkLabels, labelCounts } from './labels.js';
import { categoricalFeatures } from './categorical.js';
import type { Lowered } from './lowering/lower.js';
import { evaluate, isConst, sizeToString } from './shape/size.js';
import type { OnnxModel, OnnxNode } from './onnx.js';
import { OPS, type OpMeaning } from './ops/index.js';
import type { RtValue } from './program.js';
import {
  rowSize,
  type Dim,
  type DType,
  type ImagePreprocessing,
  type ModelMeta,
  type Storage,
  type TensorMeta,
} from '../runtime/meta.js';

/**
 * The describe pass: what `ml.meta` says about a compiled model's inputs and outputs — shapes, element
 * types, what the numbers mean (probabilities, logits, values, labels), class labels, the task, image
 * preprocessing, missing values. It reads the graph through the ops' declared meanings (OpMeaning), never
 * through kernel names.
 */
export interface Description {
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  labels: string[] | null;
  task: ModelMeta['task'];
  preprocessing: ImagePreprocessing | null;
}

export function describe(model: OnnxModel, lowered: Lowered, options: CompileOptions): Description {
  const graph = new GraphMeaning(model);
  const shapeOf = (v: RtValue): { shape: Dim[]; perRow?: number } => {
    const shape = v.dims.map((d) => (isConst(d) ? d : sizeToString(d)));
    if (!lowered.rows) return { shape };
    // Row-shaped: axis 0 is k·rows, the rest fixed (lowering checked both).
    const k = isConst(v.dims[0]) ? 1 : evaluate(v.dims[0], () => 1);
    const rest = v.dims.slice(1);
    return rest.every(isConst) ? { shape, perRow: k * (rest as number[]).reduce((a, b) => a * b, 1) } : { shape };
  };
  // Models that handle missing values (Imputer, trees, an explicit IsNaN test) take NaN; for the rest a
  // non-finite input is an error.
  const missing = model.graph.nodes.some((n) => graph.meaning(n)?.acceptsMissing);
  const inputs: TensorMeta[] = lowered.inputs.map(({ name, value }) => ({
    name,
    dtype: boundaryType(value),
    ...storageIfDifferent(value),
    ...shapeOf(value),
    kind: 'values',
    ...(missing && value.dtype === 'float32' ? { missing } : {}),
  }));
  // Columns the model one-hot encodes: forms map a <select> to the encoder's categories.
  const categorical = categoricalFeatures(
    model,
    inputs.map((t) => t.name),
    inputs.map(rowSize),
  );
  inputs.forEach((t, i) => categorical[i] && (t.features = categorical[i]));
  const outputs = lowered.outputs.map(({ name, value }) => ({
    ...outputMeta(model, graph, name, value),
    ...shapeOf(value),
  }));
  const labels =
    options.labels ??
    labelsFromMetadata(model) ??
    lowered.outputs.find((o) => o.value.zipMapLabels)?.value.zipMapLabels ??
    lowered.outputs.find((o) => o.value.categories)?.value.categories?.map(String) ??
    null;
  checkLabels(labels ?? undefined, labelCounts(outputs), options.labels !== undefined);
  const task =
    options.task ??
    taskFromMetadata(model) ??
    (outputs.some((o) => o.kind !== 'values') ? 'classification' : 'regression');
  const preprocessing = options.image ? imagePreprocessing(options.image, inputs[0]) : null;
  return { inputs, outputs, labels, task, preprocessing };
}

/** The graph's nodes by the values they produce, and what each op declares its output means. */
class GraphMeaning {
  private readonly producers: Map<string, OnnxNode>;
  constructor(private readonly model: OnnxModel) {
    this.producers = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  }

  /** Some op in `ops` made `name` (looking through ops that pass values on). */
  producedBy(name: string, ops: string[]): boolean {
    for (let n = this.producers.get(name), depth = 0; n && depth < 32; n = this.producers.get(n.inputs[0]), depth++) {
      if (ops.includes(n.opType)) return true;
      if (this.meaning(n)?.passes !== 'values') return false;
    }
    return false;
  }

  meaning(n: OnnxNode): OpMeaning | undefined {
    return OPS[n.domain]?.[n.opType]?.meaning;
  }

  /** What the op that made `name` says its numbers are, looking through ops that pass meaning on. */
  kind(name: string, lastDim: number, depth = 0): TensorMeta['kind'] | undefined {
    const node = this.producers.get(name);
    const m = node && this.meaning(node);
    if (!node || !m || depth > 32) return undefined;
    if (typeof m.outputKind === 'function') return m.outputKind(lastDim);
    if (m.outputKind) return m.outputKind;
    if (m.passes === 'values') return this.kind(node.inputs[0], lastDim, depth + 1);
    if (m.passes === 'all-inputs') {
      const kinds = new Set(node.inputs.map((i) => this.kind(i, lastDim, depth + 1)));
      return kinds.size === 1 ? [...kinds][0] : undefined;
    }
    return undefined;
  }

  /** `name` and the values it was made from by ops that keep the order of values (views, Sqrt). */
  orderedSources(name: string): string[] {
    const names = [name];
    for (let n = this.producers.get(name); n && this.meaning(n)?.passes; n = this.producers.get(n.inputs[0])) {
      if (this.meaning(n)!.passes === 'all-inputs') break;
      names.push(n.inputs[0]);
    }
    return names;
  }

  /** Some ArgMin picks the class from these values: they are distances, smaller is better. */
  rankedByArgMin(name: string): boolean {
    const sources = new Set(this.orderedSources(name));
    return this.model.graph.nodes.some((n) => n.opType === 'ArgMin' && sources.has(n.inputs[0]));
  }
}

/** The ONNX element type at the boundary (what `run()` takes or returns). */
function boundaryType(v: RtValue): DType {
  const t = v.onnx ?? v.dtype;
  if (t === 'float32' || t === 'int64' || t === 'int32' || t === 'bool' || t === 'uint8' || t === 'int8') return t;
  throw new CompileError('unsupported-ops', `A model input or output of element type ${t} is not supported.`);
}

const storageIfDifferent = (v: RtValue): { storage?: Storage } =>
  v.onnx && v.onnx !== v.dtype ? { storage: v.dtype } : {};

function outputMeta(model: OnnxModel, graph: GraphMeaning, name: string, value: RtValue): Omit<TensorMeta, 'shape'> {
  const categories = value.categories;
  if (categories) {
    // Class indices in memory; the runtime hands out the class values they stand for.
    const declared = model.graph.outputs.find((o) => o.name === name)?.dtype;
    const dtype = categories.some((c) => typeof c === 'string') ? 'string' : declared === 'int32' ? 'int32' : 'int64';
    return { name, dtype, storage: value.dtype, kind: 'label', categories };
  }
  if (value.dtype === 'float32' && !value.onnx) {
    const lastDim = value.dims[value.dims.length - 1] ?? 1;
    const last = isConst(lastDim) ? lastDim : 2;
    const kind = value.zipMapLabels
      ? 'probabilities'
      : (graph.kind(name, last) ??
        // Scores whose class is picked by ArgMin are distances (KMeans: the label is the nearest centre):
        // not logits to rank by a softmax.
        (graph.rankedByArgMin(name) || taskFromMetadata(model) === 'regression' || last <= 1 ? 'values' : 'logits'));
    return { name, dtype: 'float32', kind };
  }
  const dtype = boundaryType(value);
  // An integer that picks a class (ArgMax), or the one integer per row a classifier or anomaly detector
  // gives (-1/1 from Sign, Cast): a label. Other integers (token ids per position, counts) are values.
  const onePerRow = value.rowAxis === 0 && value.dims.slice(1).every((d) => d === 1);
  const isLabel =
    graph.producedBy(name, ['ArgMax', 'ArgMin']) || (onePerRow && !graph.producedBy(name, ['Shape', 'Size']));
  return { name, dtype, ...storageIfDifferent(value), kind: isLabel ? 'label' : 'values' };
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
