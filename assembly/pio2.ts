// Argument reduction by π/2 for float32 trigonometry (vtrig.ts): x = q·(π/2) + r, |r| <= π/4.
//
// |x| < REDUCE_FAST_LIMIT: three-part Cody–Waite in f64. π/2 = P1 + P2 + P3 with P1 and P2 of 28
// significant bits, so for |k| <= 2^25 both k·P1 and k·P2 are exact, x − k·P1 is exact, and r keeps
// ~2^-84 absolute error — far below what any float32 x needs (its distance to a multiple of π/2 is never
// that small). The vector path (vtrig.ts) runs the same operations on f64x2 lanes: same bits.
// Larger finite |x| (all even integers): Payne–Hanek, exact integer arithmetic on x's 24-bit
// significand times 256 bits of 2/π, keeping 64 fraction bits of x·2/π mod 4.

export const REDUCE_FAST_LIMIT: f32 = 5.0e7;
export const TWO_OVER_PI: f64 = 0.6366197723675814;
export const PIO2_1: f64 = 1.570796325802803;
export const PIO2_2: f64 = 9.920935739593517e-10;
export const PIO2_3: f64 = 5.721188726109832e-18;
const PIO2: f64 = 1.5707963267948966;

/** Word j (0 = most significant) of floor(2/π · 2^256). */
// @ts-ignore: decorator
@inline function twoOverPiWord(j: i32): u64 {
  switch (j) {
    case 0: return 0xa2f9836e;
    case 1: return 0x4e441529;
    case 2: return 0xfc2757d1;
    case 3: return 0xf534ddc0;
    case 4: return 0xdb629599;
    case 5: return 0x3c439041;
    case 6: return 0xfe5163ab;
    default: return 0xdebbc561;
  }
}

/**
 * Reduces a float32 x: returns f64x2 [r, q] with x ≡ r + q·π/2 (q in 0..3, as f64) and
 * |r| <= π/4 (up to rounding); [NaN, 0] for NaN and ±Inf.
 */
export function reducePio2(x: f32): v128 {
  const d = <f64>x;
  if (!isFinite(x)) return f64x2.replace_lane(f64x2.splat(NaN), 1, 0.0);
  if (abs(x) < REDUCE_FAST_LIMIT) {
    const k = nearest(d * TWO_OVER_PI);
    const r = ((d - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    return f64x2.replace_lane(f64x2.splat(r), 1, <f64>(<i64>k & 3));
  }
  // x = ±M·2^E, M < 2^24, E >= 1; x·2/π ≈ M·F·2^(E−256) with F = floor(2/π·2^256). Bits of P = M·F at
  // or above sh = 256 − E are the integer part (only its low 2 bits matter), the 64 below the fraction.
  const bits = reinterpret<u32>(x);
  const M = <u64>((bits & 0x7fffff) | 0x800000);
  const E = <i32>((bits >> 23) & 0xff) - 150;
  const lo = 256 - E - 64; // lowest bit wanted, >= 88 (E <= 104)
  const wi = lo >> 5;
  const off = <u64>(lo & 31);
  // P word by word from the least significant (32 bits each), keeping words wi..wi+3.
  let acc: u64 = 0;
  let w0: u64 = 0, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0;
  for (let i = 0; i < 9; i++) {
    if (i < 8) acc += M * twoOverPiWord(7 - i);
    const word = acc & 0xffffffff;
    acc >>= 32;
    const at = i - wi;
    if (at == 0) w0 = word;
    else if (at == 1) w1 = word;
    else if (at == 2) w2 = word;
    else if (at == 3) w3 = word;
  }
  const low = w0 | (w1 << 32);
  const high = w2 | (w3 << 32);
  const frac = off == 0 ? low : (low >> off) | (high << (64 - off));
  let q = <i32>((off == 0 ? high : high >> off) & 3);
  // Fraction in [-1/2, 1/2): a fraction >= 1/2 belongs to the next quadrant.
  q = (q + <i32>(frac >> 63)) & 3;
  let r = <f64>(<i64>frac) * 5.421010862427522e-20 * PIO2; // · 2^-64 · π/2
  if (x < 0) {
    r = -r;
    q = (4 - q) & 3;
  }
  return f64x2.replace_lane(f64x2.splat(r), 1, <f64>q);
}
