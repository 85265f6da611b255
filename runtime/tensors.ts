import { ModelError } from './errors.js';
import type { DType, Storage, TensorMeta } from './meta.js';

/**
 * Tensors crossing the model boundary: JavaScript data in, typed arrays out. Memory holds each tensor's
 * elements as its `storage` says (runtime/meta.ts); `dtype` is the ONNX type callers see.
 */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | string[];

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** What `run()` takes per input: data as a typed array or plain numbers/booleans/bigints, and its shape. */
export interface TensorFeed {
  data: ArrayLike<number | bigint | boolean>;
  /** Optional when the input's declared shape is fixed (or it is 1-D). */
  shape?: readonly number[];
}

export const STORAGE_BYTES: Record<Storage, number> = { float32: 4, int32: 4, int64: 8, uint8: 1, int8: 1 };

export function storageOf(t: TensorMeta): Storage {
  if (t.storage) return t.storage;
  switch (t.dtype) {
    case 'bool':
      return 'uint8';
    case 'string':
      return 'int32';
    default:
      return t.dtype;
  }
}

/** A typed-array view of memory for a storage type. */
export function view(memory: ArrayBuffer, storage: Storage, byteOffset: number, length: number) {
  switch (storage) {
    case 'float32':
      return new Float32Array(memory, byteOffset, length);
    case 'int32':
      return new Int32Array(memory, byteOffset, length);
    case 'int64':
      return new BigInt64Array(memory, byteOffset, length);
    case 'uint8':
      return new Uint8Array(memory, byteOffset, length);
    case 'int8':
      return new Int8Array(memory, byteOffset, length);
  }
}

const TYPED: Partial<Record<DType, { name: string; is: (d: unknown) => boolean }>> = {
  float32: { name: 'Float32Array', is: (d) => d instanceof Float32Array },
  int64: { name: 'BigInt64Array', is: (d) => d instanceof BigInt64Array },
  int32: { name: 'Int32Array', is: (d) => d instanceof Int32Array },
  bool: { name: 'Uint8Array', is: (d) => d instanceof Uint8Array },
  uint8: { name: 'Uint8Array', is: (d) => d instanceof Uint8Array },
  int8: { name: 'Int8Array', is: (d) => d instanceof Int8Array },
};

const RANGE: Partial<Record<DType, [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  int8: [-128, 127],
  bool: [0, 1],
};

/**
 * Write an input's data into memory as its storage holds it, checking that it is of the input's element
 * type: the matching typed array, or plain values that are exactly representable (safe integers for
 * int64, 0/1/booleans for bool). `count` elements are expected.
 */
export function writeInput(
  memory: ArrayBuffer,
  ptr: number,
  t: TensorMeta,
  data: TensorFeed['data'],
  count: number,
): void {
  const storage = storageOf(t);
  if (data.length !== count)
    throw new ModelError('shape-mismatch', `Input "${t.name}" has ${data.length} values; its shape needs ${count}.`);
  const target = view(memory, storage, ptr, count);
  const typed = TYPED[t.dtype];
  if (ArrayBuffer.isView(data)) {
    if (typed?.is(data) || (t.dtype === 'bool' && data instanceof Uint8Array)) {
      if (storage === t.dtype || (t.dtype === 'bool' && storage === 'uint8')) return void target.set(data as never);
    } else if (!(data instanceof Float64Array || data instanceof Array)) {
      throw new ModelError(
        'dtype-mismatch',
        `Input "${t.name}" takes ${t.dtype}${typed ? ` (a ${typed.name})` : ''}, not a ${data.constructor.name}.`,
      );
    }
  }
  for (let i = 0; i < count; i++) {
    const v = (data as ArrayLike<unknown>)[i];
    target[i] = convert(v, t, i, storage) as never;
  }
}

function convert(v: unknown, t: TensorMeta, i: number, storage: Storage): number | bigint {
  const bad = (what: string) =>
    new ModelError('dtype-mismatch', `Input "${t.name}" value ${i} is ${what}; the input takes ${t.dtype}.`);
  if (typeof v === 'boolean') {
    if (t.dtype !== 'bool') throw bad('a boolean');
    return storage === 'int64' ? BigInt(+v) : +v;
  }
  if (typeof v === 'bigint') {
    if (t.dtype !== 'int64' && t.dtype !== 'int32') throw bad(`the bigint ${v}`);
    if (storage === 'int64') return v;
    if (v < -(2n ** 31n) || v >= 2n ** 31n) throw bad(`${v}, beyond int32`);
    return Number(v);
  }
  if (typeof v !== 'number') throw bad(v === null ? 'null' : typeof v === 'string' ? `the string "${v}"` : typeof v);
  if (t.dtype === 'float32') return v;
  if (!Number.isInteger(v)) throw bad(`${v}, not an integer`);
  if (t.dtype === 'int64') {
    if (!Number.isSafeInteger(v)) throw bad(`${v}, not a safe integer (pass a BigInt64Array for exact int64)`);
    return storage === 'int64' ? BigInt(v) : v;
  }
  const range = RANGE[t.dtype];
  if (range && (v < range[0] || v > range[1])) throw bad(`${v}, outside ${t.dtype}`);
  return v;
}

/**
 * An output's data, read from memory into a new array (or `into`, a caller-owned array of the right type
 * and length): int64 as BigInt64Array (or, with `int64AsNumbers`, an Int32Array of the values: the row
 * API's class labels), bool as Uint8Array, class indices mapped to their class values.
 */
export function readOutput(
  memory: ArrayBuffer,
  ptr: number,
  t: TensorMeta,
  count: number,
  options: { into?: TensorData; at?: number; int64AsNumbers?: boolean } = {},
): TensorData {
  const storage = storageOf(t);
  const at = options.at ?? 0;
  const dtype: DType = options.int64AsNumbers && t.dtype === 'int64' ? 'int32' : t.dtype;
  const src = view(memory, storage, ptr, count);
  const into = options.into;
  if (into && (into.length < at + count || !(TYPED[dtype]?.is(into) ?? Array.isArray(into))))
    throw new ModelError(
      'bad-input',
      `The array given for output "${t.name}" must be a ${TYPED[dtype]?.name ?? 'array'} of at least ${at + count} values.`,
    );
  const out = into ?? allocate(dtype, count);
  if (t.categories) return mapCategories(t, dtype, src as Int32Array, out, at);
  if (storage === dtype || (dtype === 'bool' && storage === 'uint8')) {
    (out as Float32Array).set(src as Float32Array, at);
  } else if (dtype === 'int64') {
    const o = out as BigInt64Array;
    for (let i = 0; i < count; i++) o[at + i] = BigInt(src[i] as number);
  } else if (dtype === 'bool') {
    // booleans computed as 1/0 floats
    const o = out as Uint8Array;
    for (let i = 0; i < count; i++) o[at + i] = src[i] !== 0 ? 1 : 0;
  } else {
    const o = out as Int32Array;
    for (let i = 0; i < count; i++) o[at + i] = Number(src[i]);
  }
  return out;
}

export function allocate(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'string':
      return new Array<string>(n);
  }
}

/** Label outputs hold class indices in memory; the model's class values are in its metadata. */
function mapCategories(t: TensorMeta, dtype: DType, idx: Int32Array, out: TensorData, at: number): TensorData {
  const categories = t.categories!;
  for (let i = 0; i < idx.length; i++) {
    const c = categories[idx[i]];
    if (dtype === 'string') (out as string[])[at + i] = String(c);
    else if (dtype === 'int64') (out as BigInt64Array)[at + i] = BigInt(c as number);
    else (out as Int32Array)[at + i] = Number(c);
  }
  return out;
}
