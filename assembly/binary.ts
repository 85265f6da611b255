// Broadcasting binary kernels: y = a ⊙ b over an output of rank R (1..6).
//
// `table` (i32, written by the compiler): [R, d0, d1, .., d(R-1), as0, .., as(R-1), bs0, .., bs(R-1)]
//   d* = output dims (d0 is ignored and replaced by `rows`, the batch), as*/bs* = element strides of
//   a and b along each output dim (0 = broadcast). y is contiguous row-major over the dims.
// y may alias a or b when that operand is not broadcast (each element is read before it is written).
//
// The innermost dim is a "row"; rows with unit strides run SIMD, a stride-0 operand is splatted, any
// other stride falls back to a scalar loop. Outer dims are walked by one counter plus a div/mod
// decomposition when it wraps, so no index array is needed (no allocation).

import { loadPartial, storePartial, vsplat } from "./vmath";
import {
  BINARY_ADD, BINARY_SUB, BINARY_MUL, BINARY_DIV, BINARY_POW, BINARY_MAX, BINARY_MIN, BINARY_LESS, BINARY_GREATER, BINARY_EQUAL, BINARY_LESS_EQUAL, BINARY_GREATER_EQUAL, BINARY_ADD_I32, BINARY_SUB_I32, BINARY_MUL_I32, BINARY_PRELU,
} from "./generated/abi";


// @ts-ignore: decorator
@inline function vop(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case BINARY_ADD: return f32x4.add(x, y);
    case BINARY_SUB: return f32x4.sub(x, y);
    case BINARY_MUL: return f32x4.mul(x, y);
    case BINARY_DIV: return f32x4.div(x, y);
    case BINARY_MAX: return f32x4.max(x, y);
    case BINARY_MIN: return f32x4.min(x, y);
    case BINARY_LESS: return v128.and(f32x4.lt(x, y), vsplat(1.0));
    case BINARY_GREATER: return v128.and(f32x4.gt(x, y), vsplat(1.0));
    case BINARY_EQUAL: return v128.and(f32x4.eq(x, y), vsplat(1.0));
    case BINARY_LESS_EQUAL: return v128.and(f32x4.le(x, y), vsplat(1.0));
    case BINARY_GREATER_EQUAL: return v128.and(f32x4.ge(x, y), vsplat(1.0));
    case BINARY_ADD_I32: return i32x4.add(x, y);
    case BINARY_SUB_I32: return i32x4.sub(x, y);
    case BINARY_MUL_I32: return i32x4.mul(x, y);
    case BINARY_PRELU: return v128.bitselect(f32x4.mul(x, y), x, f32x4.lt(x, f32x4.splat(0)));
    default: return vpow(x, y);
  }
}

// @ts-ignore: decorator
@inline function sop(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case BINARY_ADD: return x + y;
    case BINARY_SUB: return x - y;
    case BINARY_MUL: return x * y;
    case BINARY_DIV: return x / y;
    case BINARY_MAX: return max<f32>(x, y);
    case BINARY_MIN: return min<f32>(x, y);
    case BINARY_LESS: return x < y ? 1.0 : 0.0;
    case BINARY_GREATER: return x > y ? 1.0 : 0.0;
    case BINARY_EQUAL: return x == y ? 1.0 : 0.0;
    case BINARY_LESS_EQUAL: return x <= y ? 1.0 : 0.0;
    case BINARY_GREATER_EQUAL: return x >= y ? 1.0 : 0.0;
    case BINARY_ADD_I32: return reinterpret<f32>(reinterpret<i32>(x) + reinterpret<i32>(y));
    case BINARY_SUB_I32: return reinterpret<f32>(reinterpret<i32>(x) - reinterpret<i32>(y));
    case BINARY_MUL_I32: return reinterpret<f32>(reinterpret<i32>(x) * reinterpret<i32>(y));
    case BINARY_PRELU: return x < 0 ? x * y : x;
    default: return powf(x, y);
  }
}

// ---- pow -----------------------------------------------------------------------------------------
// Math.pow semantics (JS, not C: pow(±1, ±Inf) and pow(1, NaN) are NaN), computed in f64 and rounded
// once, so integer powers of small integers come out exact. Own exp/log: asc's Math.pow pulls in
// lookup tables as data segments.

// @ts-ignore: decorator
@inline export function exp64(t: f64): f64 {
  // Callers only need an f32 result: clamp where f32 over/underflows anyway.
  if (t > 90.0) return Infinity;
  if (t < -105.0) return 0.0;
  const k = nearest(t * 1.4426950408889634);
  const r = (t - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  // Taylor to r^13: |r| <= 0.347 → error < 1e-17.
  let p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * reinterpret<f64>(<i64>(<i32>k + 1023) << 52);
}

/** ln(x) for finite x > 0 (f64 normal range), ~1e-15 relative. */
// @ts-ignore: decorator
@inline export function log64(x: f64): f64 {
  const bits = reinterpret<i64>(x);
  let e = <i32>(bits >> 52) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000); // [1, 2)
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  // ln m = 2 atanh(f), f = (m-1)/(m+1), |f| <= 0.1716
  const f = (m - 1.0) / (m + 1.0);
  const s = f * f;
  let p = 1.0 / 19.0;
  p = p * s + 1.0 / 17.0;
  p = p * s + 1.0 / 15.0;
  p = p * s + 1.0 / 13.0;
  p = p * s + 1.0 / 11.0;
  p = p * s + 1.0 / 9.0;
  p = p * s + 1.0 / 7.0;
  p = p * s + 1.0 / 5.0;
  p = p * s + 1.0 / 3.0;
  p = p * s + 1.0;
  return <f64>e * 0.6931471805599453 + 2.0 * f * p;
}

export function powf(xf: f32, yf: f32): f32 {
  const x = <f64>xf;
  const y = <f64>yf;
  if (y == 0.0) return 1.0;
  if (isNaN(x) || isNaN(y)) return NaN;
  const ax = abs(x);
  if (!isFinite(y)) {
    if (ax == 1.0) return NaN;
    return (ax > 1.0) == (y > 0.0) ? Infinity : 0.0;
  }
  const yInt = floor(y) == y;
  const yOdd = yInt && floor(y * 0.5) != y * 0.5;
  const negBase = (reinterpret<i64>(x) >> 63) != 0; // includes -0
  if (negBase && !yInt && ax != 0.0 && isFinite(ax)) return NaN;
  let r: f64;
  if (ax == 0.0) r = y > 0.0 ? 0.0 : Infinity;
  else if (!isFinite(ax)) r = y > 0.0 ? Infinity : 0.0;
  else r = exp64(y * log64(ax));
  return <f32>(negBase && yOdd ? -r : r);
}

// @ts-ignore: decorator
@inline function vpow(x: v128, y: v128): v128 {
  let r = f32x4.splat(powf(f32x4.extract_lane(x, 0), f32x4.extract_lane(y, 0)));
  r = f32x4.replace_lane(r, 1, powf(f32x4.extract_lane(x, 1), f32x4.extract_lane(y, 1)));
  r = f32x4.replace_lane(r, 2, powf(f32x4.extract_lane(x, 2), f32x4.extract_lane(y, 2)));
  r = f32x4.replace_lane(r, 3, powf(f32x4.extract_lane(x, 3), f32x4.extract_lane(y, 3)));
  return r;
}

// ---- rows ----------------------------------------------------------------------------------------

/** One innermost row of D outputs; sa/sb are element strides. */
// @ts-ignore: decorator
@inline function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, D: i32): void {
  const end4 = <usize>(D & ~3) << 2;
  const rest = D & 3;
  let off: usize = 0;
  if (sa == 1 && sb == 1) {
    for (; off < end4; off += 16) v128.store(y + off, vop(op, v128.load(a + off), v128.load(b + off)));
    if (rest != 0) storePartial(y + off, vop(op, loadPartial(a + off, rest), loadPartial(b + off, rest)), rest);
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    if (op == BINARY_POW && f32x4.extract_lane(vb, 0) == 2.0) {
      // x^2, the common Pow in normalisation layers: exact and SIMD.
      for (; off < end4; off += 16) { const va = v128.load(a + off); v128.store(y + off, f32x4.mul(va, va)); }
      if (rest != 0) { const va = loadPartial(a + off, rest); storePartial(y + off, f32x4.mul(va, va), rest); }
      return;
    }
    for (; off < end4; off += 16) v128.store(y + off, vop(op, v128.load(a + off), vb));
    if (rest != 0) storePartial(y + off, vop(op, loadPartial(a + off, rest), vb), rest);
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (; off < end4; off += 16) v128.store(y + off, vop(op, va, v128.load(b + off)));
    if (rest != 0) storePartial(y + off, vop(op, va, loadPartial(b + off, rest)), rest);
  } else {
    const stepA = <usize>sa << 2;
    const stepB = <usize>sb << 2;
    const yEnd = y + (<usize>D << 2);
    while (y < yEnd) {
      store<f32>(y, sop(op, load<f32>(a), load<f32>(b)));
      a += stepA;
      b += stepB;
      y += 4;
    }
  }
}

// @ts-ignore: decorator
@inline export function binaryKernel(op: i32, a: usize, b: usize, y: usize, rows: i32, table: usize): void {
  const R = load<i32>(table);
  const dims = table + 4;
  const stridesA = dims + (<usize>R << 2);
  const stridesB = stridesA + (<usize>R << 2);
  const last = <usize>(R - 1) << 2;
  const D = R == 1 ? rows : load<i32>(dims + last);
  const sa = load<i32>(stridesA + last);
  const sb = load<i32>(stridesB + last);
  if (D <= 0 || rows <= 0) return;
  if (R == 1) {
    binaryRow(op, a, sa, b, sb, y, D);
    return;
  }
  // Dim m = R-2 is walked by a counter; dims 0..m-1 are decomposed from `outer` on each wrap.
  const m = R - 2;
  const mOff = <usize>m << 2;
  const dm = m == 0 ? rows : load<i32>(dims + mOff);
  const stepA = <usize>load<i32>(stridesA + mOff) << 2;
  const stepB = <usize>load<i32>(stridesB + mOff) << 2;
  let outerCount = 1;
  for (let j = 0; j < m; j++) outerCount *= j == 0 ? rows : load<i32>(dims + (<usize>j << 2));
  const rowBytes = <usize>D << 2;
  for (let outer = 0; outer < outerCount; outer++) {
    let t = outer;
    let pa = a;
    let pb = b;
    for (let j = m - 1; j >= 0; j--) {
      const jOff = <usize>j << 2;
      const d = j == 0 ? rows : load<i32>(dims + jOff);
      const q = t / d;
      const idx = t - q * d;
      pa += <usize>(idx * load<i32>(stridesA + jOff)) << 2;
      pb += <usize>(idx * load<i32>(stridesB + jOff)) << 2;
      t = q;
    }
    for (let i = 0; i < dm; i++) {
      binaryRow(op, pa, sa, pb, sb, y, D);
      y += rowBytes;
      pa += stepA;
      pb += stepB;
    }
  }
}

