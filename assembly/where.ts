// Where(cond, a, b): y = cond ? a : b with broadcasting over three operands, for elements of 1, 4 or 8
// bytes (any type of that size: bool/uint8/int8, float32/int32, int64). cond is bool (u8; nonzero
// selects a). The table is broadcast.ts's with three operands: [R, dims, cond strides, a strides,
// b strides]. y may alias a or b when that operand is not broadcast.

import { dimAt, outerCount, outerOffset, strideAt } from "./broadcast";

/** One row of D elements of T; contiguous 4-byte rows run SIMD on 4 lanes. */
// @ts-ignore: decorator
@inline function whereRow<T>(c: usize, sc: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, D: i32): void {
  let i = 0;
  if (sizeof<T>() == 4 && sc == 1 && sa == 1 && sb == 1) {
    for (; i + 4 <= D; i += 4) {
      // 4 condition bytes to 4 lane masks
      const m = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(c + <usize>i))), i32x4.splat(0));
      const off = <usize>i << 2;
      v128.store(y + off, v128.bitselect(v128.load(a + off), v128.load(b + off), m));
    }
  }
  const stepC = <usize>sc;
  const stepA = <usize>sa * sizeof<T>();
  const stepB = <usize>sb * sizeof<T>();
  c += <usize>i * stepC;
  a += <usize>i * stepA;
  b += <usize>i * stepB;
  y += <usize>i * sizeof<T>();
  for (; i < D; i++) {
    store<T>(y, load<u8>(c) != 0 ? load<T>(a) : load<T>(b));
    c += stepC;
    a += stepA;
    b += stepB;
    y += sizeof<T>();
  }
}

// @ts-ignore: decorator
@inline function where<T>(cond: usize, a: usize, b: usize, y: usize, rows: i32, table: usize): void {
  const R = load<i32>(table);
  if (rows <= 0 || R < 1) return;
  const D = dimAt(table, R - 1, rows);
  if (D <= 0) return;
  const sc = strideAt(table, 0, R - 1);
  const sa = strideAt(table, 1, R - 1);
  const sb = strideAt(table, 2, R - 1);
  if (R == 1) {
    whereRow<T>(cond, sc, a, sa, b, sb, y, D);
    return;
  }
  const m = R - 2;
  const dm = dimAt(table, m, rows);
  const stepC = <usize>strideAt(table, 0, m);
  const stepA = <usize>strideAt(table, 1, m) * sizeof<T>();
  const stepB = <usize>strideAt(table, 2, m) * sizeof<T>();
  const rowBytes = <usize>D * sizeof<T>();
  const outer = outerCount(table, m, rows);
  for (let t = 0; t < outer; t++) {
    let pc = cond + <usize>outerOffset(table, 0, m, t, rows);
    let pa = a + <usize>outerOffset(table, 1, m, t, rows) * sizeof<T>();
    let pb = b + <usize>outerOffset(table, 2, m, t, rows) * sizeof<T>();
    for (let i = 0; i < dm; i++) {
      whereRow<T>(pc, sc, pa, sa, pb, sb, y, D);
      y += rowBytes;
      pc += stepC;
      pa += stepA;
      pb += stepB;
    }
  }
}

export function where_8bit(cond: usize, a: usize, b: usize, y: usize, rows: i32, table: usize): void { where<u8>(cond, a, b, y, rows, table); }
export function where_32bit(cond: usize, a: usize, b: usize, y: usize, rows: i32, table: usize): void { where<u32>(cond, a, b, y, rows, table); }
export function where_64bit(cond: usize, a: usize, b: usize, y: usize, rows: i32, table: usize): void { where<u64>(cond, a, b, y, rows, table); }
