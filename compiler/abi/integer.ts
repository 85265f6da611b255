/**
 * Integer arithmetic, Mod and the integer/mixed Pow forms (assembly/integer.ts, semantics in
 * assembly/intmath.ts). Binary kernels take the broadcast table of assembly/broadcast.ts: i32 [R, out
 * dims (dim 0 replaced by `rows`), a strides, b strides] in elements. y has a's element type.
 */
import { i32, ptr, type KernelSpec } from './spec.js';

const integer = { module: 'integer', params: [ptr('a'), ptr('b'), ptr('y'), i32('rows'), ptr('table')] } as const;
const integerUnary = { module: 'integer', params: [ptr('x'), ptr('y'), i32('n')] } as const;

export const INTEGER_KERNELS = {
  // i32
  /** a + b, wrapping */
  add_i32: integer,
  /** a − b, wrapping */
  sub_i32: integer,
  /** a · b, wrapping */
  mul_i32: integer,
  /** a / b truncated toward zero (b = 0 gives 0; MIN / −1 gives MIN) */
  div_i32: integer,
  /** min(a, b) */
  min_i32: integer,
  /** max(a, b) */
  max_i32: integer,
  /** Mod, fmod = 0: a mod b with the sign of b (b = 0 gives 0) */
  mod_i32: integer,
  /** Mod, fmod = 1: C's a % b, the sign of a (b = 0 gives 0) */
  fmod_i32: integer,
  /** Pow as onnxruntime: std::pow in double, truncated back (MIN where out of range or 0^negative). */
  pow_i32: integer,
  // i64
  add_i64: integer,
  sub_i64: integer,
  mul_i64: integer,
  div_i64: integer,
  min_i64: integer,
  max_i64: integer,
  mod_i64: integer,
  fmod_i64: integer,
  pow_i64: integer,
  // u8
  add_u8: integer,
  sub_u8: integer,
  mul_u8: integer,
  div_u8: integer,
  min_u8: integer,
  max_u8: integer,
  mod_u8: integer,
  /** BitShift: a << b, a >> b (a shift by 8 or more gives 0, as numpy) */
  shl_u8: integer,
  shr_u8: integer,
  // i8
  add_i8: integer,
  sub_i8: integer,
  mul_i8: integer,
  div_i8: integer,
  min_i8: integer,
  max_i8: integer,
  mod_i8: integer,
  fmod_i8: integer,
  /** Mod, fmod = 1, on float32: C fmod, exact. */
  fmod_f32: integer,
  /** Pow with an integer base and a float32 exponent (result: the base's type), or the reverse (float32). */
  pow_i32_f32: integer,
  pow_i64_f32: integer,
  pow_f32_i32: integer,
  pow_f32_i64: integer,
  /** |x|, −x (MIN stays MIN), sign(x) in 1, 0, −1. */
  abs_i32: integerUnary,
  abs_i64: integerUnary,
  neg_i32: integerUnary,
  neg_i64: integerUnary,
  sign_i32: integerUnary,
  sign_i64: integerUnary,
} as const satisfies Record<string, KernelSpec>;
