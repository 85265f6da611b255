// Vector (f32x4) math shared by the unary kernels, the GEMM epilogue and softmax.
// Every constant is an immediate (v128.const after -O3): no data segments, no tables.
// Algorithms follow Cephes single precision (range reduction + short polynomial), ~1-2 ulp.

const SIGN_MASK: i32 = -2147483648; // 0x80000000, the f32 sign bit

@inline export function vsplat(x: f32): v128 {
  return f32x4.splat(x);
}

/** mag with the sign bit of sgn. */
@inline export function vcopysign(mag: v128, sgn: v128): v128 {
  return v128.bitselect(sgn, mag, i32x4.splat(SIGN_MASK));
}

/** Loads 1..4 floats; lanes past n repeat lane 0 so they stay finite when x is finite. */
@inline export function loadPartial(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = v128.load32_splat(p);
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores lanes 0..n-1 (n in 1..4) and nothing past them. */
@inline export function storePartial(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * e^x. Clamping to [-104, 88.8] keeps the integer exponent n in [-150, 128]; scaling by 2^n in two
 * halves lets results overflow to +Inf and underflow through subnormals to 0 correctly. NaN propagates
 * (wasm f32x4.min/max return NaN when either operand is NaN).
 */
@inline export function vexp(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, vsplat(88.8)), vsplat(-104.0));
  const n = f32x4.nearest(f32x4.mul(x, vsplat(1.44269504088896341)));
  // Cody-Waite: ln2 = C1 + C2 with C1 exact in few bits, so n*C1 is exact.
  let r = f32x4.sub(x, f32x4.mul(n, vsplat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, vsplat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  let p = vsplat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), vsplat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), vsplat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), vsplat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), vsplat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), vsplat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), vsplat(1.0));
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** Natural log: NaN for x < 0 or NaN, -Inf for ±0, +Inf for +Inf; subnormals handled. */
@inline export function vlog(x0: v128): v128 {
  // Subnormals: scale by 2^23 so the exponent field is meaningful.
  const tiny = f32x4.lt(x0, vsplat(1.17549435e-38));
  let x = v128.bitselect(f32x4.mul(x0, vsplat(8388608.0)), x0, tiny);
  let e = i32x4.sub(i32x4.shr_s(x, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
  // Mantissa in [0.5, 1).
  let m = v128.or(v128.and(x, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  let ef = f32x4.convert_i32x4_s(e);
  // If m < sqrt(1/2): m = 2m - 1, e -= 1; else m = m - 1.
  const lowM = f32x4.lt(m, vsplat(0.707106781186547524));
  ef = f32x4.sub(ef, v128.and(lowM, vsplat(1.0)));
  m = f32x4.sub(f32x4.add(m, v128.and(lowM, m)), vsplat(1.0));
  const z = f32x4.mul(m, m);
  let p = vsplat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, m), vsplat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, m), vsplat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(ef, vsplat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, vsplat(0.5)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(ef, vsplat(0.693359375)));
  // Specials, last one wins: +Inf and NaN return x itself, 0 → -Inf, negative → NaN.
  r = v128.bitselect(x0, r, f32x4.ne(x0, x0));
  r = v128.bitselect(x0, r, f32x4.eq(x0, vsplat(Infinity)));
  r = v128.bitselect(vsplat(-Infinity), r, f32x4.eq(x0, vsplat(0.0)));
  r = v128.bitselect(vsplat(NaN), r, f32x4.lt(x0, vsplat(0.0)));
  return r;
}

/** 1 / (1 + e^-x): saturates to 0 / 1 for huge |x| and ±Inf, NaN propagates. */
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(vsplat(1.0), f32x4.add(vsplat(1.0), vexp(f32x4.neg(x))));
}

/** tanh: odd polynomial for |x| < 0.625 (keeps relative accuracy near 0), else 1 - 2/(e^2|x| + 1). */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = vsplat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), vsplat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), vsplat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), vsplat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), vsplat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = vexp(f32x4.add(ax, ax));
  const big = f32x4.sub(vsplat(1.0), f32x4.div(vsplat(2.0), f32x4.add(e, vsplat(1.0))));
  return v128.bitselect(small, vcopysign(big, x), f32x4.lt(ax, vsplat(0.625)));
}

/**
 * erf: x·T(x²) for |x| < 1, else 1 - e^{-x²}·q·P(q²) with q = 1/|x| (Cephes erff/erfcf);
 * max abs error ~1.4e-7. ±Inf → ±1, NaN propagates.
 */
@inline export function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let t = vsplat(7.853861353153693e-5);
  t = f32x4.add(f32x4.mul(t, z), vsplat(-8.010193625184903e-4));
  t = f32x4.add(f32x4.mul(t, z), vsplat(5.188327685732524e-3));
  t = f32x4.add(f32x4.mul(t, z), vsplat(-2.685381193529856e-2));
  t = f32x4.add(f32x4.mul(t, z), vsplat(1.128358514861418e-1));
  t = f32x4.add(f32x4.mul(t, z), vsplat(-3.761262582423300e-1));
  t = f32x4.add(f32x4.mul(t, z), vsplat(1.128379165726710));
  const small = f32x4.mul(x, t);

  const q = f32x4.div(vsplat(1.0), ax);
  const q2 = f32x4.mul(q, q);
  // 1 <= |x| < 2
  let pp = vsplat(2.326819970068386e-2);
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(-1.387039388740657e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(3.687424674597105e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(-5.824733027278666e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(6.210004621745983e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(-4.944515323274145e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(3.404879937665872e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(-2.741127028184656e-1));
  pp = f32x4.add(f32x4.mul(pp, q2), vsplat(5.638259427386472e-1));
  // |x| >= 2
  let pr = vsplat(-1.047766399936249e1);
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(1.297719955372516e1));
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(-7.495518717768503));
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(2.921019019210786));
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(-1.015265279202700));
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(4.218463358204948e-1));
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(-2.820767439740514e-1));
  pr = f32x4.add(f32x4.mul(pr, q2), vsplat(5.641895067754075e-1));
  const poly = v128.bitselect(pp, pr, f32x4.lt(ax, vsplat(2.0)));
  const erfc = f32x4.mul(f32x4.mul(vexp(f32x4.neg(z)), q), poly);
  const big = vcopysign(f32x4.sub(vsplat(1.0), erfc), x);
  return v128.bitselect(small, big, f32x4.lt(ax, vsplat(1.0)));
}

/** Exact (erf-based) GELU; the limit 0 at -Inf instead of -Inf·0 = NaN. */
@inline export function vgelu(x: v128): v128 {
  const h = f32x4.mul(vsplat(0.5), f32x4.add(vsplat(1.0), verf(f32x4.mul(x, vsplat(0.70710678118654752)))));
  return v128.bitselect(vsplat(-0.0), f32x4.mul(x, h), f32x4.eq(h, vsplat(0.0)));
}

@inline export function vhardSigmoid(x: v128, alpha: v128, beta: v128): v128 {
  return f32x4.max(vsplat(0.0), f32x4.min(vsplat(1.0), f32x4.add(f32x4.mul(x, alpha), beta)));
}

/** x·hard_sigmoid(x; 1/6, 1/2); the limit 0 at -Inf like gelu. */
@inline export function vhardSwish(x: v128): v128 {
  const h = vhardSigmoid(x, vsplat(1.0 / 6.0), vsplat(0.5));
  return v128.bitselect(vsplat(-0.0), f32x4.mul(x, h), f32x4.eq(h, vsplat(0.0)));
}

@inline export function vleakyRelu(x: v128, alpha: v128): v128 {
  return v128.bitselect(f32x4.mul(x, alpha), x, f32x4.lt(x, vsplat(0.0)));
}

