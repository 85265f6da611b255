// Casts between the element types of run-time tensors: float32 (f32), int64 (i64), int32 (i32),
// uint8 and bool (u8), int8 (i8); y[i] = cast(x[i]) for n elements, x and y not overlapping unless they
// have the same element size (then x == y is allowed). Semantics as onnxruntime on x86 (checked with
// onnxruntime-node 1.30):
//   float → int32/int64: truncation toward zero; NaN, ±Inf and out-of-range values give the type's MIN
//     (x86's "integer indefinite", not saturation); float → int8/uint8: through int32, then the low 8 bits.
//   int64 → float: rounded to nearest (correctly, not through double); int32 → float likewise.
//   int → narrower int: the low bits (wrapping); int → wider int: sign- or zero-extended by the source.
//   any → bool: x ≠ 0 (NaN is true, −0 false); bool → any: as uint8 (0/1).

import { truncIndefinite } from "./intmath";

/** f32 → i32 with MIN for NaN and out of range, 4 lanes. */
// @ts-ignore: decorator
@inline function vtruncIndefinite(v: v128): v128 {
  // trunc_sat gives MIN below −2^31 already; NaN (0) and >= 2^31 (MAX) become MIN.
  const ok = f32x4.lt(v, f32x4.splat(2147483648.0));
  return v128.bitselect(i32x4.trunc_sat_f32x4_s(v), i32x4.splat(i32.MIN_VALUE), ok);
}

// @ts-ignore: decorator
@inline function castLoop<S, D>(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (isFloat<S>() && sizeof<D>() == 4 && isInteger<D>()) {
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), vtruncIndefinite(v128.load(x + (<usize>i << 2))));
  } else if (isInteger<S>() && sizeof<S>() == 4 && isFloat<D>()) {
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.convert_i32x4_s(v128.load(x + (<usize>i << 2))));
  } else if (sizeof<S>() == 1 && isFloat<D>()) {
    for (; i + 4 <= n; i += 4) {
      const b = v128.load32_zero(x + <usize>i);
      const w = isSigned<S>() ? i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(b)) : i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b));
      v128.store(y + (<usize>i << 2), f32x4.convert_i32x4_s(w));
    }
  }
  for (; i < n; i++) {
    const v = load<S>(x + <usize>i * sizeof<S>());
    let r: D;
    if (isFloat<S>() && isInteger<D>()) {
      r = <D>truncIndefinite(<f64>v, sizeof<D>() == 8 ? 64 : 32);
    } else {
      r = <D>v;
    }
    store<D>(y + <usize>i * sizeof<D>(), r);
  }
}

/** y[i] = x[i] ≠ 0 as bool (u8 0/1). */
// @ts-ignore: decorator
@inline function toBool<S>(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (isFloat<S>()) {
    for (; i + 4 <= n; i += 4) {
      const m = f32x4.ne(v128.load(x + (<usize>i << 2)), f32x4.splat(0));
      v128.store32_lane(y + <usize>i, v128.and(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m, m), m), i8x16.splat(1)), 0);
    }
  }
  for (; i < n; i++) store<u8>(y + <usize>i, <u8>(load<S>(x + <usize>i * sizeof<S>()) != <S>0));
}


export function cast_f32_i32(x: usize, y: usize, n: i32): void { castLoop<f32, i32>(x, y, n); }
export function cast_f32_i64(x: usize, y: usize, n: i32): void { castLoop<f32, i64>(x, y, n); }
export function cast_f32_u8(x: usize, y: usize, n: i32): void { castLoop<f32, u8>(x, y, n); }
export function cast_f32_i8(x: usize, y: usize, n: i32): void { castLoop<f32, i8>(x, y, n); }
export function cast_f32_bool(x: usize, y: usize, n: i32): void { toBool<f32>(x, y, n); }

export function cast_i32_f32(x: usize, y: usize, n: i32): void { castLoop<i32, f32>(x, y, n); }
export function cast_i32_i64(x: usize, y: usize, n: i32): void { castLoop<i32, i64>(x, y, n); }
export function cast_i32_u8(x: usize, y: usize, n: i32): void { castLoop<i32, u8>(x, y, n); }
export function cast_i32_i8(x: usize, y: usize, n: i32): void { castLoop<i32, i8>(x, y, n); }
export function cast_i32_bool(x: usize, y: usize, n: i32): void { toBool<i32>(x, y, n); }

export function cast_i64_f32(x: usize, y: usize, n: i32): void { castLoop<i64, f32>(x, y, n); }
export function cast_i64_i32(x: usize, y: usize, n: i32): void { castLoop<i64, i32>(x, y, n); }
export function cast_i64_u8(x: usize, y: usize, n: i32): void { castLoop<i64, u8>(x, y, n); }
export function cast_i64_i8(x: usize, y: usize, n: i32): void { castLoop<i64, i8>(x, y, n); }
export function cast_i64_bool(x: usize, y: usize, n: i32): void { toBool<i64>(x, y, n); }

export function cast_u8_f32(x: usize, y: usize, n: i32): void { castLoop<u8, f32>(x, y, n); }
export function cast_u8_i32(x: usize, y: usize, n: i32): void { castLoop<u8, i32>(x, y, n); }
export function cast_u8_i64(x: usize, y: usize, n: i32): void { castLoop<u8, i64>(x, y, n); }
export function cast_u8_i8(x: usize, y: usize, n: i32): void { castLoop<u8, i8>(x, y, n); }
export function cast_u8_bool(x: usize, y: usize, n: i32): void { toBool<u8>(x, y, n); }

export function cast_i8_f32(x: usize, y: usize, n: i32): void { castLoop<i8, f32>(x, y, n); }
export function cast_i8_i32(x: usize, y: usize, n: i32): void { castLoop<i8, i32>(x, y, n); }
export function cast_i8_i64(x: usize, y: usize, n: i32): void { castLoop<i8, i64>(x, y, n); }
export function cast_i8_u8(x: usize, y: usize, n: i32): void { castLoop<i8, u8>(x, y, n); }
export function cast_i8_bool(x: usize, y: usize, n: i32): void { toBool<i8>(x, y, n); }

/** y[i] = table[idx[i]] as f32: class indices to their numeric class values. */
export function lookup_f32(idx: usize, table: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), load<f32>(table + (<usize>load<i32>(idx + (<usize>i << 2)) << 2)));
}
