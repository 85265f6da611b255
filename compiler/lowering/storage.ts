import type { Storage } from '../program.js';
import type { DataType, Tensor } from '../tensor.js';

/** How run-time tensors of each ONNX element type are held in memory (undefined: not supported at run time). */
export function storageOf(dtype: DataType): Storage | undefined {
  switch (dtype) {
    case 'float32':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'int8':
      return dtype;
    case 'bool':
      return 'uint8';
    default:
      return undefined;
  }
}

/** A constant's values as the bytes memory holds for `storage`. */
export function bytesOf(t: Tensor, storage: Storage): Uint8Array {
  const n = t.numbers;
  const typed =
    storage === 'float32'
      ? Float32Array.from(n)
      : storage === 'int32'
        ? Int32Array.from(n)
        : storage === 'int64'
          ? BigInt64Array.from(Array.from(n, toInt64))
          : storage === 'uint8'
            ? Uint8Array.from(n)
            : Int8Array.from(n);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** A float64 that stood for an int64 (constants fold in float64): INT64_MAX and beyond stay in range. */
function toInt64(v: number): bigint {
  if (v >= 2 ** 63) return 2n ** 63n - 1n;
  if (v <= -(2 ** 63)) return -(2n ** 63n);
  return BigInt(Math.trunc(v));
}
