/**
 * The `ml.meta` JSON checked field by field before anything trusts it: every field the runtime and the
 * elements read has the type they assume, so a damaged, edited or hostile file is refused at load with a
 * message naming the field (code `bad-meta`), not met later as "needs NaN numbers per row".
 */
import { ModelError } from './errors.js';
import { rowSize, type ModelMeta, type TensorMeta } from './meta.js';

const DTYPES = ['float32', 'int32', 'int64', 'bool', 'uint8', 'int8', 'string'];
const STORAGES = ['float32', 'int32', 'int64', 'uint8', 'int8'];
const SCORE_KINDS = ['probabilities', 'logits', 'log-probabilities'];

/**
 * How many labels the model's outputs can take: its classes (a one-column score is a binary classifier,
 * two classes) and the class values of its label output; without either, the columns of its value output
 * (a regressor's labels name its targets). Empty when a size is symbolic or nothing is labelled.
 */
export function labelCounts(outputs: readonly TensorMeta[]): number[] {
  const counts: number[] = [];
  const scores = outputs.find((t) => t.dtype === 'float32' && SCORE_KINDS.includes(t.kind));
  const classes = scores ? rowSize(scores) : NaN;
  if (Number.isInteger(classes)) counts.push(classes === 1 ? 2 : classes);
  const label = outputs.find((t) => t.kind === 'label' && Array.isArray(t.categories));
  if (label) counts.push(label.categories!.length);
  const values = outputs.find((t) => t.dtype === 'float32' && t.kind === 'values');
  const columns = values && !scores && !label ? rowSize(values) : NaN;
  if (Number.isInteger(columns)) counts.push(columns);
  return counts;
}

/** Throws `bad-meta` naming the first field of `meta` (already known to be this format and version) that is wrong. */
export function checkMeta(meta: ModelMeta, where: string): void {
  const fail = (field: string, problem: string): never => {
    throw new ModelError(
      'bad-meta',
      `The "ml.meta" section of ${where} is inconsistent: ${field} ${problem}. Compile the model again with "ml-widgets compile".`,
    );
  };
  const m = meta as unknown as Record<string, unknown>;
  for (const side of ['inputs', 'outputs'] as const) {
    const list = m[side];
    if (!Array.isArray(list)) fail(side, 'is not a list');
    // A model with no inputs is valid ONNX (its outputs are constants); one with no outputs computes nothing.
    if (side === 'outputs' && (list as unknown[]).length === 0) fail(side, 'is empty: a model has at least one output');
    (list as unknown[]).forEach((t, i) => checkTensor(t, `${side}[${i}]`, side === 'inputs', fail));
  }
  if (!Array.isArray(m.symbols)) fail('symbols', `is ${show(m.symbols)}, not a list`);
  (m.symbols as unknown[]).forEach((x, i) => {
    const o = (x ?? {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '') fail(`symbols[${i}].name`, `is ${show(o.name)}, not a name`);
    // A computed value may be signed (a Slice step read from data); an input dimension is a size.
    const lowest = o.kind === 'computed' ? Number.isInteger(o.min) : isWhole(o.min);
    if (!lowest || !isWhole(o.max) || (o.min as number) > (o.max as number))
      fail(`symbols[${i}]`, `bounds ${show(o.min)}..${show(o.max)} are not integers, min ≤ max`);
  });
  if (m.rows !== null && (typeof m.rows !== 'object' || typeof (m.rows as { symbol?: unknown }).symbol !== 'string'))
    fail('rows', `is ${show(m.rows)}, not null or { symbol }`);
  if (!isStringList(m.checks)) fail('checks', 'is not a list of messages');
  if (!isWhole(m.maxBatch) || (m.maxBatch as number) < 1)
    fail('maxBatch', `is ${show(m.maxBatch)}, not a whole number ≥ 1`);
  if (!isWhole(m.memoryBytes)) fail('memoryBytes', `is ${show(m.memoryBytes)}, not a whole number of bytes`);
  if (m.features !== undefined && !isStringList(m.features)) fail('features', 'is not a list of feature names');
  if (m.threads !== undefined) {
    const t = (m.threads ?? {}) as Record<string, unknown>;
    if (typeof m.threads !== 'object' || !isWhole(t.steps) || !isWhole(t.work))
      fail('threads', `is ${show(m.threads)}, not { steps, work } in whole numbers`);
  }
  if (m.labels !== null && m.labels !== undefined) {
    if (!Array.isArray(m.labels)) fail('labels', `is ${show(m.labels)}, not a list`);
    const labels = m.labels as unknown[];
    const bad = labels.findIndex((l) => typeof l !== 'string');
    if (bad >= 0) fail(`labels[${bad}]`, `is ${show(labels[bad])}, not a string`);
    const counts = labelCounts(meta.outputs);
    if (counts.length && !counts.includes(labels.length))
      fail('labels', `has ${labels.length} entries, but the model's output has ${counts[0]} classes`);
  }
  if (m.preprocessing !== null && m.preprocessing !== undefined) checkPreprocessing(m.preprocessing, fail);
}

function checkTensor(t: unknown, at: string, input: boolean, fail: (field: string, problem: string) => never): void {
  if (!t || typeof t !== 'object') fail(at, 'is not an object');
  const o = t as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') fail(`${at}.name`, `is ${show(o.name)}, not a name`);
  if (typeof o.dtype !== 'string' || !DTYPES.includes(o.dtype)) fail(`${at}.dtype`, `is ${show(o.dtype)}`);
  if (typeof o.kind !== 'string') fail(`${at}.kind`, `is ${show(o.kind)}, not a string`);
  if (o.storage !== undefined && !STORAGES.includes(o.storage as string))
    fail(`${at}.storage`, `is ${show(o.storage)}`);
  // A scalar has the empty shape.
  if (!Array.isArray(o.shape)) fail(`${at}.shape`, `is ${show(o.shape)}, not a list of dimensions`);
  if (o.perRow !== undefined && !isWhole(o.perRow)) fail(`${at}.perRow`, `is ${show(o.perRow)}, not a whole number`);
  // A dimension is a size (a whole number ≥ 0) or a symbolic one ("batch", "2*batch", "seq - 1").
  (o.shape as unknown[]).forEach((d, j) => {
    if (!(isWhole(d) || (typeof d === 'string' && d.trim() !== '')))
      fail(`${at}.shape[${j}]`, `is ${show(d)}: a dimension is a whole number ≥ 0 or a symbol's name`);
  });
  if (o.categories !== undefined) {
    const c = o.categories;
    if (!Array.isArray(c) || c.some((v) => typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))))
      fail(`${at}.categories`, 'is not a list of class values (strings or numbers)');
  }
  if (o.missing !== undefined && typeof o.missing !== 'boolean') fail(`${at}.missing`, `is ${show(o.missing)}`);
  if (input && o.features !== undefined) {
    const f = o.features;
    const ok = (x: unknown) =>
      x === null ||
      (typeof x === 'object' &&
        Array.isArray((x as { categories?: unknown }).categories) &&
        (x as { categories: unknown[] }).categories.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!Array.isArray(f) || !f.every(ok)) fail(`${at}.features`, 'is not a list of column encodings');
  }
}

function checkPreprocessing(p: unknown, fail: (field: string, problem: string) => never): void {
  const o = p as Record<string, unknown>;
  if (typeof p !== 'object') fail('preprocessing', `is ${show(p)}`);
  for (const k of ['width', 'height'])
    if (!isWhole(o[k]) || (o[k] as number) < 1) fail(`preprocessing.${k}`, `is ${show(o[k])}, not a size in pixels`);
  if (typeof o.scale !== 'number' || !Number.isFinite(o.scale)) fail('preprocessing.scale', `is ${show(o.scale)}`);
  for (const k of ['mean', 'std']) {
    const v = o[k];
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      fail(`preprocessing.${k}`, 'is not a list of numbers');
  }
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));
