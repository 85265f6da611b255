import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { CompileError } from './errors.js';
import { MAX_ELEMENTS, Tensor, type DataType } from './tensor.js';

const { onnx } = onnxProto;
type IGraphProto = OnnxTypes.IGraphProto;
type IValueInfoProto = OnnxTypes.IValueInfoProto;
type ITensorProto = OnnxTypes.ITensorProto;
type IAttributeProto = OnnxTypes.IAttributeProto;

/** The parts of an ONNX model the compiler uses, decoded from protobuf into plain values. */
export interface OnnxModel {
  irVersion: number;
  producer: string;
  producerVersion: string;
  /** Opset version per domain ('' is normalised to 'ai.onnx'). */
  opsets: Record<string, number>;
  metadata: Record<string, string>;
  graph: OnnxGraph;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, Tensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxValueInfo {
  name: string;
  /** Element type, or 'sequence'/'map' for non-tensor values (ZipMap outputs). */
  dtype: DataType | 'sequence' | 'map' | 'unknown';
  /** Dims: a number, a symbolic name, or null when unknown; null for the whole shape when absent. */
  shape: (number | string | null)[] | null;
}

export type AttrValue = number | string | number[] | string[] | Tensor | Tensor[] | OnnxGraph;

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[]; // '' marks an omitted optional input
  outputs: string[];
  attrs: Map<string, AttrValue>;
}

const DTYPES: Record<number, DataType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

export function dataTypeName(code: number): DataType {
  const t = DTYPES[code];
  if (!t) throw new CompileError('invalid-onnx', `Tensor element type ${code} is not supported.`);
  return t;
}

type Long = { toNumber(): number } | number;
const num = (v: Long | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  let proto: OnnxTypes.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new CompileError('invalid-onnx', `The file is not a readable ONNX model: ${(err as Error).message}.`);
  }
  if (!proto.graph) throw new CompileError('invalid-onnx', 'The file is not an ONNX model: it has no graph.');
  const opsets: Record<string, number> = {};
  for (const o of proto.opsetImport ?? []) opsets[o.domain || 'ai.onnx'] = num(o.version as Long);
  if (opsets['ai.onnx'] === undefined) opsets['ai.onnx'] = 1; // IR v2 models without opset_import
  const metadata: Record<string, string> = {};
  for (const p of proto.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    irVersion: num(proto.irVersion as Long),
    producer: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    opsets,
    metadata,
    graph: decodeGraph(proto.graph),
  };
}

function decodeGraph(g: IGraphProto): OnnxGraph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', decodeTensor(t));
  return {
    nodes: (g.node ?? []).map((n, i) => ({
      name: n.name || `${n.opType}_${i}`,
      opType: n.opType ?? '',
      domain: n.domain || 'ai.onnx',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      // GRAPHS, SPARSE_TENSOR(S) and TYPE_PROTO(S) attributes (10–14) belong to ops ml-widgets does not
      // compile (Optional, Scan…): left out here, so the op itself is what gets reported.
      attrs: new Map(
        (n.attribute ?? [])
          .filter((a) => !(num(a.type as Long) >= 10 && num(a.type as Long) <= 14))
          .map((a) => [a.name ?? '', decodeAttr(a, n.name || `${n.opType}_${i}`)]),
      ),
    })),
    initializers,
    inputs: (g.input ?? []).map(decodeValueInfo),
    outputs: (g.output ?? []).map(decodeValueInfo),
  };
}

function decodeValueInfo(v: IValueInfoProto): OnnxValueInfo {
  const t = v.type;
  if (t?.tensorType) {
    const shape = t.tensorType.shape
      ? (t.tensorType.shape.dim ?? []).map((d) =>
          d.dimParam ? d.dimParam : d.dimValue != null ? num(d.dimValue as Long) : null,
        )
      : null;
    const elem = num(t.tensorType.elemType as Long);
    return { name: v.name ?? '', dtype: DTYPES[elem] ?? 'unknown', shape };
  }
  if (t?.sequenceType) return { name: v.name ?? '', dtype: 'sequence', shape: null };
  if ((t as { mapType?: unknown })?.mapType) return { name: v.name ?? '', dtype: 'map', shape: null };
  return { name: v.name ?? '', dtype: 'unknown', shape: null };
}

/** Dims of a stored tensor: non-negative integers whose product fits MAX_ELEMENTS. */
function tensorDims(t: ITensorProto): { dims: number[]; count: number } {
  const dims = (t.dims ?? []).map((d) => num(d as Long));
  const bad = dims.find((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad !== undefined) {
    throw new CompileError(
      'invalid-onnx',
      `Tensor "${t.name}" has an invalid dimension ${bad} in its shape [${dims}]; dimensions are counts (0 or more). The file is damaged or was written wrongly.`,
    );
  }
  let count = 1;
  for (const d of dims) count *= d;
  if (count > MAX_ELEMENTS) {
    throw new CompileError(
      'too-large',
      `Tensor "${t.name}" has shape [${dims}]: ${count} elements, more than the ${MAX_ELEMENTS} a model in a web page can hold.`,
    );
  }
  return { dims, count };
}

/** Decode a TensorProto (typed fields or raw_data, little-endian) into a Tensor. */
export function decodeTensor(t: ITensorProto): Tensor {
  if (t.dataType == null || !DTYPES[t.dataType]) {
    throw new CompileError(
      'invalid-onnx',
      `Tensor "${t.name}" has element type ${t.dataType ?? 'none'}, which ml-widgets does not read (supported: ${Object.keys(
        DTYPES,
      )
        .map((k) => `${k} ${DTYPES[+k]}`)
        .join(', ')}).`,
    );
  }
  const dtype = dataTypeName(t.dataType);
  const { dims, count } = tensorDims(t);
  if (t.dataLocation === 1) {
    throw new CompileError(
      'invalid-onnx',
      `Tensor "${t.name}" keeps its data in an external file; save the model with its weights inside.`,
    );
  }
  if (dtype === 'string') {
    const dec = new TextDecoder();
    const strings = (t.stringData ?? []).map((b) => dec.decode(b));
    if (strings.length !== count) {
      throw new CompileError(
        'invalid-onnx',
        `Tensor "${t.name}" has ${strings.length} strings but its shape [${dims}] needs ${count}.`,
      );
    }
    return new Tensor('string', dims, strings);
  }
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  let values: ArrayLike<number>;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = byteSize(dtype);
    // Exactly: extra bytes mean the shape or the type was written wrong, and the values would be misread.
    if (raw.byteLength !== count * size) {
      throw new CompileError(
        'invalid-onnx',
        `Tensor "${t.name}" has ${raw.byteLength} bytes of data but its shape [${dims}] needs ${count * size}.`,
      );
    }
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = readScalar(view, i * size, dtype);
    values = out;
  } else {
    switch (dtype) {
      case 'float32':
        values = t.floatData ?? [];
        break;
      case 'float64':
        values = t.doubleData ?? [];
        break;
      case 'int64':
        values = (t.int64Data ?? []).map((v) => num(v as Long));
        break;
      case 'uint64':
      case 'uint32':
        values = (t.uint64Data ?? []).map((v) => num(v as Long));
        break;
      case 'float16':
        values = (t.int32Data ?? []).map(halfToFloat);
        break;
      default: // int32, int16, int8, uint16, uint8, bool all live in int32_data
        values = t.int32Data ?? [];
    }
    if (values.length !== count) {
      throw new CompileError(
        'invalid-onnx',
        `Tensor "${t.name}" has ${values.length} values but its shape [${dims}] needs ${count}.`,
      );
    }
  }
  return Tensor.fromNumbers(dtype, dims, values);
}

function byteSize(dtype: DataType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'float16':
    case 'int16':
    case 'uint16':
      return 2;
    default:
      return 1;
  }
}

function readScalar(v: DataView, at: number, dtype: DataType): number {
  switch (dtype) {
    case 'float32':
      return v.getFloat32(at, true);
    case 'float64':
      return v.getFloat64(at, true);
    case 'int64':
      return Number(v.getBigInt64(at, true));
    case 'uint64':
      return Number(v.getBigUint64(at, true));
    case 'int32':
      return v.getInt32(at, true);
    case 'uint32':
      return v.getUint32(at, true);
    case 'float16':
      return halfToFloat(v.getUint16(at, true));
    case 'int16':
      return v.getInt16(at, true);
    case 'uint16':
      return v.getUint16(at, true);
    case 'int8':
      return v.getInt8(at);
    default:
      return v.getUint8(at);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decodeAttr(a: IAttributeProto, node: string): AttrValue {
  const missing = (field: string): never => {
    throw new CompileError(
      'invalid-onnx',
      `Attribute "${a.name}" of node "${node}" is declared as a ${field} but holds none; the file is damaged or was written wrongly.`,
    );
  };
  switch (a.type) {
    case 1: // FLOAT
      return a.f ?? 0;
    case 2: // INT
      return num(a.i as Long);
    case 3: // STRING
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case 4: // TENSOR
      return decodeTensor(a.t ?? missing('tensor'));
    case 5: // GRAPH
      return decodeGraph(a.g ?? missing('graph'));
    case 6: // FLOATS
      return [...(a.floats ?? [])];
    case 7: // INTS
      return (a.ints ?? []).map((v) => num(v as Long));
    case 8: // STRINGS
      return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    case 9: // TENSORS
      return (a.tensors ?? []).map(decodeTensor);
    case 0:
    case null:
    case undefined: {
      // Old exporters leave `type` unset: infer it from the field present.
      if (a.t) return decodeTensor(a.t);
      if (a.floats?.length) return [...a.floats];
      if (a.ints?.length) return a.ints.map((v) => num(v as Long));
      if (a.strings?.length) return a.strings.map((s) => new TextDecoder().decode(s));
      if (a.s?.length) return new TextDecoder().decode(a.s);
      if (a.i != null && num(a.i as Long) !== 0) return num(a.i as Long);
      return a.f ?? 0;
    }
    default:
      // Codes from the future or from damage.
      throw new CompileError(
        'invalid-onnx',
        `Attribute "${a.name}" of node "${node}" has attribute type ${a.type}, which ONNX does not define (types 1–14) or ml-widgets does not read; the file is damaged or newer than this compiler.`,
      );
  }
}
