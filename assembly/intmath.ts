// Scalar arithmetic with ONNX semantics that wasm instructions do not give directly, for integer types
// T (i8, u8, i32, i64) and float32: division that never traps, Mod (fmod = 0 and 1), exact C fmod on
// floats, and Pow on integers. onnxruntime stops with an error on an integer division or modulo by zero;
// a kernel cannot, so those give 0 (numpy's result).

import { exp64, log64 } from "./binary";

/** x / y truncated toward zero; y = 0 gives 0, MIN / −1 wraps to MIN. */
// @ts-ignore: decorator
@inline export function intDiv<T>(x: T, y: T): T {
  if (y == <T>0) return <T>0;
  if (isSigned<T>() && y == <T>-1) return <T>(<T>0 - x);
  return x / y;
}

/** C's x % y (the sign of x, Mod with fmod = 1); y = 0 gives 0. */
// @ts-ignore: decorator
@inline export function intFmod<T>(x: T, y: T): T {
  if (y == <T>0) return <T>0;
  if (isSigned<T>() && y == <T>-1) return <T>0; // i32/i64 rem_s(MIN, −1) is 0 too; this keeps i8 in line
  return x % y;
}

/** x mod y with the sign of y (Mod with fmod = 0, Python's %); y = 0 gives 0. */
// @ts-ignore: decorator
@inline export function intMod<T>(x: T, y: T): T {
  const r = intFmod<T>(x, y);
  if (isSigned<T>() && r != <T>0 && (r ^ y) < <T>0) return <T>(r + y);
  return r;
}

const TWO_63: f64 = 9223372036854775808.0;

/**
 * |x|^n for n >= 0 as an unsigned magnitude, saturating at 2^63 (every larger magnitude is out of range
 * for any signed result).
 */
function powMagnitude(m: u64, n: u64): u64 {
  const LIMIT: u64 = 0x8000000000000000;
  let result: u64 = 1;
  while (n != 0) {
    if (n & 1) result = m != 0 && result > LIMIT / m ? LIMIT : min(result * m, LIMIT);
    n >>= 1;
    if (n != 0) m = m > 0xffffffff ? LIMIT : min(m * m, LIMIT);
  }
  return result;
}

/**
 * Pow(x, n) for integer x and n as onnxruntime computes it (std::pow in double, converted back to the
 * integer type): exact while the power fits, rounded to double past 2^53 (int64), and the integer
 * "indefinite" value MIN where the double is out of range or infinite (0 to a negative power).
 * Negative n: 1, ±1 for x = ±1, else 0 (|x^n| < 1 truncates).
 */
export function intPow64(x: i64, n: i64, bits: i32): i64 {
  const MIN: i64 = bits == 64 ? i64.MIN_VALUE : <i64>i32.MIN_VALUE;
  if (n == 0) return 1;
  if (n < 0) {
    if (x == 1) return 1;
    if (x == -1) return (n & 1) != 0 ? -1 : 1;
    return x == 0 ? MIN : 0;
  }
  const m = powMagnitude(x < 0 ? <u64>(0 - x) : <u64>x, <u64>n);
  if (m >= 0x8000000000000000) return MIN;
  const v = x < 0 && (n & 1) != 0 ? -<i64>m : <i64>m;
  if (bits == 64) {
    const d = <f64>v; // round to double as std::pow's result is
    return d >= TWO_63 ? MIN : <i64>d;
  }
  return v >= <i64>i32.MIN_VALUE && v <= <i64>i32.MAX_VALUE ? v : MIN;
}

/** Truncates a double toward zero into `bits` (32 or 64) as x86's cvttsd2si: MIN for NaN and out of range. */
// @ts-ignore: decorator
@inline export function truncIndefinite(d: f64, bits: i32): i64 {
  if (bits == 64) return d >= -TWO_63 && d < TWO_63 ? <i64>d : i64.MIN_VALUE;
  return d > -2147483649.0 && d < 2147483648.0 ? <i64>d : <i64>i32.MIN_VALUE;
}

/** C's fmod for float32, exact (the result is always representable): sign of x, NaN for x = ±Inf or y = 0. */
export function fmodf(x: f32, y: f32): f32 {
  if (isNaN(x) || isNaN(y) || !isFinite(x) || y == 0) return NaN;
  const ay = <f64>abs(y);
  let r = <f64>abs(x);
  if (r < ay) return x; // also y = ±Inf
  // Each step removes a multiple q·s of s = ay·2^e with q < 2^29, so q·s (24 + 29 bits) and r − q·s are
  // exact in f64; q may come out one too large from rounding r/s, never too small.
  const ey = <i32>(reinterpret<u64>(ay) >> 52);
  while (r >= ay) {
    const e = <i32>(reinterpret<u64>(r) >> 52) - ey - 28;
    const s = e > 0 ? ay * reinterpret<f64>(<u64>(1023 + e) << 52) : ay;
    const q = trunc(r / s);
    r -= q * s;
    if (r < 0) r += s;
  }
  return <f32>copysign<f64>(r, <f64>x);
}

/**
 * Pow(x, y) for an integer x and float32 y, as onnxruntime (std::pow in double, then to the integer type
 * with truncation; NaN and out of range give MIN). Integer y is exact; y with 2y integer goes through
 * sqrt (exact for perfect squares, so 4^0.5 is 2); other y through exp(y·ln|x|) (~1e-15 relative).
 */
export function intPowFloat(x: i64, y: f32, bits: i32): i64 {
  const yd = <f64>y;
  if (isNaN(yd)) return x == 1 ? 1 : bits == 64 ? i64.MIN_VALUE : <i64>i32.MIN_VALUE;
  if (trunc(yd) == yd && abs(yd) < 9.2e18) return intPow64(x, <i64>yd, bits);
  const xd = <f64>x;
  if (!isFinite(yd)) {
    const ax = abs(xd);
    return truncIndefinite(ax == 1 ? 1.0 : (ax > 1) == (yd > 0) ? Infinity : 0.0, bits);
  }
  if (x < 0) return truncIndefinite(NaN, bits); // negative base, fractional exponent
  if (x == 0) return yd > 0 ? 0 : truncIndefinite(Infinity, bits);
  let r: f64;
  const twice = yd * 2.0;
  if (trunc(twice) == twice) {
    // x^(k/2) = sqrt(x)^k, k odd
    const root = sqrt(xd);
    let k = <i64>abs(twice);
    let base = root;
    r = 1.0;
    while (k != 0) {
      if (k & 1) r *= base;
      k >>= 1;
      if (k != 0) base *= base;
    }
    if (yd < 0) r = 1.0 / r;
  } else {
    r = exp64(yd * log64(xd));
  }
  return truncIndefinite(r, bits);
}

/** Pow(x, n) for float32 x and an integer n: x^|n| by squaring in f64 (then 1/·), rounded once to f32. */
export function floatPowInt(x: f32, n: i64): f32 {
  let k: u64 = n < 0 ? <u64>(0 - n) : <u64>n;
  let base = <f64>x;
  let r = 1.0;
  while (k != 0) {
    if (k & 1) r *= base;
    k >>= 1;
    if (k != 0) base *= base;
  }
  return <f32>(n < 0 ? 1.0 / r : r);
}
