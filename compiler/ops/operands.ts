import { CODES } from '../abi/codes.js';
import { asFloat } from './binary.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { bytesOf, storageOf } from '../lowering/storage.js';
import { rowsOf } from '../lowering/rows.js';
import { buf, data, ELEMENT_BYTES, type PtrArg, type RtValue, type Storage } from '../program.js';
import type { Size } from '../shape/size.js';
import type { DataType } from '../tensor.js';

/**
 * Inputs of the indexing ops as kernel operands, whatever they are: a run-time tensor is read where it
 * is; a constant is read straight from the data segment (no copy step); a shape value (sizes known only
 * at run time) from a run-time table of i32. So indices, data and updates may each be any of the three.
 */
export interface Operand {
  ptr: PtrArg;
  dims: Size[];
  /** How memory holds it. */
  dtype: Storage;
  /** The ONNX element type. */
  onnx: DataType;
  /** The run-time values a step reading it must list. */
  reads: RtValue[];
  rowAxis: RtValue['rowAxis'];
  categories?: RtValue['categories'];
}

/** CODES.ELEM of a storage type. */
export const ELEM_KIND: Record<Storage, number> = {
  float32: CODES.ELEM.F32,
  int32: CODES.ELEM.I32,
  int64: CODES.ELEM.I64,
  uint8: CODES.ELEM.U8,
  int8: CODES.ELEM.I8,
};

/** Input i (required) as an operand. */
export function operand(ctx: NodeContext, i: number, what: string): Operand {
  const v = ctx.input(i);
  if (!v) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
  if (v.kind === 'rt') {
    const x = ctx.rtAny(i);
    return {
      ptr: buf(x),
      dims: x.dims,
      dtype: x.dtype,
      onnx: x.onnx ?? x.dtype,
      reads: [x],
      rowAxis: x.rowAxis,
      categories: x.categories,
    };
  }
  if (v.kind === 'shape')
    return {
      ptr: ctx.program.addTable(v.values),
      dims: v.dims,
      dtype: 'int32',
      onnx: 'int64',
      reads: [],
      rowAxis: 'none',
    };
  const t = v.tensor;
  const storage = storageOf(t.dtype);
  if (!storage) throw new NodeProblem(`${what} (input ${i}) has element type ${t.dtype}, which is not supported`);
  return {
    ptr: data(ctx.program.addData(bytesOf(t, storage))),
    dims: t.dims,
    dtype: storage,
    onnx: t.dtype,
    reads: [],
    rowAxis: rowsOf(v),
  };
}

/**
 * Input i as numbers to compute on: a run-time value whose int32 memory holds indices into class values
 * (RtValue.categories: an ArrayFeatureExtractor over a constant list) becomes those values (float32, as
 * asFloat makes them); anything else as `operand`.
 */
export function numericOperand(ctx: NodeContext, i: number, what: string): Operand {
  const v = ctx.input(i);
  if (v?.kind === 'rt' && v.categories?.some((c, k) => c !== k)) {
    const x = asFloat(ctx, ctx.rtAny(i));
    return { ptr: buf(x), dims: x.dims, dtype: x.dtype, onnx: 'float32', reads: [x], rowAxis: x.rowAxis };
  }
  return operand(ctx, i, what);
}

/** Input i as indices: int32 or int64 (anything else is an invalid graph). */
export function indexOperand(ctx: NodeContext, i: number, what: string): Operand {
  const op = operand(ctx, i, what);
  if (op.dtype !== 'int32' && op.dtype !== 'int64')
    throw new NodeProblem(`${what} (input ${i}) holds ${op.onnx}; indices must be int32 or int64`, 'invalid-graph');
  return op;
}

export const bytesOfElement = (op: { dtype: Storage }): number => ELEMENT_BYTES[op.dtype];

/** A new run-time value of the operand's element type. */
export function valueLike(ctx: NodeContext, dims: Size[], like: Operand, rowAxis?: RtValue['rowAxis']): RtValue {
  const y: RtValue = { ...ctx.newValue(dims, like.dtype), rowAxis };
  if (like.onnx !== like.dtype) y.onnx = like.onnx;
  if (like.categories) y.categories = like.categories;
  return y;
}

/**
 * The row axis of an output whose every position reads the same position of two operands (GatherElements,
 * the indices and the data): rows stay where both have them (or one has them and the other has none),
 * unless the op mixes along that axis.
 */
export function sharedRows(a: Operand, b: Operand, mixedAxis: number): RtValue['rowAxis'] {
  const [ra, rb] = [a.rowAxis, b.rowAxis];
  if (ra === undefined || rb === undefined) return undefined;
  const r = ra === 'none' ? rb : rb === 'none' || rb === ra ? ra : undefined;
  return r === mixedAxis ? undefined : r;
}
