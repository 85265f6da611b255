import { NodeProblem } from './errors.js';

/** Constant tensors known at compile time: initializers, Constant nodes and folded results. */
export type DataType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string';

export const FLOAT_TYPES: ReadonlySet<DataType> = new Set(['float32', 'float64', 'float16']);

export class Tensor {
  /** Floats are held as float32 (what the kernels compute in); integers and bools exactly in float64. */
  constructor(
    readonly dtype: DataType,
    readonly dims: number[],
    readonly data: Float32Array | Float64Array | string[],
  ) {}

  static fromNumbers(dtype: DataType, dims: number[], values: ArrayLike<number>): Tensor {
    const data =
      dtype === 'float32' || dtype === 'float16' || dtype === 'float64'
        ? Float32Array.from(values)
        : Float64Array.from(values);
    return new Tensor(dtype === 'float16' || dtype === 'float64' ? 'float32' : dtype, dims, data);
  }

  static scalar(dtype: DataType, value: number): Tensor {
    return Tensor.fromNumbers(dtype, [], [value]);
  }

  get size(): number {
    return this.data.length;
  }

  get isFloat(): boolean {
    return FLOAT_TYPES.has(this.dtype);
  }

  /** Numeric values (throws for strings). */
  get numbers(): Float32Array | Float64Array {
    if (Array.isArray(this.data)) throw new Error(`string tensor used as numbers`);
    return this.data as Float32Array | Float64Array;
  }

  /** The values as float32, for weights and runtime constants. */
  toFloat32(): Float32Array {
    const n = this.numbers;
    return n instanceof Float32Array ? n : Float32Array.from(n);
  }

  reshape(dims: number[]): Tensor {
    return new Tensor(this.dtype, dims, this.data);
  }
}

export const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * Most elements one tensor the compiler makes may have (2^28 float32 values are 1 GiB, more than a
 * model in a web page can hold): checked before allocating, so a corrupt shape is a clear error rather
 * than an attempt to allocate terabytes.
 */
export const MAX_ELEMENTS = 2 ** 28;

/** Check a shape the compiler is about to allocate; returns its element count. */
export function checkShape(dims: readonly number[], what: string): number {
  const shown = dims.length > 8 ? `${dims.slice(0, 8)},… (${dims.length} dims)` : `${dims}`;
  const bad = dims.find((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad !== undefined)
    throw new NodeProblem(`${what} would have the invalid dimension ${bad} (shape [${shown}])`, 'invalid-graph');
  const n = product(dims);
  if (n > MAX_ELEMENTS)
    throw new NodeProblem(
      `${what} would have shape [${shown}]: ${n} elements, more than the ${MAX_ELEMENTS} a model can hold`,
      'too-large',
    );
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Numpy broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides (elements) of `dims` read as if broadcast to `out`: 0 along broadcast axes. */
export function broadcastStrides(dims: readonly number[], out: readonly number[]): number[] {
  const own = stridesOf(dims);
  const pad = out.length - dims.length;
  return out.map((_, i) => (i < pad || dims[i - pad] === 1 ? 0 : own[i - pad]));
}

/** Evaluate an elementwise function over broadcast inputs (used for constant folding). */
export function broadcastMap(inputs: Tensor[], dtype: DataType, fn: (...xs: number[]) => number): Tensor {
  let out: number[] = [];
  for (const t of inputs) {
    const next = broadcastShapes(out, t.dims);
    if (!next) throw new Error(`shapes [${inputs.map((x) => x.dims).join('] and [')}] do not broadcast`);
    out = next;
  }
  const size = checkShape(out, 'the folded result');
  const strides = inputs.map((t) => broadcastStrides(t.dims, out));
  const values = inputs.map((t) => t.numbers);
  const result = new Float64Array(size);
  const idx = new Array<number>(out.length).fill(0);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < inputs.length; k++) {
      let off = 0;
      for (let d = 0; d < out.length; d++) off += idx[d] * strides[k][d];
      args[k] = values[k][off];
    }
    result[i] = fn(...args);
    for (let d = out.length - 1; d >= 0; d--) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return Tensor.fromNumbers(dtype, out, result);
}

/** Read `t` at the given element strides (a view): used by every folded data movement. */
export function stridedView(t: Tensor, outDims: number[], strides: number[], offset: number): Tensor {
  const size = checkShape(outDims, 'the folded result');
  const idx = new Array<number>(outDims.length).fill(0);
  const src = t.data;
  const out: (number | string)[] = new Array(size);
  for (let i = 0; i < size; i++) {
    let at = offset;
    for (let d = 0; d < outDims.length; d++) at += idx[d] * strides[d];
    out[i] = src[at];
    for (let d = outDims.length - 1; d >= 0; d--) {
      if (++idx[d] < outDims[d]) break;
      idx[d] = 0;
    }
  }
  return t.dtype === 'string'
    ? new Tensor('string', outDims, out as string[])
    : Tensor.fromNumbers(t.dtype, outDims, out as number[]);
}
