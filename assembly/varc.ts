// asin, acos, atan of float32 vectors, computed in f64 and rounded once (within ~0.5 ulp of the
// correctly rounded float32). Polynomials fitted (Chebyshev, then checked against 50-digit references)
// to < 1e-12 absolute on the reduced ranges: asin on [0, 1/2] and, above, through
// asin a = π/2 − 2·asin(sqrt((1 − a)/2)); atan on [0, tan(π/8)] after atan a = π/4 + atan((a−1)/(a+1))
// or π/2 − atan(1/a). NaN gives NaN; |x| > 1 gives NaN for asin/acos; atan(±Inf) = ±π/2.

import { dcopysign, dmadd, dsplat, hi64, join64, lo64 } from "./vmath64";

const PIO2: f64 = 1.5707963267948966;
const PIO4: f64 = 0.7853981633974483;
const PI: f64 = 3.141592653589793;

/** t + t·z·P(z) ≈ asin t for z = t² <= 1/4 (|P error| < 1e-12). */
// @ts-ignore: decorator
@inline function asinPoly(t: v128, z: v128): v128 {
  let p = dsplat(0.02834674523183333);
  p = dmadd(p, z, dsplat(0.001067506315036312));
  p = dmadd(p, z, dsplat(0.01686409027396012));
  p = dmadd(p, z, dsplat(0.016902683886393575));
  p = dmadd(p, z, dsplat(0.022412417726695433));
  p = dmadd(p, z, dsplat(0.030379945210024933));
  p = dmadd(p, z, dsplat(0.044642906474584965));
  p = dmadd(p, z, dsplat(0.07499999953429712));
  p = dmadd(p, z, dsplat(0.16666666666738633));
  return dmadd(f64x2.mul(t, z), p, t);
}

/** u + u·z·Q(z) ≈ atan u for z = u² <= tan²(π/8). */
// @ts-ignore: decorator
@inline function atanPoly(u: v128): v128 {
  const z = f64x2.mul(u, u);
  let p = dsplat(0.03295679541870136);
  p = dmadd(p, z, dsplat(-0.06027307460946675));
  p = dmadd(p, z, dsplat(0.07604800046078292));
  p = dmadd(p, z, dsplat(-0.09084101895346429));
  p = dmadd(p, z, dsplat(0.11110819716745676));
  p = dmadd(p, z, dsplat(-0.142857081103604));
  p = dmadd(p, z, dsplat(0.19999999949854794));
  p = dmadd(p, z, dsplat(-0.33333333333266196));
  return dmadd(f64x2.mul(u, z), p, u);
}

const ASIN: i32 = 0;
const ACOS: i32 = 1;

/** asin or acos of two f64 lanes. */
// @ts-ignore: decorator
@inline function asinAcosHalf(d: v128, which: i32): v128 {
  const a = f64x2.abs(d);
  const small = f64x2.le(a, dsplat(0.5));
  // |d| > 1/2: asin |d| = π/2 − 2·asin t with t = sqrt((1 − |d|)/2) (1 − |d| is exact); NaN past 1.
  const zBig = f64x2.mul(f64x2.sub(dsplat(1.0), a), dsplat(0.5));
  const z = v128.bitselect(f64x2.mul(a, a), zBig, small);
  const t = v128.bitselect(a, f64x2.sqrt(zBig), small);
  const p = asinPoly(t, z);
  if (which == ASIN) {
    return dcopysign(v128.bitselect(p, f64x2.sub(dsplat(PIO2), f64x2.add(p, p)), small), d);
  }
  // acos: π/2 − asin d near 0; 2·asin t for d > 1/2; π − 2·asin t for d < −1/2.
  const twoP = f64x2.add(p, p);
  const big = v128.bitselect(twoP, f64x2.sub(dsplat(PI), twoP), f64x2.gt(d, dsplat(0.0)));
  return v128.bitselect(f64x2.sub(dsplat(PIO2), dcopysign(p, d)), big, small);
}

/** atan of two f64 lanes. */
// @ts-ignore: decorator
@inline function atanHalf(d: v128): v128 {
  const a = f64x2.abs(d);
  const far = f64x2.gt(a, dsplat(2.414213562373095)); // tan(3π/8)
  const mid = f64x2.gt(a, dsplat(0.41421356237309503)); // tan(π/8)
  let u = v128.bitselect(f64x2.div(f64x2.sub(a, dsplat(1.0)), f64x2.add(a, dsplat(1.0))), a, mid);
  u = v128.bitselect(f64x2.div(dsplat(-1.0), a), u, far);
  let base = v128.and(mid, dsplat(PIO4));
  base = v128.bitselect(dsplat(PIO2), base, far);
  return dcopysign(f64x2.add(base, atanPoly(u)), d);
}

function vasinImpl(x: v128): v128 {
  return join64(asinAcosHalf(lo64(x), ASIN), asinAcosHalf(hi64(x), ASIN));
}

// @ts-ignore: decorator
@inline export function vasin(x: v128): v128 {
  return vasinImpl(x);
}

function vacosImpl(x: v128): v128 {
  return join64(asinAcosHalf(lo64(x), ACOS), asinAcosHalf(hi64(x), ACOS));
}

// @ts-ignore: decorator
@inline export function vacos(x: v128): v128 {
  return vacosImpl(x);
}

function vatanImpl(x: v128): v128 {
  return join64(atanHalf(lo64(x)), atanHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vatan(x: v128): v128 {
  return vatanImpl(x);
}
