// The exponential-family activations of float32 vectors (Elu, Selu, Celu, Softplus, Mish), computed in
// f64 and rounded once (within ~0.5 ulp of the correctly rounded float32 of the formula evaluated
// exactly), and the piecewise ones (Softsign, ThresholdedRelu, Shrink) in f32.
// Where an ONNX formula evaluated literally gives NaN at ±Inf, these give its limit, as gelu does:
// softsign(±Inf) = ±1, mish(−Inf) = −0 (onnxruntime returns NaN for both).

import { vcopysign, vsplat } from "./vmath";
import { dexp, dexpm1, dmadd, dsplat, hi64, join64, lo64 } from "./vmath64";

/** x < 0 ? alpha·(e^x − 1) : x (Elu); Selu is gamma·elu(x; alpha); Celu is alpha·elu(x/alpha; 1). */
// @ts-ignore: decorator
@inline function eluHalf(d: v128, scale: f64): v128 {
  return f64x2.mul(dsplat(scale), dexpm1(d));
}

function veluImpl(x: v128, alpha: f32): v128 {
  const neg = join64(eluHalf(lo64(x), <f64>alpha), eluHalf(hi64(x), <f64>alpha));
  return v128.bitselect(neg, x, f32x4.lt(x, vsplat(0.0)));
}

// @ts-ignore: decorator
@inline export function velu(x: v128, alpha: f32): v128 {
  return veluImpl(x, alpha);
}

function vseluImpl(x: v128, alpha: f32, gamma: f32): v128 {
  const g = <f64>gamma;
  const ga = g * <f64>alpha;
  const neg = join64(eluHalf(lo64(x), ga), eluHalf(hi64(x), ga));
  const pos = join64(f64x2.mul(lo64(x), dsplat(g)), f64x2.mul(hi64(x), dsplat(g)));
  return v128.bitselect(pos, neg, f32x4.gt(x, vsplat(0.0)));
}

// @ts-ignore: decorator
@inline export function vselu(x: v128, alpha: f32, gamma: f32): v128 {
  return vseluImpl(x, alpha, gamma);
}

function vceluImpl(x: v128, alpha: f32): v128 {
  const a = <f64>alpha;
  const inv = dsplat(1.0 / a);
  const neg = join64(eluHalf(f64x2.mul(lo64(x), inv), a), eluHalf(f64x2.mul(hi64(x), inv), a));
  return v128.bitselect(neg, x, f32x4.lt(x, vsplat(0.0)));
}

// @ts-ignore: decorator
@inline export function vcelu(x: v128, alpha: f32): v128 {
  return vceluImpl(x, alpha);
}

/**
 * ln(1 + e^x) = max(x, 0) + ln(1 + u), u = e^−|x| in [0, 1], with ln(1 + u) = 2·atanh(f) for
 * f = u/(2 + u), or ln 2 + 2·atanh((u − 1)/(u + 3)) above u = sqrt 2 − 1: |f| <= 0.172 either way,
 * one division, and no rounding of 1 + u to correct.
 */
// @ts-ignore: decorator
@inline function softplusHalf(d: v128): v128 {
  const u = dexp(f64x2.neg(f64x2.abs(d)));
  const big = f64x2.gt(u, dsplat(0.41421356237309503));
  const num = v128.bitselect(f64x2.sub(u, dsplat(1.0)), u, big);
  const den = f64x2.add(u, v128.bitselect(dsplat(3.0), dsplat(2.0), big));
  const f = f64x2.div(num, den);
  const s = f64x2.mul(f, f);
  // 2f·(1 + s/3 + … + s^5/11): < 1e-10 relative.
  let p = dsplat(1.0 / 11.0);
  p = dmadd(p, s, dsplat(1.0 / 9.0));
  p = dmadd(p, s, dsplat(1.0 / 7.0));
  p = dmadd(p, s, dsplat(1.0 / 5.0));
  p = dmadd(p, s, dsplat(1.0 / 3.0));
  const f2 = f64x2.add(f, f);
  const ln1pu = f64x2.add(dmadd(f64x2.mul(f2, s), p, f2), v128.and(big, dsplat(0.6931471805599453)));
  // max(x, 0) as a mask (f64x2.max is many instructions); NaN gives 0 + NaN.
  return f64x2.add(v128.and(d, f64x2.gt(d, dsplat(0.0))), ln1pu);
}

function vsoftplusImpl(x: v128): v128 {
  return join64(softplusHalf(lo64(x)), softplusHalf(hi64(x)));
}

// @ts-ignore: decorator
@inline export function vsoftplus(x: v128): v128 {
  return vsoftplusImpl(x);
}

/** x·tanh(ln(1 + e^x)) = x·n(n + 2)/(n(n + 2) + 2) with n = e^x; x itself past 20 (the ratio is 1 − 1e-17). */
// @ts-ignore: decorator
@inline function mishHalf(d: v128): v128 {
  const n = dexp(f64x2.pmin(d, dsplat(20.0))); // NaN stays NaN
  const t = f64x2.mul(n, f64x2.add(n, dsplat(2.0)));
  const r = f64x2.mul(d, f64x2.div(t, f64x2.add(t, dsplat(2.0))));
  return v128.bitselect(d, r, f64x2.gt(d, dsplat(20.0)));
}

function vmishImpl(x: v128): v128 {
  const y = join64(mishHalf(lo64(x)), mishHalf(hi64(x)));
  return v128.bitselect(vsplat(-0.0), y, f32x4.eq(x, vsplat(-Infinity)));
}

// @ts-ignore: decorator
@inline export function vmish(x: v128): v128 {
  return vmishImpl(x);
}

/** x/(1 + |x|); ±1 at ±Inf. */
// @ts-ignore: decorator
@inline export function vsoftsign(x: v128): v128 {
  const ax = f32x4.abs(x);
  const y = f32x4.div(x, f32x4.add(vsplat(1.0), ax));
  return v128.bitselect(vcopysign(vsplat(1.0), x), y, f32x4.eq(ax, vsplat(Infinity)));
}

/** x > alpha ? x : 0 (NaN gives 0). */
// @ts-ignore: decorator
@inline export function vthresholdedRelu(x: v128, alpha: v128): v128 {
  return v128.and(x, f32x4.gt(x, alpha));
}

/** x < −lambd ? x + bias : x > lambd ? x − bias : 0 (NaN gives 0). */
// @ts-ignore: decorator
@inline export function vshrink(x: v128, bias: v128, lambd: v128): v128 {
  const lo = v128.and(f32x4.add(x, bias), f32x4.lt(x, f32x4.neg(lambd)));
  return v128.bitselect(f32x4.sub(x, bias), lo, f32x4.gt(x, lambd));
}
