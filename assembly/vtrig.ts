// sin, cos, tan of float32 vectors, computed in f64 and rounded once (within ~0.5 ulp of the correctly
// rounded float32 for every finite x). Reduction by π/2 (pio2.ts): three-part Cody–Waite on the vector
// for |x| < 5e7; a vector with a larger finite lane is reduced lane by lane, with Payne–Hanek for the
// large ones (the small lanes get the same bits either way). Then Taylor polynomials on |r| <= π/4
// (truncation < 1e-13 relative). NaN and ±Inf give NaN; sin/tan keep the sign of ±0.

import { dmadd, dsplat, hi64, join64, lo64, ROUND_MAGIC } from "./vmath64";
import { PIO2_1, PIO2_2, PIO2_3, reducePio2, REDUCE_FAST_LIMIT, TWO_OVER_PI } from "./pio2";

const SIN: i32 = 0;
const COS: i32 = 1;
const TAN: i32 = 2;

/** sin/cos/tan from the reduced r (f64 lanes) and quadrant q (i64 lanes; only the low 2 bits matter). */
// @ts-ignore: decorator
@inline function fromQuadrant(r: v128, q: v128, which: i32): v128 {
  const z = f64x2.mul(r, r);
  let s = dsplat(1.0 / 6227020800.0);
  s = dmadd(s, z, dsplat(-1.0 / 39916800.0));
  s = dmadd(s, z, dsplat(1.0 / 362880.0));
  s = dmadd(s, z, dsplat(-1.0 / 5040.0));
  s = dmadd(s, z, dsplat(1.0 / 120.0));
  s = dmadd(s, z, dsplat(-1.0 / 6.0));
  s = dmadd(f64x2.mul(r, z), s, r); // sin r
  let c = dsplat(1.0 / 479001600.0);
  c = dmadd(c, z, dsplat(-1.0 / 3628800.0));
  c = dmadd(c, z, dsplat(1.0 / 40320.0));
  c = dmadd(c, z, dsplat(-1.0 / 720.0));
  c = dmadd(c, z, dsplat(1.0 / 24.0));
  c = dmadd(c, z, dsplat(-0.5));
  c = dmadd(c, z, dsplat(1.0)); // cos r
  if (which == COS) q = i64x2.add(q, i64x2.splat(1)); // cos x = sin(x + π/2)
  const odd = i64x2.eq(v128.and(q, i64x2.splat(1)), i64x2.splat(1));
  if (which == TAN) return v128.bitselect(f64x2.neg(f64x2.div(c, s)), f64x2.div(s, c), odd);
  const v = v128.bitselect(c, s, odd);
  const neg = i64x2.eq(v128.and(q, i64x2.splat(2)), i64x2.splat(2));
  return v128.xor(v, v128.and(neg, i64x2.splat(0x8000000000000000)));
}

/** r and q for two f64 lanes with |x| < REDUCE_FAST_LIMIT: the same operations as reducePio2's. */
// @ts-ignore: decorator
@inline function trigHalf(d: v128, which: i32): v128 {
  const k = f64x2.nearest(f64x2.mul(d, dsplat(TWO_OVER_PI)));
  const r = f64x2.sub(f64x2.sub(f64x2.sub(d, f64x2.mul(k, dsplat(PIO2_1))), f64x2.mul(k, dsplat(PIO2_2))), f64x2.mul(k, dsplat(PIO2_3)));
  return fromQuadrant(r, f64x2.add(k, dsplat(ROUND_MAGIC)), which);
}

/** Two lanes reduced one at a time (any finite or non-finite values). */
// @ts-ignore: decorator
@inline function trigLanes(a: f32, b: f32, which: i32): v128 {
  const ra = reducePio2(a);
  const rb = reducePio2(b);
  const r = f64x2.replace_lane(f64x2.splat(f64x2.extract_lane(ra, 0)), 1, f64x2.extract_lane(rb, 0));
  const q = i64x2.replace_lane(i64x2.splat(<i64>f64x2.extract_lane(ra, 1)), 1, <i64>f64x2.extract_lane(rb, 1));
  return fromQuadrant(r, q, which);
}

// @ts-ignore: decorator
@inline function trig(x: v128, which: i32): v128 {
  const ax = f32x4.abs(x);
  const large = v128.and(f32x4.ge(ax, f32x4.splat(REDUCE_FAST_LIMIT)), f32x4.ne(ax, f32x4.splat(Infinity)));
  let y: v128;
  if (!v128.any_true(large)) {
    y = join64(trigHalf(lo64(x), which), trigHalf(hi64(x), which));
  } else {
    y = join64(
      trigLanes(f32x4.extract_lane(x, 0), f32x4.extract_lane(x, 1), which),
      trigLanes(f32x4.extract_lane(x, 2), f32x4.extract_lane(x, 3), which),
    );
  }
  // x − k·P1 turns −0 into +0: sin and tan of ±0 are x itself.
  if (which != COS) y = v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(0.0)));
  return y;
}

function vsinImpl(x: v128): v128 {
  return trig(x, SIN);
}

// @ts-ignore: decorator
@inline export function vsin(x: v128): v128 {
  return vsinImpl(x);
}

function vcosImpl(x: v128): v128 {
  return trig(x, COS);
}

// @ts-ignore: decorator
@inline export function vcos(x: v128): v128 {
  return vcosImpl(x);
}

function vtanImpl(x: v128): v128 {
  return trig(x, TAN);
}

// @ts-ignore: decorator
@inline export function vtan(x: v128): v128 {
  return vtanImpl(x);
}
