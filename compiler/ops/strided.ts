import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, data, ELEMENT_BYTES, i32, type PtrArg, type RtValue, type Storage } from '../program.js';
import { broadcastStrides, stridesOf } from '../shape/shapes.js';
import { mul, type Size } from '../shape/size.js';
import { bytesOf, storageOf } from '../lowering/storage.js';
import { storageOfValue } from './elementwise.js';
import type { Tensor } from '../tensor.js';

/**
 * Run-time strided copies (the `strided_copy` kernel: an n-d gather into a contiguous y, its table
 * [R, dims, strides] with dim 0 given as `rows`). The kernel moves 4-byte words; 8-byte elements move as
 * two words each (one more innermost axis of 2, strides doubled); bytes take strided_copy_sized.
 */
export function stridedCopy(ctx: NodeContext, x: RtValue, outDims: Size[], strides: Size[], offset: Size): RtValue {
  const y = ctx.newValue(outDims, x.dtype);
  emitStridedCopy(ctx, buf(x, mul(offset, ELEMENT_BYTES[x.dtype])), x.dtype, y, strides, [x]);
  return { ...y, onnx: x.onnx, categories: x.categories };
}

/** The strided_copy call that fills `y` from `src` read at element `strides`. */
export function emitStridedCopy(
  ctx: NodeContext,
  src: PtrArg,
  dtype: Storage,
  y: RtValue,
  strides: Size[],
  reads: RtValue[],
): void {
  let dims: Size[] = y.dims.length ? y.dims : [1];
  let s: Size[] = y.dims.length ? strides : [0];
  const bytes = ELEMENT_BYTES[dtype];
  if (bytes === 8) {
    dims = [...dims, 2];
    s = [...s.map((v) => mul(v, 2)), 1];
  } else if (bytes !== 4) {
    // Bytes (bool, uint8, int8): the element-size-general copy.
    const table = ctx.program.addTable([dims.length, ...dims, ...s]);
    const elemSize = i32(bytes);
    ctx.program.addStep(
      'strided_copy_sized',
      () => ({ x: src, y: buf(y), rows: i32(dims[0]), table, elemSize }),
      reads,
      [y],
    );
    return;
  }
  const table = ctx.program.addTable([dims.length, ...dims, ...s]);
  ctx.program.addStep('strided_copy', () => ({ x: src, y: buf(y), rows: i32(dims[0]), table }), reads, [y]);
}

/**
 * A constant as a run-time value of `outDims` (broadcast: repeated along axes where it has 1), read
 * straight from the data segment.
 */
export function constantAs(ctx: NodeContext, t: Tensor, outDims: Size[], dtype: Storage = 'float32'): RtValue {
  const ref = ctx.program.addData(bytesOf(t, dtype));
  const y = { ...ctx.newValue(outDims, dtype), rowAxis: 'none' as const };
  emitStridedCopy(ctx, data(ref), dtype, y, broadcastStrides(t.dims, outDims), []);
  return y;
}

/** Row-major strides, re-exported for the movement ops. */
export { stridesOf };

/**
 * Input i as a run-time value in plain layout; a constant is copied in from the data segment (ops whose
 * kernels compute what a fold would have to reproduce bit for bit).
 */
export function runtimeInput(ctx: NodeContext, i: number): RtValue {
  const v = ctx.input(i);
  if (v?.kind !== 'const') return ctx.rtAny(i);
  const storage = storageOf(v.tensor.dtype);
  if (!storage) throw new NodeProblem(`input ${i} holds ${v.tensor.dtype}, which is not supported here`);
  const y = constantAs(ctx, v.tensor, v.tensor.dims, storage);
  return v.tensor.dtype === storage ? y : { ...y, onnx: v.tensor.dtype };
}

/** A constant as a run-time value of its own element type (int64 as int64, bool as uint8 bools). */
export function constantTensor(ctx: NodeContext, t: Tensor): RtValue {
  const storage = storageOfValue({ kind: 'const', tensor: t });
  const x = constantAs(ctx, t, t.dims, storage);
  return t.dtype === storage || t.isFloat ? x : { ...x, onnx: t.dtype };
}
