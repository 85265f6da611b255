// ONNX TensorProto files (a backend test's input_K.pb / output_K.pb) as { name, dtype, shape, data }, the
// data in the typed array onnxruntime-node and our run() API use for that dtype: float32 Float32Array,
// float64 Float64Array, float16/bfloat16 Uint16Array (the bits), int8 Int8Array, uint8 and bool Uint8Array,
// int16 Int16Array, uint16 Uint16Array, int32 Int32Array, uint32 Uint32Array, int64 BigInt64Array,
// uint64 BigUint64Array, string string[].
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

/** dtype name by ONNX DataType value (the names onnxruntime-node's Tensor takes). */
export const DTYPE = {
  [DT.FLOAT]: 'float32',
  [DT.UINT8]: 'uint8',
  [DT.INT8]: 'int8',
  [DT.UINT16]: 'uint16',
  [DT.INT16]: 'int16',
  [DT.INT32]: 'int32',
  [DT.INT64]: 'int64',
  [DT.STRING]: 'string',
  [DT.BOOL]: 'bool',
  [DT.FLOAT16]: 'float16',
  [DT.DOUBLE]: 'float64',
  [DT.UINT32]: 'uint32',
  [DT.UINT64]: 'uint64',
  [DT.COMPLEX64]: 'complex64',
  [DT.COMPLEX128]: 'complex128',
  [DT.BFLOAT16]: 'bfloat16',
};

const ARRAY = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

/** The typed array class for a dtype (undefined for string and complex). */
export const arrayOf = (dtype) => ARRAY[dtype];

export const product = (dims) => dims.reduce((a, b) => a * b, 1);

/** Decode a serialized TensorProto. */
export function decodeTensor(bytes) {
  return fromProto(onnx.TensorProto.decode(bytes));
}

/** A decoded TensorProto message as { name, dtype, shape, data }. */
export function fromProto(t) {
  const dtype = DTYPE[t.dataType];
  const shape = (t.dims ?? []).map(Number);
  const n = product(shape);
  if (!dtype) throw new Error(`tensor "${t.name}": ONNX data type ${t.dataType} is not handled`);
  if (dtype === 'string') {
    const text = new TextDecoder();
    return { name: t.name, dtype, shape, data: t.stringData.map((b) => text.decode(b)) };
  }
  const Typed = ARRAY[dtype];
  if (!Typed) throw new Error(`tensor "${t.name}": ${dtype} data is not handled`);
  if (t.rawData?.length) {
    // Copied: raw_data sits at any offset of the file's buffer, typed arrays need their own alignment.
    const bytes = new Uint8Array(t.rawData);
    if (bytes.byteLength !== n * Typed.BYTES_PER_ELEMENT) {
      throw new Error(`tensor "${t.name}": ${bytes.byteLength} bytes of raw data for ${n} ${dtype} values`);
    }
    return { name: t.name, dtype, shape, data: new Typed(bytes.buffer, 0, n) };
  }
  const data = new Typed(n);
  const field = typedField(t, dtype);
  if (field.length !== n) throw new Error(`tensor "${t.name}": ${field.length} values for shape [${shape}]`);
  const big = dtype === 'int64' || dtype === 'uint64';
  for (let i = 0; i < n; i++) data[i] = big ? BigInt(String(field[i])) : Number(field[i]);
  return { name: t.name, dtype, shape, data };
}

/** Where ONNX keeps the values of each dtype when raw_data is not used. */
function typedField(t, dtype) {
  switch (dtype) {
    case 'float32':
      return t.floatData;
    case 'float64':
      return t.doubleData;
    case 'int64':
      return t.int64Data;
    case 'uint32':
    case 'uint64':
      return t.uint64Data;
    default:
      return t.int32Data; // int8..int32, uint8, uint16, bool, float16 and bfloat16 bits
  }
}

/** A float16 bit pattern as a number. */
export function float16(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * 2 ** (e - 15) * (1 + m / 1024);
}

const bf16 = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16.buffer);
/** A bfloat16 bit pattern (the high half of a float32) as a number. */
export function bfloat16(h) {
  bf16Bits[0] = h << 16;
  return bf16[0];
}
