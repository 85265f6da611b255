import { NodeProblem } from '../../errors.js';
import type { NodeContext } from '../../lowering/context.js';
import { bytesOf, storageOf } from '../../lowering/storage.js';
import { buf, data, onnxTypeOf, type PtrArg, type RtValue, type Storage } from '../../program.js';
import { shapeToString } from '../../shape/shapes.js';
import { isConst, product, sameSize, type Size } from '../../shape/size.js';
import type { DataType, Tensor } from '../../tensor.js';
import { I8, U8, type QType } from './math.js';

/**
 * The inputs of the quantized ops as kernel pointers: the kernels read every operand, scale and zero
 * point through a pointer, so a constant is passed where it lies in the data segment and a run-time value
 * in its buffer, without copies.
 */
export interface Operand {
  /** The run-time value read, for the step's reads (none for a constant). */
  reads: RtValue[];
  dims: Size[];
  type: DataType;
  /** Its values, when known at compile time. */
  tensor?: Tensor;
}

/** Input i (absent: undefined) as an operand, of one of the ONNX types `allowed`. */
export function operand(ctx: NodeContext, i: number, what: string, allowed: DataType[]): Operand | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  if (v.kind === 'shape') throw new NodeProblem(`${what} (input ${i}) cannot be a shape`, 'invalid-graph');
  const type = onnxTypeOf(v);
  if (!allowed.includes(type))
    throw new NodeProblem(`${what} (input ${i}) is ${type}; it must be ${allowed.join(' or ')}`, 'invalid-graph');
  if (v.kind === 'const') return { reads: [], dims: v.tensor.dims, type, tensor: v.tensor };
  const x = ctx.rtAny(i);
  return { reads: [x], dims: x.dims, type };
}

/** Where a kernel reads an operand: its buffer, or its bytes added to the data segment (absent: null). */
export function ptrOf(ctx: NodeContext, o: Operand | undefined): PtrArg {
  if (!o) return { t: 'null' };
  if (o.tensor) return data(ctx.program.addData(bytesOf(o.tensor, storageOf(o.type) as Storage)));
  return buf(o.reads[0]);
}

export function required(ctx: NodeContext, i: number, what: string, allowed: DataType[]): Operand {
  const o = operand(ctx, i, what, allowed);
  if (!o) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
  return o;
}

/** Elements of an operand. */
export const count = (o: Operand): Size => product(o.dims);

/** The integer type of a u8/i8 operand. */
export const qtypeOf = (type: DataType): QType => (type === 'int8' ? I8 : U8);

/** A scale or zero point that must be one value (a scalar or a 1-element vector). */
export function perTensor(ctx: NodeContext, o: Operand | undefined, what: string): void {
  if (!o) return;
  const n = count(o);
  if (isConst(n) ? n !== 1 : o.dims.length > 1)
    throw new NodeProblem(
      `${what} has shape ${shapeToString(o.dims)}; only one value (per-tensor quantization) is supported here`,
    );
  if (!isConst(n)) ctx.require(n, 1, `${what} must hold one value`);
}

/**
 * How many values a per-channel scale or zero point holds along a dimension of `channels`: 1 (one for
 * all) or `channels`, as a 1-D tensor. Refuses other shapes.
 */
export function perChannel(ctx: NodeContext, o: Operand | undefined, channels: Size, what: string): 1 | 'channels' {
  if (!o) return 1;
  const n = count(o);
  if (isConst(n) && n === 1) return 1;
  if (o.dims.length !== 1)
    throw new NodeProblem(`${what} has shape ${shapeToString(o.dims)}; it must be a scalar or 1-D`, 'invalid-graph');
  if (!sameSize(n, channels)) {
    if (isConst(n) && isConst(channels))
      throw new NodeProblem(`${what} holds ${n} values for ${channels} channels`, 'invalid-graph');
    ctx.require(n, channels, `${what} must hold one value per channel`);
  }
  return 'channels';
}

/** The values of a constant per-channel parameter, one per channel (a single value repeated). */
export function channelValues(o: Operand | undefined, channels: number, fallback: number): Float64Array {
  if (!o) return new Float64Array(channels).fill(fallback);
  if (!o.tensor) throw new Error('internal error: channelValues of a run-time operand');
  const v = o.tensor.numbers;
  return Float64Array.from({ length: channels }, (_, c) => v[v.length === 1 ? 0 : c]);
}

/** A bool-free integer tensor type name for messages and the output of a quantizing op. */
export const storageFor = (type: DataType): Storage => storageOf(type) as Storage;
