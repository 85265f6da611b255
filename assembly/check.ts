// Input checks the runtime asks of a model: a large batch is scanned here, in SIMD, far faster than
// a JavaScript loop over the same numbers.

/** Index of the first ±Infinity or NaN among x[0..n-1] (exponent bits all ones), or −1. */
export function first_non_finite(x: usize, n: i32): i32 {
  const exponent = i32x4.splat(0x7f800000);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = i32x4.eq(v128.and(v128.load(p), exponent), exponent);
    const b = i32x4.eq(v128.and(v128.load(p, 16), exponent), exponent);
    const c = i32x4.eq(v128.and(v128.load(p, 32), exponent), exponent);
    const d = i32x4.eq(v128.and(v128.load(p, 48), exponent), exponent);
    if (v128.any_true(v128.or(v128.or(a, b), v128.or(c, d)))) break;
  }
  for (; i < n; i++) {
    if ((load<i32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
