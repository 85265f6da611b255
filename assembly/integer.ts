// Integer elementwise kernels for the int64 (i64), int32 (i32), uint8 (u8) and int8 (i8) tensors of the
// core, and the Mod and Pow forms ONNX defines beyond float32 binary.ts: Add, Sub, Mul (wrapping), Div
// (truncating; /0 gives 0), Min, Max, Mod (fmod = 0: sign of the divisor; %0 gives 0), fmod (Mod with
// fmod = 1: C's %, and exact C fmod on float32), Pow on integers and mixed float/integer Pow as
// onnxruntime computes them (intmath.ts), and the unary Abs, Neg, Sign (wrapping: Abs/Neg of MIN is MIN).
// Binary kernels broadcast over a table (broadcast.ts); y may alias a non-broadcast operand of y's type.

import { OP_ADD, OP_DIV, OP_FMOD, OP_MAX, OP_MIN, OP_MOD, OP_MUL, OP_POW, OP_SHL, OP_SHR, OP_SUB, typedBinary } from "./typed-binary";


export function add_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_ADD, a, b, y, rows, table); }
export function sub_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_SUB, a, b, y, rows, table); }
export function mul_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_MUL, a, b, y, rows, table); }
export function div_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_DIV, a, b, y, rows, table); }
export function min_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_MIN, a, b, y, rows, table); }
export function max_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_MAX, a, b, y, rows, table); }
export function mod_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_MOD, a, b, y, rows, table); }
export function fmod_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_FMOD, a, b, y, rows, table); }
export function pow_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, i32>(OP_POW, a, b, y, rows, table); }

export function add_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_ADD, a, b, y, rows, table); }
export function sub_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_SUB, a, b, y, rows, table); }
export function mul_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_MUL, a, b, y, rows, table); }
export function div_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_DIV, a, b, y, rows, table); }
export function min_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_MIN, a, b, y, rows, table); }
export function max_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_MAX, a, b, y, rows, table); }
export function mod_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_MOD, a, b, y, rows, table); }
export function fmod_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_FMOD, a, b, y, rows, table); }
export function pow_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, i64>(OP_POW, a, b, y, rows, table); }

export function add_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_ADD, a, b, y, rows, table); }
export function sub_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_SUB, a, b, y, rows, table); }
export function mul_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_MUL, a, b, y, rows, table); }
export function div_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_DIV, a, b, y, rows, table); }
export function min_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_MIN, a, b, y, rows, table); }
export function max_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_MAX, a, b, y, rows, table); }
export function mod_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_MOD, a, b, y, rows, table); }
// BitShift (ONNX defines it on unsigned types; uint8 is the one run-time tensors have): a shift by 8 or more gives 0.
export function shl_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_SHL, a, b, y, rows, table); }
export function shr_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_SHR, a, b, y, rows, table); }

export function add_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_ADD, a, b, y, rows, table); }
export function sub_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_SUB, a, b, y, rows, table); }
export function mul_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_MUL, a, b, y, rows, table); }
export function div_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_DIV, a, b, y, rows, table); }
export function min_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_MIN, a, b, y, rows, table); }
export function max_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_MAX, a, b, y, rows, table); }
export function mod_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_MOD, a, b, y, rows, table); }
export function fmod_i8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i8, i8, i8>(OP_FMOD, a, b, y, rows, table); }

/** Mod with fmod = 1 on float32: C fmod, exact (sign of a; NaN for a = ±Inf or b = 0; a for b = ±Inf). */
export function fmod_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, f32, f32>(OP_FMOD, a, b, y, rows, table); }
/** Pow(int32 | int64 base, float32 exponent) → the base type. */
export function pow_i32_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, f32, i32>(OP_POW, a, b, y, rows, table); }
export function pow_i64_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, f32, i64>(OP_POW, a, b, y, rows, table); }
/** Pow(float32 base, int32 | int64 exponent) → float32. */
export function pow_f32_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, i32, f32>(OP_POW, a, b, y, rows, table); }
export function pow_f32_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, i64, f32>(OP_POW, a, b, y, rows, table); }

// @ts-ignore: decorator
@inline function mapInt<T>(op: i32, x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<T>(x + <usize>i * sizeof<T>());
    let r: T;
    if (op == 0) r = v < <T>0 ? <T>(<T>0 - v) : v; // abs
    else if (op == 1) r = <T>(<T>0 - v); // neg
    else r = v > <T>0 ? <T>1 : v < <T>0 ? <T>-1 : <T>0; // sign
    store<T>(y + <usize>i * sizeof<T>(), r);
  }
}

/** y[i] = |x[i]| for n elements (MIN stays MIN). x == y allowed. */
export function abs_i32(x: usize, y: usize, n: i32): void { mapInt<i32>(0, x, y, n); }
export function abs_i64(x: usize, y: usize, n: i32): void { mapInt<i64>(0, x, y, n); }
/** y[i] = −x[i] (MIN stays MIN). */
export function neg_i32(x: usize, y: usize, n: i32): void { mapInt<i32>(1, x, y, n); }
export function neg_i64(x: usize, y: usize, n: i32): void { mapInt<i64>(1, x, y, n); }
/** y[i] = 1, 0 or −1. */
export function sign_i32(x: usize, y: usize, n: i32): void { mapInt<i32>(2, x, y, n); }
export function sign_i64(x: usize, y: usize, n: i32): void { mapInt<i64>(2, x, y, n); }
