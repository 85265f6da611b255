import { ModelError } from './errors.js';
import { perRow, rowSize, type ModelMeta, type TensorMeta } from './meta.js';

/** The fixed ABI every compiled model exports. */
export interface ModelExports {
  memory: WebAssembly.Memory;
  run(rows: number): void;
  inputPtr(i: number): number;
  outputPtr(i: number): number;
  maxBatch(): number;
  /** Index of the first non-finite number among n floats at ptr, or −1 (models from before it lack it). */
  firstNonFinite?(ptr: number, n: number): number;
}

export interface OutputTensor {
  dtype: TensorMeta['dtype'];
  shape: number[];
  /** float32 → Float32Array; int32/int64 → Int32Array (class values fit 32 bits); string → string[]. */
  data: Float32Array | Int32Array | string[];
}
export type Outputs = Record<string, OutputTensor>;

/** One row as numbers, a batch as nested rows, or flat typed data with `rows` given or implied. */
export type TensorInput = Float32Array | ArrayLike<number> | ArrayLike<ArrayLike<number>>;
export type ModelInput = TensorInput | Record<string, TensorInput>;

/**
 * A compiled model instance. `predict` is synchronous: it copies each chunk of up to `maxBatch` rows
 * into linear memory with one `set`, calls `run` once per chunk, and copies outputs out once.
 * Memory cannot grow, so the typed-array views made here stay valid for the instance's life.
 */
export class Model {
  readonly meta: ModelMeta;
  readonly maxBatch: number;
  private readonly exports: ModelExports;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly inputOffsets: number[];
  private readonly outputOffsets: number[];

  constructor(meta: ModelMeta, exports: ModelExports) {
    this.meta = meta;
    this.exports = exports;
    this.maxBatch = exports.maxBatch();
    this.f32 = new Float32Array(exports.memory.buffer);
    this.i32 = new Int32Array(exports.memory.buffer);
    this.inputOffsets = meta.inputs.map((_, i) => exports.inputPtr(i) >>> 2);
    this.outputOffsets = meta.outputs.map((_, i) => exports.outputPtr(i) >>> 2);
  }

  /**
   * Run the model on one row or a batch. `input` is the sole input's data, or a record by input
   * name. `rows` defaults to what the data length implies.
   */
  predict(input: ModelInput, rows?: number): Outputs {
    if (input === null || typeof input !== 'object')
      throw new ModelError(
        'bad-input',
        `predict() needs the input's numbers, not ${input === null ? 'null' : typeof input}.`,
      );
    // Where the model can, it checks the numbers for non-finite ones in its memory, in SIMD.
    const check = this.exports.firstNonFinite;
    const flat = this.flattenInputs(input, !!check);
    const n = rows ?? this.impliedRows(flat);
    if (!Number.isInteger(n) || n < 1) {
      throw new ModelError(
        'bad-input',
        `The batch is empty: give at least one row of ${describeRow(this.meta.inputs[0])}.`,
      );
    }
    this.meta.inputs.forEach((t, i) => {
      const need = n * rowSize(t);
      if (flat[i].length !== need) {
        throw new ModelError(
          'bad-input',
          `Input "${t.name}" needs ${describeRow(t)} per row (${need} numbers for ${n} row${n === 1 ? '' : 's'}), but got ${flat[i].length}.`,
        );
      }
    });

    // One chunk: each output is sliced straight out of memory. Several: copied into arrays made once.
    const single = n <= this.maxBatch;
    const outData = single
      ? []
      : this.meta.outputs.map((t) => {
          const size = n * rowSize(t);
          return t.dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
        });

    for (let start = 0; start < n; start += this.maxBatch) {
      const chunk = Math.min(this.maxBatch, n - start);
      this.meta.inputs.forEach((t, i) => {
        const per = rowSize(t);
        this.f32.set(flat[i].subarray(start * per, (start + chunk) * per), this.inputOffsets[i]);
        if (check && !t.missing) {
          const at = check(this.inputOffsets[i] << 2, chunk * per);
          if (at >= 0) throw nonFinite(t, start * per + at, flat[i][start * per + at]);
        }
      });
      runChunk(this.exports, chunk);
      this.meta.outputs.forEach((t, i) => {
        const per = rowSize(t);
        const view = t.dtype === 'float32' ? this.f32 : this.i32;
        const from = this.outputOffsets[i];
        if (single) outData[i] = view.slice(from, from + chunk * per);
        else outData[i].set(view.subarray(from, from + chunk * per), start * per);
      });
    }
    const outputs: Outputs = {};
    this.meta.outputs.forEach((t, i) => {
      outputs[t.name] = {
        dtype: t.dtype,
        shape: [n * perRow(t.shape[0]), ...(t.shape.slice(1) as number[])],
        data: mapCategories(t, outData[i]),
      };
    });
    return outputs;
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

  private impliedRows(flat: Float32Array[]): number {
    const t = this.meta.inputs[0];
    const per = rowSize(t);
    if (flat[0].length % per !== 0) {
      throw new ModelError(
        'bad-input',
        `Input "${t.name}" needs ${describeRow(t)} per row, but got ${flat[0].length} numbers, which is not a whole number of rows.`,
      );
    }
    return flat[0].length / per;
  }
}

/** One call into the module; a trap (a damaged or hostile file) is the model's failure, not the input's. */
function runChunk(exports: ModelExports, rows: number): void {
  try {
    exports.run(rows);
  } catch (err) {
    throw new ModelError(
      'trap',
      `The model failed while predicting (${(err as Error)?.message ?? err}): its file is damaged or was not made by ml-widgets.`,
      { cause: err },
    );
  }
}

/** Label outputs hold class indices in memory; the model's class values are in its metadata. */
function mapCategories(t: TensorMeta, data: Float32Array | Int32Array): OutputTensor['data'] {
  const categories = t.categories;
  if (!categories) return data;
  if (t.dtype === 'string') return Array.from(data, (i) => String(categories[i]));
  // In place: `data` is this prediction's own copy, so a second array is not needed.
  for (let i = 0; i < data.length; i++) data[i] = Number(categories[data[i]]);
  return data;
}

function nonFinite(t: TensorMeta, i: number, value: number): ModelError {
  return new ModelError(
    'bad-input',
    `Input "${t.name}" value ${i} is ${value}: every feature must be a finite number.`,
  );
}

function describeRow(t: TensorMeta): string {
  const dims = t.shape.slice(1);
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
