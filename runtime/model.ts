import { headerWords } from './abi.js';
import { ModelError } from './errors.js';
import { rowSize, type ModelMeta, type TensorMeta } from './meta.js';
import { statusError } from './status.js';
import { allocate, readOutput, writeInput, type Tensor, type TensorData, type TensorFeed } from './tensors.js';
import { ModelStream } from './stream.js';

export type { Tensor, TensorData, TensorFeed } from './tensors.js';
export { ModelStream } from './stream.js';

/** The fixed ABI every compiled model exports (runtime/abi.ts has the header it shares). */
export interface ModelExports {
  memory: WebAssembly.Memory;
  /** Runs on the inputs and shapes in memory; 0, or a STATUS code with details in the header. */
  run(): number;
  inputPtr(i: number): number;
  outputPtr(i: number): number;
  headerPtr(): number;
  maxBatch(): number;
  /** How many inputs and outputs the code was compiled for (optional in the ABI: older models lack them). */
  inputCount?(): number;
  outputCount?(): number;
  /** Index of the first non-finite number among n floats at ptr, or −1 (optional in the ABI). */
  firstNonFinite?(ptr: number, n: number): number;
}

/** The row API's outputs: float32 → Float32Array; int labels → Int32Array of class values; strings. */
export interface OutputTensor {
  dtype: TensorMeta['dtype'];
  shape: number[];
  data: Float32Array | Int32Array | string[] | BigInt64Array | Uint8Array | Int8Array;
}
export type Outputs = Record<string, OutputTensor>;

/** One row as numbers, a batch as nested rows, or flat typed data with `rows` given or implied. */
export type TensorInput = Float32Array | ArrayLike<number> | ArrayLike<ArrayLike<number>>;
export type ModelInput = TensorInput | Record<string, TensorInput>;

export interface RunOptions {
  /** Caller-owned arrays to write outputs into (of the output's type, long enough): no allocation. */
  outputs?: Record<string, TensorData>;
}

/**
 * A compiled model instance.
 * - `run(feeds)` takes every input by name with its data and shape, exactly as the ONNX model declares
 *   them (symbolic dimensions within their compiled bounds), and returns every output with its shape.
 * - `predict(rows)` is the row API the elements use: for a model whose graph keeps rows apart
 *   (`meta.rows`), any number of rows, run in chunks of `maxBatch`; otherwise one tensor of the declared
 *   shape.
 * - `stream(pairs)` keeps a model's state outputs in its memory as the next call's state inputs.
 * All synchronous; memory cannot grow, so views made here stay valid for the instance's life.
 */
export class Model {
  readonly meta: ModelMeta;
  readonly maxBatch: number;
  private readonly exports: ModelExports;
  private readonly memory: ArrayBuffer;
  private readonly header: Int32Array;
  private readonly inputPtrs: number[];
  private readonly outputPtrs: number[];
  private readonly inputWords: number[];
  private readonly outputWords: number[];
  private readonly inputIndex: Map<string, number>;
  // predict()'s plan, fixed by the metadata: values per row of each input, each input's shape for a call
  // (the row count written into [0] when it is symbolic), the symbol every input starts with, a float view
  // of all memory (it never grows). Nothing of it is made again per call.
  private readonly rowSizes: number[];
  private readonly rowShapes: number[][];
  private readonly lead: string | undefined;
  private readonly f32: Float32Array;
  /** What runs one call instead of `exports.run()` (a thread pool's leader: runtime/threads/). */
  private readonly runner?: () => number;

  constructor(meta: ModelMeta, exports: ModelExports, runner?: () => number) {
    this.meta = meta;
    this.exports = exports;
    this.runner = runner;
    this.maxBatch = exports.maxBatch();
    this.memory = exports.memory.buffer;
    const words = headerWords(
      meta.inputs.map((t) => t.shape.length),
      meta.outputs.map((t) => t.shape.length),
    );
    this.header = new Int32Array(this.memory, exports.headerPtr(), words.total);
    this.inputWords = words.inputs;
    this.outputWords = words.outputs;
    this.inputPtrs = meta.inputs.map((_, i) => exports.inputPtr(i));
    this.outputPtrs = meta.outputs.map((_, i) => exports.outputPtr(i));
    this.inputIndex = new Map(meta.inputs.map((t, i) => [t.name, i]));
    this.rowSizes = meta.inputs.map((t) => rowSize(t));
    this.rowShapes = meta.inputs.map((t) => t.shape.map((d) => (typeof d === 'number' ? d : 0)));
    this.lead = leadingSymbol(meta);
    this.f32 = new Float32Array(this.memory);
  }

  /** Run on every input by name; returns every output (`dtype`, `shape`, typed `data`). */
  run(feeds: Record<string, TensorFeed>, options: RunOptions = {}): Record<string, Tensor> {
    if (feeds === null || typeof feeds !== 'object')
      throw new ModelError('missing-input', `run() takes an object of inputs by name (${this.inputNames()}).`);
    for (const name of Object.keys(feeds)) {
      if (!this.inputIndex.has(name))
        throw new ModelError('missing-input', `The model has no input "${name}"; its inputs are ${this.inputNames()}.`);
    }
    this.meta.inputs.forEach((t, i) => {
      const feed = feeds[t.name];
      if (!feed || typeof feed !== 'object' || feed.data === undefined)
        throw new ModelError('missing-input', `Missing input "${t.name}" (${t.dtype} of shape ${shapeText(t.shape)}).`);
      const shape = this.checkShape(t, feed);
      writeInput(this.memory, this.inputPtrs[i], t, feed.data, product(shape));
      this.header.set(shape, this.inputWords[i]);
    });
    this.call();
    return this.collect(options.outputs);
  }

  /**
   * The row API: `input` is the sole input's rows (or a record by input name), `rows` defaults to what
   * the data length implies. Outputs as Float32Array / Int32Array (class values) / string[].
   */
  predict(input: ModelInput, rows?: number): Outputs {
    if (this.meta.inputs.length === 0)
      throw new ModelError(
        'bad-input',
        'This model takes no inputs (its outputs are constants), so it has no rows to predict from: call run({}).',
      );
    if (input === null || input === undefined || typeof input !== 'object')
      throw new ModelError(
        'bad-input',
        `predict() takes the rows of ${this.describeInputs()}, not ${input === null ? 'null' : typeof input}.`,
      );
    const check = this.exports.firstNonFinite;
    const flat = this.flattenInputs(input, !!check);
    const perRow = this.rowSizes;
    if (perRow.some((n) => !Number.isFinite(n)))
      throw new ModelError(
        'bad-input',
        `This model's inputs have symbolic dimensions besides the batch (${this.describeInputs()}): use run() with shapes.`,
      );
    const n = rows ?? this.impliedRows(flat[0], perRow[0]);
    if (!Number.isInteger(n) || n < 1) {
      throw new ModelError(
        'bad-input',
        `The batch is empty: give at least one row of ${describeRow(this.meta.inputs[0])}.`,
      );
    }
    // Without `rows` (the graph mixes the rows of a batch) all rows go in one call: along a shared
    // symbolic first dimension within its bound, or as the one tensor of a fixed shape.
    const lead = this.lead;
    if (!this.meta.rows) {
      if (!lead && n !== 1)
        throw new ModelError(
          'bad-input',
          `This model takes one tensor of ${describeRow(this.meta.inputs[0])} (its graph mixes the rows of a batch), not ${n} rows.`,
        );
      const s = lead && this.meta.symbols.find((x) => x.name === lead);
      if (s && (n > s.max || n < s.min))
        throw new ModelError(
          'shape-out-of-bounds',
          `This model takes ${s.min}..${s.max} rows in one call (its graph mixes rows, so they cannot be split), not ${n}. Compile it with --dim ${lead}=..${n} to allow it.`,
        );
    }
    const inputs = this.meta.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const need = n * perRow[i];
      if (flat[i].length !== need) {
        const t = inputs[i];
        throw new ModelError(
          'bad-input',
          `Input "${t.name}" needs ${describeRow(t)}${this.meta.rows ? ' per row' : ''} (${need} numbers for ${n} row${n === 1 ? '' : 's'}), but got ${flat[i].length}.`,
        );
      }
    }
    const chunkRows = this.meta.rows ? this.maxBatch : n;
    const single = n <= chunkRows;
    let outputs: Outputs | undefined;
    for (let start = 0; start < n; start += chunkRows) {
      const chunk = Math.min(chunkRows, n - start);
      for (let i = 0; i < inputs.length; i++) {
        const t = inputs[i];
        const per = perRow[i];
        const count = chunk * per;
        this.f32.set(single ? flat[i] : flat[i].subarray(start * per, start * per + count), this.inputPtrs[i] >> 2);
        if (check && !t.missing) {
          const at = check(this.inputPtrs[i], count);
          if (at >= 0) throw nonFinite(t, start * per + at, flat[i][start * per + at]);
        }
        const shape = this.rowShapes[i];
        if (typeof t.shape[0] === 'string') shape[0] = chunk;
        this.header.set(shape, this.inputWords[i]);
      }
      this.call();
      if (single) return this.collectRows();
      // Several chunks: outputs copied into arrays made once, at their place along axis 0.
      outputs ??= Object.fromEntries(
        this.meta.outputs.map((t) => {
          const shape = this.outputShape(t);
          shape[0] = n * (shape[0] / chunk);
          return [
            t.name,
            { dtype: t.dtype, shape, data: allocate(t.dtype === 'int64' ? 'int32' : t.dtype, product(shape)) },
          ];
        }),
      );
      this.meta.outputs.forEach((t, i) => {
        const shape = this.outputShape(t);
        const count = product(shape);
        readOutput(this.memory, this.outputPtrs[i], t, count, {
          into: outputs![t.name].data as TensorData,
          at: start * (count / chunk),
          int64AsNumbers: true,
        });
      });
    }
    return outputs!;
  }

  /**
   * A stream over a model that takes its own previous state: `pairs` maps each state input to the output
   * that becomes it. `run(feeds)` takes the other inputs; the state stays in the model's memory between
   * calls (zeros at first, or the state inputs given to the first call), with no copy through JavaScript.
   */
  stream(pairs: Record<string, string>): ModelStream {
    return new ModelStream(this, pairs);
  }

  /** @internal Run with the inputs already in memory except `skip`, which the model's memory still holds. */
  runKeeping(
    feeds: Record<string, TensorFeed>,
    keep: Map<number, number[]>,
    options: RunOptions = {},
  ): Record<string, Tensor> {
    this.meta.inputs.forEach((t, i) => {
      const kept = keep.get(i);
      if (kept && !feeds[t.name]) return void this.header.set(kept, this.inputWords[i]);
      const feed = feeds[t.name];
      if (!feed)
        throw new ModelError('missing-input', `Missing input "${t.name}" (${t.dtype} of shape ${shapeText(t.shape)}).`);
      const shape = this.checkShape(t, feed);
      writeInput(this.memory, this.inputPtrs[i], t, feed.data, product(shape));
      this.header.set(shape, this.inputWords[i]);
    });
    this.call();
    return this.collect(options.outputs);
  }

  /** @internal predict()'s inputs as flat float rows, each a whole number of rows (a pool cuts them in parts). */
  flatRows(input: ModelInput, rows?: number): Float32Array[] {
    const flat = this.flattenInputs(input, true);
    if (rows === undefined) this.impliedRows(flat[0], rowSize(this.meta.inputs[0]));
    return flat;
  }

  /** @internal */
  get raw() {
    return {
      memory: this.memory,
      inputPtrs: this.inputPtrs,
      outputPtrs: this.outputPtrs,
      header: this.header,
      inputWords: this.inputWords,
    };
  }

  /** @internal The dims of output `t` after the last call. */
  outputShape(t: TensorMeta): number[] {
    return this.dims(this.meta.outputs.indexOf(t));
  }

  /** The dims of output i after the last call, as a new array. */
  private dims(i: number): number[] {
    const at = this.outputWords[i];
    const dims = new Array<number>(this.meta.outputs[i].shape.length);
    for (let d = 0; d < dims.length; d++) dims[d] = this.header[at + d];
    return dims;
  }

  private call(): void {
    let status: number;
    try {
      status = this.runner ? this.runner() : this.exports.run();
    } catch (err) {
      // The threads' own failure (thread-failed) as it is; a trap (a damaged or hostile file) is the
      // model's failure, not the input's.
      if (err instanceof ModelError) throw err;
      throw new ModelError(
        'trap',
        `The model failed while running (${(err as Error)?.message ?? err}): its file is damaged or was not made by ml-widgets.`,
        { cause: err },
      );
    }
    if (status !== 0) throw statusError(this.meta, this.header, status);
  }

  private collect(into?: Record<string, TensorData>): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.meta.outputs.forEach((t, i) => {
      const shape = this.outputShape(t);
      const data = readOutput(this.memory, this.outputPtrs[i], t, product(shape), { into: into?.[t.name] });
      out[t.name] = { dtype: t.dtype, shape, data };
    });
    return out;
  }

  private collectRows(): Outputs {
    const out: Outputs = {};
    const outputs = this.meta.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const t = outputs[i];
      const shape = this.dims(i);
      const count = product(shape);
      // Float scores, the usual output: one copy out of the memory's float view, no view made per call.
      const at = this.outputPtrs[i] >> 2;
      const data =
        t.dtype === 'float32' && !t.categories
          ? this.f32.slice(at, at + count)
          : readOutput(this.memory, this.outputPtrs[i], t, count, { int64AsNumbers: true });
      out[t.name] = { dtype: t.dtype, shape, data: data as OutputTensor['data'] };
    }
    return out;
  }

  /** An input's shape for a call: the feed's, or the declared one where that is fixed; checked against the model. */
  private checkShape(t: TensorMeta, feed: TensorFeed): number[] {
    let shape: number[];
    if (feed.shape !== undefined) {
      if (!Array.isArray(feed.shape) || feed.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
        throw new ModelError(
          'shape-mismatch',
          `Input "${t.name}": the shape must be a list of sizes, not ${JSON.stringify(feed.shape)}.`,
        );
      shape = [...feed.shape];
    } else if (t.shape.every((d) => typeof d === 'number')) shape = t.shape as number[];
    else if (t.shape.length === 1) shape = [feed.data.length];
    else
      throw new ModelError(
        'shape-mismatch',
        `Input "${t.name}" has symbolic dimensions (${shapeText(t.shape)}): give its shape with the data.`,
      );
    // A declared scalar takes any shape holding one value ([1] from code that cannot make a 0-d tensor),
    // as onnxruntime does.
    if (t.shape.length === 0 && shape.length > 0 && product(shape) === 1) shape = [];
    if (shape.length !== t.shape.length)
      throw new ModelError(
        'shape-mismatch',
        `Input "${t.name}" takes ${t.shape.length} dimension(s) (${shapeText(t.shape)}), not ${shape.length} ([${shape}]).`,
      );
    t.shape.forEach((d, axis) => {
      if (typeof d === 'number' && d !== shape[axis])
        throw new ModelError(
          'shape-mismatch',
          `Input "${t.name}" dimension ${axis} must be ${d} (shape ${shapeText(t.shape)}), not ${shape[axis]}.`,
        );
      if (typeof d === 'string') {
        const s = this.meta.symbols.find((x) => x.name === d);
        if (s && (shape[axis] > s.max || shape[axis] < s.min))
          throw new ModelError(
            'shape-out-of-bounds',
            `Input "${t.name}" dimension ${axis} (${d}) is ${shape[axis]}; the model was compiled for ${s.min}..${s.max}. Compile it with --dim ${d}=..${Math.max(shape[axis], s.max)} to allow it.`,
          );
      }
    });
    return shape;
  }

  private inputNames(): string {
    return this.meta.inputs.map((t) => `"${t.name}"`).join(', ');
  }

  private describeInputs(): string {
    return this.meta.inputs.map((t) => `${t.name} ${shapeText(t.shape)}`).join(', ');
  }

  /** `checked`: the model checks the numbers for non-finite ones once they are in its memory. */
  private flattenInputs(input: ModelInput, checked: boolean): Float32Array[] {
    const inputs = this.meta.inputs;
    if (isTensorInput(input)) {
      if (inputs.length !== 1) {
        throw new ModelError(
          'bad-input',
          `This model has ${inputs.length} inputs (${inputs.map((t) => t.name).join(', ')}): pass an object keyed by input name.`,
        );
      }
      return [toFloat32(input, inputs[0], checked)];
    }
    return inputs.map((t) => {
      const v = (input as Record<string, TensorInput>)[t.name];
      if (v === undefined) throw new ModelError('bad-input', `Missing input "${t.name}" (${describeRow(t)} per row).`);
      return toFloat32(v, t, checked);
    });
  }

  private impliedRows(flat: Float32Array, per: number): number {
    const t = this.meta.inputs[0];
    if (flat.length % per !== 0) {
      throw new ModelError(
        'bad-input',
        `Input "${t.name}" needs ${describeRow(t)} per row, but got ${flat.length} numbers, which is not a whole number of rows.`,
      );
    }
    return flat.length / per;
  }
}

/** The symbol every input starts with (its other dims fixed), if there is one. */
function leadingSymbol(meta: ModelMeta): string | undefined {
  const first = meta.inputs[0]?.shape[0];
  const ok =
    typeof first === 'string' &&
    meta.inputs.every((t) => t.shape[0] === first && t.shape.slice(1).every((d) => typeof d === 'number'));
  return ok ? first : undefined;
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

const shapeText = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

function nonFinite(t: TensorMeta, i: number, value: number): ModelError {
  return new ModelError(
    'bad-input',
    `Input "${t.name}" value ${i} is ${value}: every feature must be a finite number.`,
  );
}

function describeRow(t: TensorMeta): string {
  const dims = (t.perRow !== undefined ? t.shape.slice(1) : t.shape) as number[];
  const n = rowSize(t);
  return dims.length > 1 ? `${n} numbers (${dims.join('×')})` : `${n} number${n === 1 ? '' : 's'}`;
}

function isTensorInput(v: ModelInput): v is TensorInput {
  return ArrayBuffer.isView(v) || Array.isArray(v) || typeof (v as ArrayLike<unknown>).length === 'number';
}

/**
 * Copy (once) into a Float32Array, flattening nested rows and rejecting anything that is not a number,
 * or (unless `checked`: the model does that) not finite.
 */
function toFloat32(v: TensorInput, t: TensorMeta, checked: boolean): Float32Array {
  if (t.dtype !== 'float32')
    throw new ModelError(
      'dtype-mismatch',
      `Input "${t.name}" takes ${t.dtype}; predict() takes float rows: use run() for it.`,
    );
  let out: Float32Array;
  if (v instanceof Float32Array) out = v;
  else {
    const rows = v as ArrayLike<unknown>;
    const nested = rows.length > 0 && typeof rows[0] === 'object' && rows[0] !== null;
    const values: unknown[] = nested
      ? Array.from(rows as ArrayLike<ArrayLike<unknown>>, (r) => Array.from(r)).flat()
      : Array.from(rows);
    out = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (typeof x !== 'number') {
        throw new ModelError(
          'bad-input',
          `Input "${t.name}" value ${i} is ${x === null ? 'null' : typeof x === 'string' ? `the string "${x}"` : typeof x}, not a number.`,
        );
      }
      out[i] = x;
    }
  }
  if (!t.missing && !checked) {
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw nonFinite(t, i, out[i]);
    }
  }
  return out;
}
