// Double-precision (f64x2) building blocks for float32 functions that are computed in f64 and rounded to
// f32 once (vtrig.ts, varc.ts, vhyper.ts, vact.ts): with 29 spare bits, short polynomials and plain
// reductions give results within ~0.5 ulp of the correctly rounded float32 without the error analysis a
// float32-only algorithm needs. Plain mul/add only (never fused), so both kernel builds give the same bits.
// Every constant is an immediate: no data segments.

/** Lanes 0-1 of a f32x4, as f64x2. */
// @ts-ignore: decorator
@inline export function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Lanes 2-3 of a f32x4, as f64x2. */
// @ts-ignore: decorator
@inline export function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
}

/** Rounds two f64x2 (lanes 0-1, lanes 2-3) to one f32x4. */
// @ts-ignore: decorator
@inline export function join64(lo: v128, hi: v128): v128 {
  return f32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// @ts-ignore: decorator
@inline export function dsplat(x: f64): v128 {
  return f64x2.splat(x);
}

/** a·b + c, rounded twice (never fused). */
// @ts-ignore: decorator
@inline export function dmadd(a: v128, b: v128, c: v128): v128 {
  return f64x2.add(f64x2.mul(a, b), c);
}

/** mag with the sign of sgn (f64 lanes). */
// @ts-ignore: decorator
@inline export function dcopysign(mag: v128, sgn: v128): v128 {
  return v128.bitselect(sgn, mag, i64x2.splat(0x8000000000000000));
}

/** 1.5·2^52: adding it to an integer-valued |k| < 2^51 leaves k (two's complement) in the low bits. */
export const ROUND_MAGIC: f64 = 6755399441055744.0;

/**
 * e^t through t = k·ln 2 + r, |r| <= 0.347, with t clamped to [-700, 700] (far beyond f32's range; NaN
 * propagates) and e^r − 1 ≈ r + r²·P(r) (Taylor to r^9: < 1e-10 relative, ample for one f32 rounding).
 */
// @ts-ignore: decorator
@inline function expClamp(t: v128): v128 {
  // pmin/pmax (one instruction each, unlike min/max) keep a NaN t as the first operand.
  return f64x2.pmax(f64x2.pmin(t, dsplat(700.0)), dsplat(-700.0));
}

// @ts-ignore: decorator
@inline function expReduce(t: v128): v128 {
  return f64x2.nearest(f64x2.mul(t, dsplat(1.4426950408889634)));
}

// @ts-ignore: decorator
@inline function expRem(t: v128, k: v128): v128 {
  // ln 2 = LN2_HI + LN2_LO with LN2_HI's low 21 bits zero, so k·LN2_HI is exact.
  return f64x2.sub(f64x2.sub(t, f64x2.mul(k, dsplat(6.93147180369123816490e-1))), f64x2.mul(k, dsplat(1.90821492927058770002e-10)));
}

/** e^r − 1 for |r| <= 0.347. */
// @ts-ignore: decorator
@inline function expm1Poly(r: v128): v128 {
  let p = dsplat(1.0 / 362880.0);
  p = dmadd(p, r, dsplat(1.0 / 40320.0));
  p = dmadd(p, r, dsplat(1.0 / 5040.0));
  p = dmadd(p, r, dsplat(1.0 / 720.0));
  p = dmadd(p, r, dsplat(1.0 / 120.0));
  p = dmadd(p, r, dsplat(1.0 / 24.0));
  p = dmadd(p, r, dsplat(1.0 / 6.0));
  p = dmadd(p, r, dsplat(0.5));
  return dmadd(f64x2.mul(r, r), p, r);
}

/** 2^k for integer-valued k, |k| <= 1010 (from k's integer bits). */
// @ts-ignore: decorator
@inline function pow2(k: v128): v128 {
  return i64x2.shl(i64x2.add(f64x2.add(k, dsplat(ROUND_MAGIC)), i64x2.splat(1023)), 52);
}

/** e^t for f64 lanes (t clamped to [-700, 700]; NaN propagates). */
// @ts-ignore: decorator
@inline export function dexp(t: v128): v128 {
  t = expClamp(t);
  const k = expReduce(t);
  const s = pow2(k);
  return dmadd(s, expm1Poly(expRem(t, k)), s); // 2^k·(1 + (e^r − 1))
}

/** e^t − 1 for f64 lanes, relative-accurate near 0: 2^k·(e^r − 1) + (2^k − 1), exact at k = 0. */
// @ts-ignore: decorator
@inline export function dexpm1(t: v128): v128 {
  t = expClamp(t);
  const k = expReduce(t);
  const s = pow2(k);
  return dmadd(s, expm1Poly(expRem(t, k)), f64x2.sub(s, dsplat(1.0)));
}

/** ln x for f64 lanes: −Inf at ±0, NaN below 0 and for NaN, +Inf at +Inf. ~1e-15 (f64 subnormals: never passed). */
// @ts-ignore: decorator
@inline export function dlog(x: v128): v128 {
  // x = m·2^e with m in [sqrt(1/2), sqrt(2)).
  let m = v128.or(v128.and(x, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  const eBits = v128.or(i64x2.shr_u(x, 52), i64x2.splat(0x4330000000000000));
  let e = f64x2.sub(eBits, dsplat(4503599627370496.0 + 1023.0));
  const big = f64x2.gt(m, dsplat(1.4142135623730951));
  m = v128.bitselect(f64x2.mul(m, dsplat(0.5)), m, big);
  e = f64x2.add(e, v128.and(big, dsplat(1.0)));
  // ln m = 2·atanh(f) = 2f·(1 + s/3 + s²/5 + …), f = (m−1)/(m+1), s = f² <= 0.0295.
  const f = f64x2.div(f64x2.sub(m, dsplat(1.0)), f64x2.add(m, dsplat(1.0)));
  const s = f64x2.mul(f, f);
  // Truncated after s^5/11: < 1e-10 relative.
  let p = dsplat(1.0 / 11.0);
  p = dmadd(p, s, dsplat(1.0 / 9.0));
  p = dmadd(p, s, dsplat(1.0 / 7.0));
  p = dmadd(p, s, dsplat(1.0 / 5.0));
  p = dmadd(p, s, dsplat(1.0 / 3.0));
  const f2 = f64x2.add(f, f);
  const lnm = dmadd(f64x2.mul(f2, s), p, f2);
  let r = f64x2.add(f64x2.mul(e, dsplat(6.93147180369123816490e-1)), dmadd(e, dsplat(1.90821492927058770002e-10), lnm));
  r = v128.bitselect(dsplat(Infinity), r, f64x2.eq(x, dsplat(Infinity)));
  r = v128.bitselect(dsplat(-Infinity), r, f64x2.eq(x, dsplat(0.0)));
  return v128.bitselect(dsplat(NaN), r, v128.not(f64x2.ge(x, dsplat(0.0))));
}

/** ln(1 + u) for f64 lanes, relative-accurate for tiny u (the rounding of 1 + u is corrected). */
// @ts-ignore: decorator
@inline export function dlog1p(u: v128): v128 {
  const w = f64x2.add(dsplat(1.0), u);
  const lw = dlog(w);
  // ln(w) − ((w − 1) − u)/w; where that correction is NaN (w = 0 or ±Inf, u NaN), ln(w) itself.
  const corr = f64x2.div(f64x2.sub(f64x2.sub(w, dsplat(1.0)), u), w);
  return v128.bitselect(lw, f64x2.sub(lw, corr), f64x2.ne(corr, corr));
}
