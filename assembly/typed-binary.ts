// Broadcasting binary kernels over typed elements (compare.ts, integer.ts): y = a ⊙ b with a of element
// type T, b of type B (T, except Pow's mixed float/integer forms) and y of type Y (u8 0/1 for comparisons
// and logic, T otherwise), over a broadcast table (broadcast.ts; strides in elements). y may alias an operand that is not broadcast and has y's element
// type. Rows whose operands are contiguous or scalar run SIMD where the op and type allow (comparisons of
// f32/i32, logic on u8, i32 add/sub/mul/min/max); everything else, and every tail, runs the scalar op.

import { dimAt, outerCount, outerOffset, strideAt } from "./broadcast";
import { floatPowInt, fmodf, intDiv, intFmod, intMod, intPow64, intPowFloat } from "./intmath";

export const OP_LESS: i32 = 0;
export const OP_GREATER: i32 = 1;
export const OP_EQUAL: i32 = 2;
export const OP_LESS_EQUAL: i32 = 3;
export const OP_GREATER_EQUAL: i32 = 4;
export const OP_AND: i32 = 5;
export const OP_OR: i32 = 6;
export const OP_XOR: i32 = 7;
export const OP_ADD: i32 = 8;
export const OP_SUB: i32 = 9;
export const OP_MUL: i32 = 10;
export const OP_DIV: i32 = 11;
export const OP_MIN: i32 = 12;
export const OP_MAX: i32 = 13;
export const OP_MOD: i32 = 14;
export const OP_FMOD: i32 = 15;
export const OP_POW: i32 = 16;
export const OP_SHL: i32 = 17;
export const OP_SHR: i32 = 18;

/** One element. `op` is a constant at every call site: only its case is compiled in. */
// @ts-ignore: decorator
@inline function elementOp<T, B, Y>(op: i32, x: T, y: B): Y {
  if (isFloat<T>() != isFloat<B>()) {
    // Pow with a float base and an integer exponent or the reverse (y has x's type).
    if (isFloat<T>()) return <Y>floatPowInt(<f32>x, <i64>y);
    else return <Y>intPowFloat(<i64>x, <f32>y, sizeof<T>() == 8 ? 64 : 32);
  } else {
    switch (op) {
      case OP_LESS: return <Y>(x < y);
      case OP_GREATER: return <Y>(x > y);
      case OP_EQUAL: return <Y>(x == y);
      case OP_LESS_EQUAL: return <Y>(x <= y);
      case OP_GREATER_EQUAL: return <Y>(x >= y);
      case OP_ADD: return <Y>(x + y);
      case OP_SUB: return <Y>(x - y);
      case OP_MUL: return <Y>(x * y);
      case OP_MIN: return <Y>(x < y ? x : y);
      case OP_MAX: return <Y>(x > y ? x : y);
      default: break;
    }
    if (isFloat<T>()) {
      // Mod with fmod = 1 is the only one of the rest ONNX defines on floats.
      return <Y>fmodf(<f32>x, <f32>y);
    } else {
      switch (op) {
        case OP_AND: return <Y>(x & <T>y);
        case OP_OR: return <Y>(x | <T>y);
        case OP_XOR: return <Y>(x ^ <T>y);
        case OP_DIV: return <Y>intDiv<T>(x, <T>y);
        case OP_MOD: return <Y>intMod<T>(x, <T>y);
        case OP_FMOD: return <Y>intFmod<T>(x, <T>y);
        // BitShift: a shift by the type's width or more gives 0 (numpy's rule; C leaves it undefined).
        case OP_SHL: return <Y>(<u64>y >= <u64>(sizeof<T>() << 3) ? <T>0 : <T>(x << <T>y));
        case OP_SHR: return <Y>(<u64>y >= <u64>(sizeof<T>() << 3) ? <T>0 : <T>(x >> <T>y));
        default: return <Y>intPow64(<i64>x, <i64>y, sizeof<T>() == 8 ? 64 : 32);
      }
    }
  }
}

/** Whether (op, T, Y) has a vector form below. */
// @ts-ignore: decorator
@inline function hasVector<T, B, Y>(op: i32): bool {
  if (isFloat<T>() != isFloat<B>()) return false;
  if (op <= OP_GREATER_EQUAL) return sizeof<T>() == 4; // f32 and i32 comparisons
  if (op <= OP_XOR) return sizeof<T>() == 1;
  if (op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_MIN || op == OP_MAX) return isInteger<T>() && sizeof<T>() == 4;
  return false;
}

/** 4 comparison masks of 32-bit lanes, or 16 u8 logic results, or 4 i32 results. */
// @ts-ignore: decorator
@inline function vectorOp<T>(op: i32, x: v128, y: v128): v128 {
  if (isFloat<T>()) {
    switch (op) {
      case OP_LESS: return f32x4.lt(x, y);
      case OP_GREATER: return f32x4.gt(x, y);
      case OP_EQUAL: return f32x4.eq(x, y);
      case OP_LESS_EQUAL: return f32x4.le(x, y);
      default: return f32x4.ge(x, y);
    }
  }
  switch (op) {
    case OP_LESS: return i32x4.lt_s(x, y);
    case OP_GREATER: return i32x4.gt_s(x, y);
    case OP_EQUAL: return i32x4.eq(x, y);
    case OP_LESS_EQUAL: return i32x4.le_s(x, y);
    case OP_GREATER_EQUAL: return i32x4.ge_s(x, y);
    case OP_AND: return v128.and(x, y);
    case OP_OR: return v128.or(x, y);
    case OP_XOR: return v128.xor(x, y);
    case OP_ADD: return i32x4.add(x, y);
    case OP_SUB: return i32x4.sub(x, y);
    case OP_MUL: return i32x4.mul(x, y);
    case OP_MIN: return i32x4.min_s(x, y);
    default: return i32x4.max_s(x, y);
  }
}

/**
 * The vector part of a row whose operands each have stride 1 or 0 (not both 0); returns how many
 * elements it wrote (a multiple of the vector width), the caller does the rest.
 */
// @ts-ignore: decorator
@inline function vectorRow<T, B, Y>(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, D: i32): i32 {
  if (!hasVector<T, B, Y>(op) || (sa | sb) > 1 || (sa | sb) < 0 || (sa == 0 && sb == 0)) return 0;
  const W = 16 / sizeof<T>(); // lanes per vector
  const n = D & ~(W - 1);
  const va0 = sizeof<T>() == 1 ? v128.load8_splat(a) : v128.load32_splat(a);
  const vb0 = sizeof<T>() == 1 ? v128.load8_splat(b) : v128.load32_splat(b);
  for (let i = 0; i < n; i += W) {
    const off = <usize>i * sizeof<T>();
    const va = sa == 0 ? va0 : v128.load(a + off);
    const vb = sb == 0 ? vb0 : v128.load(b + off);
    const r = vectorOp<T>(op, va, vb);
    if (op <= OP_GREATER_EQUAL) {
      // 4 masks (−1/0) to 4 bytes of 0/1
      const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(r, r), r);
      v128.store32_lane(y + <usize>i, v128.and(bytes, i8x16.splat(1)), 0);
    } else {
      v128.store(y + <usize>i * sizeof<Y>(), r);
    }
  }
  return n;
}

// @ts-ignore: decorator
@inline function row<T, B, Y>(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, D: i32): void {
  const done = vectorRow<T, B, Y>(op, a, sa, b, sb, y, D);
  const stepA = <usize>sa * sizeof<T>();
  const stepB = <usize>sb * sizeof<B>();
  a += <usize>done * stepA;
  b += <usize>done * stepB;
  y += <usize>done * sizeof<Y>();
  for (let i = done; i < D; i++) {
    store<Y>(y, elementOp<T, B, Y>(op, load<T>(a), load<B>(b)));
    a += stepA;
    b += stepB;
    y += sizeof<Y>();
  }
}

/** y = a ⊙ b over the broadcast table (operands 0 = a, 1 = b). */
// @ts-ignore: decorator
@inline export function typedBinary<T, B, Y>(op: i32, a: usize, b: usize, y: usize, rows: i32, table: usize): void {
  const R = load<i32>(table);
  if (rows <= 0 || R < 1) return;
  const D = dimAt(table, R - 1, rows);
  if (D <= 0) return;
  const sa = strideAt(table, 0, R - 1);
  const sb = strideAt(table, 1, R - 1);
  if (R == 1) {
    row<T, B, Y>(op, a, sa, b, sb, y, D);
    return;
  }
  const m = R - 2;
  const dm = dimAt(table, m, rows);
  const stepA = <usize>strideAt(table, 0, m) * sizeof<T>();
  const stepB = <usize>strideAt(table, 1, m) * sizeof<B>();
  const rowBytes = <usize>D * sizeof<Y>();
  const outer = outerCount(table, m, rows);
  for (let t = 0; t < outer; t++) {
    let pa = a + <usize>outerOffset(table, 0, m, t, rows) * sizeof<T>();
    let pb = b + <usize>outerOffset(table, 1, m, t, rows) * sizeof<B>();
    for (let i = 0; i < dm; i++) {
      row<T, B, Y>(op, pa, sa, pb, sb, y, D);
      y += rowBytes;
      pa += stepA;
      pb += stepB;
    }
  }
}
