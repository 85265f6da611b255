import type { KernelName } from '../abi/kernels.js';
import type { CAST_KERNELS } from '../abi/cast.js';
import type { COMPARE_KERNELS } from '../abi/compare.js';
import type { INTEGER_KERNELS } from '../abi/integer.js';
import type { FamilyKernel } from '../abi/kernels.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { toPlain } from '../lowering/layout.js';
import { broadcastRows } from '../lowering/rows.js';
import { bytesOf, storageOf } from '../lowering/storage.js';
import {
  buf,
  countArg,
  data,
  i32,
  type PtrArg,
  type RtValue,
  type ShapeValue,
  type Storage,
  type Value,
} from '../program.js';
import { broadcastShapes, broadcastStrides, shapeToString, type SizeCheck } from '../shape/shapes.js';
import { mul, sameSize, sameSizes, type Size } from '../shape/size.js';
import { FLOAT_TYPES } from '../tensor.js';

/**
 * What every elementwise op over typed tensors shares: how a value's elements are held, casting a
 * run-time value to another storage (compiler/abi/cast.ts), constants and shape values as kernel
 * operands of a given storage, and one broadcasting kernel call over k operands (the table of
 * assembly/broadcast.ts: [R, out dims, each operand's strides], dim 0 given as the kernel's `rows`).
 */

/** The element codes kernel names use. */
export const CODE = { float32: 'f32', int32: 'i32', int64: 'i64', uint8: 'u8', int8: 'i8' } as const satisfies Record<
  Storage,
  string
>;

/** The kernels that take (a, b, y, rows, table): the float binary family and the typed ones. */
export type BroadcastKernel =
  | FamilyKernel<'binary'>
  | Exclude<
      keyof typeof COMPARE_KERNELS | keyof typeof INTEGER_KERNELS,
      | 'not_u8'
      | 'isnan_f32'
      | 'isinf_f32'
      | 'where_8bit'
      | 'where_32bit'
      | 'where_64bit'
      | `${'abs' | 'neg' | 'sign'}_${'i32' | 'i64'}`
    >;

/** How a value's elements are (or would be) held at run time: constants as their ONNX type, sizes as int64. */
export function storageOfValue(v: Value): Storage {
  if (v.kind === 'rt') return v.dtype;
  if (v.kind === 'shape') return 'int64';
  if (FLOAT_TYPES.has(v.tensor.dtype)) return 'float32';
  const s = storageOf(v.tensor.dtype);
  if (!s) throw new NodeProblem(`${v.tensor.dtype} tensors are not supported here`);
  return s;
}

/** A run-time value converted to another storage (onnxruntime's cast semantics, compiler/abi/cast.ts). */
export function castTo(ctx: NodeContext, x: RtValue, to: Storage): RtValue {
  if (x.dtype === to) return x;
  // Elementwise: the layout (channels-last or not) stays.
  const y: RtValue = { ...ctx.newValue(x.dims, to), rowAxis: x.rowAxis, layout: x.layout };
  const kernel = `cast_${CODE[x.dtype]}_${CODE[to]}` as keyof typeof CAST_KERNELS;
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
  return y;
}

/** x ≠ 0 as a run-time bool (uint8 0/1; NaN is true, −0 false). */
export function toBool(ctx: NodeContext, x: RtValue): RtValue {
  if (x.onnx === 'bool') return x;
  const y: RtValue = { ...ctx.newValue(x.dims, 'uint8'), onnx: 'bool', rowAxis: x.rowAxis, layout: x.layout };
  const kernel = `cast_${CODE[x.dtype]}_bool` as keyof typeof CAST_KERNELS;
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
  return y;
}

/** A shape value (sizes known only at run time) as a run-time tensor of `to`, evaluated per call. */
export function shapeAsTensor(ctx: NodeContext, v: ShapeValue, to: Storage): RtValue {
  const y: RtValue = { ...ctx.newValue(v.dims, to), rowAxis: 'none' };
  const table = ctx.program.addTable(v.values);
  const n = v.values.length;
  if (to === 'int32') ctx.program.addStep('copy', () => ({ x: table, y: buf(y), nbytes: i32(n * 4) }), [], [y]);
  else {
    const kernel = `cast_i32_${CODE[to]}` as keyof typeof CAST_KERNELS;
    ctx.program.addStep(kernel, () => ({ x: table, y: buf(y), n: i32(n) }), [], [y]);
  }
  return y;
}

/** A kernel operand: a run-time value (converted to `storage` if it is held otherwise) or constant data. */
export type Operand = RtValue | { kind: 'const'; dims: Size[]; ptr: PtrArg };

export function operandOf(ctx: NodeContext, v: Value, storage: Storage): Operand {
  // Elementwise over several operands: memory in plain order (a conv's channels-last output is copied once).
  if (v.kind === 'rt') return castTo(ctx, toPlain(ctx.program, v), storage);
  if (v.kind === 'shape') return shapeAsTensor(ctx, v, storage);
  return { kind: 'const', dims: v.tensor.dims, ptr: data(ctx.program.addData(bytesOf(v.tensor, storage))) };
}

const dimsOf = (v: Value | Operand): Size[] => (v.kind === 'const' && 'tensor' in v ? v.tensor.dims : v.dims);

/** The broadcast of k operands: output dims, run-time checks where symbols meet, and the kernel's table. */
export interface Broadcast {
  /** The output's dims (ONNX's; [] for a scalar). */
  out: Size[];
  rowAxis: RtValue['rowAxis'];
  /** The kernel's `rows` and table (dims merged where every operand walks them contiguously). */
  rows: Size;
  table: PtrArg;
}

export function broadcastOf(ctx: NodeContext, operands: (Value | Operand)[]): Broadcast {
  const checks: SizeCheck[] = [];
  const out = operands.map(dimsOf).reduce<Size[] | null>((s, d) => s && broadcastShapes(s, d, checks), []);
  if (!out)
    throw new NodeProblem(
      `input shapes ${operands.map((v) => shapeToString(dimsOf(v))).join(', ')} do not broadcast`,
      'invalid-graph',
    );
  for (const c of checks) ctx.require(c.a, c.b, c.message);
  const rowAxis = broadcastRows(
    operands.map((v): Value => (v.kind === 'rt' ? v : { kind: 'shape', dims: [], values: [] })),
    out.length,
  );
  const full = out.length ? out : [1];
  const [dims, strides] = collapse(
    full,
    operands.map((v) => broadcastStrides(dimsOf(v), full)),
  );
  const table = ctx.program.addTable([dims.length, ...dims, ...strides.flat()]);
  return { out, rowAxis, rows: dims[0], table };
}

/** Merge adjacent dims (after dim 0, the kernel's `rows`) that every operand walks contiguously. */
function collapse(dims: Size[], strides: Size[][]): [Size[], Size[][]] {
  const d = [dims[0]];
  const s = strides.map((st) => [st[0]]);
  for (let i = 1; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = d.length - 1;
    const mergeable = last >= 1 && strides.every((st, k) => sameSize(s[k][last], mul(st[i], dims[i])));
    if (mergeable) {
      d[last] = mul(d[last], dims[i]);
      strides.forEach((st, k) => (s[k][last] = st[i]));
    } else {
      d.push(dims[i]);
      strides.forEach((st, k) => s[k].push(st[i]));
    }
  }
  return [d, s];
}

const ptrOf = (v: Operand): PtrArg => (v.kind === 'rt' ? buf(v) : v.ptr);
const runtime = (vs: Operand[]): RtValue[] => vs.filter((v): v is RtValue => v.kind === 'rt');

/**
 * One broadcasting call y = a ⊙ b of a kernel taking (a, b, y, rows, table), its operands held as
 * `storages` say and y as `out` (written over an operand of y's shape and storage that nothing reads later).
 */
export function lowerBroadcast(
  ctx: NodeContext,
  kernel: BroadcastKernel,
  a: Value,
  b: Value,
  storages: readonly [Storage, Storage],
  out: Storage,
): RtValue {
  const [x, z] = [operandOf(ctx, a, storages[0]), operandOf(ctx, b, storages[1])];
  const bc = broadcastOf(ctx, [x, z]);
  const reusable = runtime([x, z]).find((v) => v.dtype === out && sameSizes(v.dims, bc.out));
  const y: RtValue = { ...ctx.inPlaceOr(reusable, bc.out, out), rowAxis: bc.rowAxis };
  const [pa, pb] = [ptrOf(x), ptrOf(z)];
  ctx.program.addStep(
    kernel as KernelName as 'add_i32',
    () => ({ a: pa, b: pb, y: buf(y), rows: i32(bc.rows), table: bc.table }),
    runtime([x, z]),
    [y],
  );
  return y;
}

/** Where's call: y = cond ? a : b over three broadcast operands, elements of `storage` (cond is bool). */
export function lowerWhere(ctx: NodeContext, cond: Value, a: Value, b: Value, storage: Storage): RtValue {
  const ops = [operandOf(ctx, cond, 'uint8'), operandOf(ctx, a, storage), operandOf(ctx, b, storage)];
  const bc = broadcastOf(ctx, ops);
  const reusable = runtime(ops.slice(1)).find((v) => sameSizes(v.dims, bc.out));
  const y: RtValue = { ...ctx.inPlaceOr(reusable, bc.out, storage), rowAxis: bc.rowAxis };
  const [pc, pa, pb] = ops.map(ptrOf);
  const bytes = { 1: 'where_8bit', 4: 'where_32bit', 8: 'where_64bit' } as const;
  const kernel = bytes[storage === 'int64' ? 8 : storage === 'uint8' || storage === 'int8' ? 1 : 4];
  ctx.program.addStep(
    kernel,
    () => ({ cond: pc, a: pa, b: pb, y: buf(y), rows: i32(bc.rows), table: bc.table }),
    runtime(ops),
    [y],
  );
  return y;
}

/**
 * The storage two integer operands of one ONNX type meet in: int64 values held as int32 (class indices,
 * ArgMax) stay int32 when both are, and widen to int64 when the other is held as int64.
 */
export function commonStorage(values: Value[]): Storage {
  const rt = values.filter((v): v is RtValue => v.kind === 'rt').map((v) => v.dtype);
  if (!rt.length) return storageOfValue(values[0]);
  if (rt.includes('int64')) return 'int64';
  return rt[0];
}

/** int64 values as int32, what the classic-ML kernels' index and code tables read (exact below 2^31). */
export function indexValues(ctx: NodeContext, x: RtValue): RtValue {
  return x.dtype === 'int64' ? { ...castTo(ctx, x, 'int32'), onnx: 'int64' } : x;
}
