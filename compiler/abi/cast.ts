/**
 * Casts between run-time element types (assembly/cast.ts): cast_<from>_<to>(x, y, n) over n elements,
 * types f32, i32, i64, u8 (uint8, and bool as a source), i8, and bool (u8 0/1, x ≠ 0) as a target.
 * Float → int32/int64 truncates, with MIN for NaN, ±Inf and out of range (as onnxruntime on x86).
 */
import { i32, ptr, type KernelSpec } from './spec.js';

const cast = { module: 'cast', params: [ptr('x'), ptr('y'), i32('n')] } as const;

export const CAST_KERNELS = {
  cast_f32_i32: cast,
  cast_f32_i64: cast,
  cast_f32_u8: cast,
  cast_f32_i8: cast,
  cast_f32_bool: cast,
  cast_i32_f32: cast,
  cast_i32_i64: cast,
  cast_i32_u8: cast,
  cast_i32_i8: cast,
  cast_i32_bool: cast,
  cast_i64_f32: cast,
  cast_i64_i32: cast,
  cast_i64_u8: cast,
  cast_i64_i8: cast,
  cast_i64_bool: cast,
  cast_u8_f32: cast,
  cast_u8_i32: cast,
  cast_u8_i64: cast,
  cast_u8_i8: cast,
  cast_u8_bool: cast,
  cast_i8_f32: cast,
  cast_i8_i32: cast,
  cast_i8_i64: cast,
  cast_i8_u8: cast,
  cast_i8_bool: cast,
} as const satisfies Record<string, KernelSpec>;
