// sinh, cosh, asinh, acosh, atanh of float32 vectors, computed in f64 and rounded once (within ~0.5 ulp
// of the correctly rounded float32): sinh by its Taylor series below |x| = 1/2 and (e − 1/e)/2 above;
// the inverses through log1p forms that stay relative-accurate near 0 (asinh, atanh) and near 1 (acosh).
// Overflow rounds to ±Inf; NaN gives NaN; acosh below 1 and atanh beyond ±1 give NaN, atanh(±1) = ±Inf.

import { dcopysign, dexp, dlog, dlog1p, dmadd, dsplat, hi64, join64, lo64 } from "./vmath64";

/** Beyond this, x² + 1 = x² in f64: asinh x = acosh x = ln 2x. */
const HUGE: f64 = 268435456.0; // 2^28

// @ts-ignore: decorator
@inline function sinhHalf(d: v128): v128 {
  const a = f64x2.abs(d);
  const z = f64x2.mul(a, a);
  let p = dsplat(1.0 / 6227020800.0);
  p = dmadd(p, z, dsplat(1.0 / 39916800.0));
  p = dmadd(p, z, dsplat(1.0 / 362880.0));
  p = dmadd(p, z, dsplat(1.0 / 5040.0));
  p = dmadd(p, z, dsplat(1.0 / 120.0));
  p = dmadd(p, z, dsplat(1.0 / 6.0));
  const small = dmadd(f64x2.mul(a, z), p, a);
  const e = dexp(a);
  const big = f64x2.mul(f64x2.sub(e, f64x2.div(dsplat(1.0), e)), dsplat(0.5));
  return dcopysign(v128.bitselect(small, big, f64x2.lt(a, dsplat(0.5))), d);
}

// @ts-ignore: decorator
@inline function coshHalf(d: v128): v128 {
  const e = dexp(f64x2.abs(d));
  return f64x2.mul(f64x2.add(e, f64x2.div(dsplat(1.0), e)), dsplat(0.5));
}

// @ts-ignore: decorator
@inline function asinhHalf(d: v128): v128 {
  const a = f64x2.abs(d);
  // asinh a = log1p(a + a²/(1 + sqrt(1 + a²)))
  const a2 = f64x2.mul(a, a);
  const near = dlog1p(f64x2.add(a, f64x2.div(a2, f64x2.add(dsplat(1.0), f64x2.sqrt(f64x2.add(dsplat(1.0), a2))))));
  const far = dlog(f64x2.add(a, a));
  return dcopysign(v128.bitselect(far, near, f64x2.gt(a, dsplat(HUGE))), d);
}

// @ts-ignore: decorator
@inline function acoshHalf(d: v128): v128 {
  // acosh d = log1p(t + sqrt(t·(t + 2))) with t = d − 1 (exact)
  const t = f64x2.sub(d, dsplat(1.0));
  const near = dlog1p(f64x2.add(t, f64x2.sqrt(f64x2.mul(t, f64x2.add(t, dsplat(2.0))))));
  const r = v128.bitselect(dlog(f64x2.add(d, d)), near, f64x2.gt(d, dsplat(HUGE)));
  return v128.bitselect(r, dsplat(NaN), f64x2.ge(d, dsplat(1.0)));
}

// @ts-ignore: decorator
@inline function atanhHalf(d: v128): v128 {
  // atanh a = log1p(2a/(1 − a))/2; past 1 the argument is below −1 and log1p gives NaN.
  const a = f64x2.abs(d);
  const r = f64x2.mul(dlog1p(f64x2.div(f64x2.add(a, a), f64x2.sub(dsplat(1.0), a))), dsplat(0.5));
  return dcopysign(r, d);
}

function vsinhImpl(x: v128): v128 {
  return join64(sinhHalf(lo64(x)), sinhHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vsinh(x: v128): v128 {
  return vsinhImpl(x);
}

function vcoshImpl(x: v128): v128 {
  return join64(coshHalf(lo64(x)), coshHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vcosh(x: v128): v128 {
  return vcoshImpl(x);
}

function vasinhImpl(x: v128): v128 {
  return join64(asinhHalf(lo64(x)), asinhHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vasinh(x: v128): v128 {
  return vasinhImpl(x);
}

function vacoshImpl(x: v128): v128 {
  return join64(acoshHalf(lo64(x)), acoshHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vacosh(x: v128): v128 {
  return vacoshImpl(x);
}

function vatanhImpl(x: v128): v128 {
  return join64(atanhHalf(lo64(x)), atanhHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vatanh(x: v128): v128 {
  return vatanhImpl(x);
}
