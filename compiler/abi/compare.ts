/**
 * Kernels that write bool tensors (u8 0/1) — comparisons, logic, IsNaN/IsInf — and Where
 * (assembly/compare.ts, assembly/where.ts). Broadcasting kernels take the broadcast table of
 * assembly/broadcast.ts: i32 [R, out dims (dim 0 replaced by `rows`), a strides, b strides] in elements
 * (Where: [R, out dims, cond strides, a strides, b strides]).
 */
import { i32, ptr, type KernelSpec } from './spec.js';

const BROADCAST = [ptr('a'), ptr('b'), ptr('y'), i32('rows'), ptr('table')] as const;
const compare = { module: 'compare', params: BROADCAST } as const;
const where = {
  module: 'where',
  params: [ptr('cond'), ptr('a'), ptr('b'), ptr('y'), i32('rows'), ptr('table')],
} as const;

export const COMPARE_KERNELS = {
  /** y = a < b (Less, Greater, Equal, LessOrEqual, GreaterOrEqual; IEEE for floats: NaN compares false). */
  less_f32: compare,
  less_i32: compare,
  less_i64: compare,
  // y = a > b
  greater_f32: compare,
  greater_i32: compare,
  greater_i64: compare,
  // y = a = b
  equal_f32: compare,
  equal_i32: compare,
  equal_i64: compare,
  equal_u8: compare,
  // y = a <= b
  less_equal_f32: compare,
  less_equal_i32: compare,
  less_equal_i64: compare,
  // y = a >= b
  greater_equal_f32: compare,
  greater_equal_i32: compare,
  greater_equal_i64: compare,
  /** And, Or, Xor of bools (0/1). */
  and_u8: compare,
  or_u8: compare,
  xor_u8: compare,
  /** y[i] = 1 − x[i] (Not). */
  not_u8: { module: 'compare', params: [ptr('x'), ptr('y'), i32('n')] },
  /** y[i] = isnan(x[i]) (IsNaN), n floats to n bools. */
  isnan_f32: { module: 'compare', params: [ptr('x'), ptr('y'), i32('n')] },
  /** y[i] = (detectPositive ≠ 0 and x = +Inf) or (detectNegative ≠ 0 and x = −Inf) (IsInf). */
  isinf_f32: {
    module: 'compare',
    params: [ptr('x'), ptr('y'), i32('n'), i32('detectPositive'), i32('detectNegative')],
  },
  /** y = cond ? a : b for elements of 1 byte (bool, uint8, int8), 4 (float32, int32) or 8 (int64). */
  where_8bit: where,
  where_32bit: where,
  where_64bit: where,
} as const satisfies Record<string, KernelSpec>;
