// Comparisons, logic and float classification that write bool tensors (u8 0/1): Less, Greater, Equal,
// LessOrEqual, GreaterOrEqual on f32, i32 and i64 (Equal also on bool/uint8), And/Or/Xor/Not on bool,
// IsNaN, IsInf. The binary ones broadcast over a table (broadcast.ts); f32 comparisons follow IEEE (any
// comparison with NaN is false). Bool inputs must hold 0 or 1.

import { OP_AND, OP_EQUAL, OP_GREATER, OP_GREATER_EQUAL, OP_LESS, OP_LESS_EQUAL, OP_OR, OP_XOR, typedBinary } from "./typed-binary";

export function less_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, f32, u8>(OP_LESS, a, b, y, rows, table); }
export function less_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, u8>(OP_LESS, a, b, y, rows, table); }
export function less_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, u8>(OP_LESS, a, b, y, rows, table); }
export function greater_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, f32, u8>(OP_GREATER, a, b, y, rows, table); }
export function greater_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, u8>(OP_GREATER, a, b, y, rows, table); }
export function greater_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, u8>(OP_GREATER, a, b, y, rows, table); }
export function equal_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, f32, u8>(OP_EQUAL, a, b, y, rows, table); }
export function equal_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, u8>(OP_EQUAL, a, b, y, rows, table); }
export function equal_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, u8>(OP_EQUAL, a, b, y, rows, table); }
export function equal_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_EQUAL, a, b, y, rows, table); }
export function less_equal_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, f32, u8>(OP_LESS_EQUAL, a, b, y, rows, table); }
export function less_equal_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, u8>(OP_LESS_EQUAL, a, b, y, rows, table); }
export function less_equal_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, u8>(OP_LESS_EQUAL, a, b, y, rows, table); }
export function greater_equal_f32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<f32, f32, u8>(OP_GREATER_EQUAL, a, b, y, rows, table); }
export function greater_equal_i32(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i32, i32, u8>(OP_GREATER_EQUAL, a, b, y, rows, table); }
export function greater_equal_i64(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<i64, i64, u8>(OP_GREATER_EQUAL, a, b, y, rows, table); }
export function and_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_AND, a, b, y, rows, table); }
export function or_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_OR, a, b, y, rows, table); }
export function xor_u8(a: usize, b: usize, y: usize, rows: i32, table: usize): void { typedBinary<u8, u8, u8>(OP_XOR, a, b, y, rows, table); }

/** y[i] = 1 − x[i] for n bools (Not). x == y allowed. */
export function not_u8(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) v128.store(y + <usize>i, v128.xor(v128.load(x + <usize>i), i8x16.splat(1)));
  for (; i < n; i++) store<u8>(y + <usize>i, load<u8>(x + <usize>i) ^ 1);
}

/** y[i] = x[i] is NaN, for n floats into n bools (IsNaN). */
export function isnan_f32(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const m = f32x4.ne(v, v);
    v128.store32_lane(y + <usize>i, v128.and(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m, m), m), i8x16.splat(1)), 0);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<u8>(y + <usize>i, <u8>(v != v));
  }
}

/**
 * y[i] = x[i] is +Inf (when detectPositive ≠ 0) or −Inf (when detectNegative ≠ 0), for n floats into
 * n bools (IsInf with its detect_positive / detect_negative attributes).
 */
export function isinf_f32(x: usize, y: usize, n: i32, detectPositive: i32, detectNegative: i32): void {
  const pos = f32x4.splat(detectPositive != 0 ? Infinity : NaN); // NaN never compares equal
  const neg = f32x4.splat(detectNegative != 0 ? -Infinity : NaN);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const m = v128.or(f32x4.eq(v, pos), f32x4.eq(v, neg));
    v128.store32_lane(y + <usize>i, v128.and(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m, m), m), i8x16.splat(1)), 0);
  }
  const p = f32x4.extract_lane(pos, 0);
  const q = f32x4.extract_lane(neg, 0);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<u8>(y + <usize>i, <u8>(v == p || v == q));
  }
}
