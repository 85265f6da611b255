// The quantized ops' output stage: i32 sums (plus an i32 bias) to u8/i8 as onnxruntime's MLAS requantizes
// them on x86: v = f32(acc + bias) · scale, clamped to [qmin − zp, qmax − zp] (NaN gives the lower bound),
// rounded half to even, plus zp. Every lane's result is the scalar one.

// @ts-ignore: decorator
@inline function requantize4(acc: v128, scale: v128, lo: v128, hi: v128, zp: v128): v128 {
  let v = f32x4.mul(f32x4.convert_i32x4_s(acc), scale);
  v = f32x4.pmax(lo, v); // NaN → lo
  v = f32x4.pmin(hi, v);
  return i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(v)), zp);
}

// @ts-ignore: decorator
@inline function store4<Q>(y: usize, q: v128): void {
  const h = i16x8.narrow_i32x4_s(q, q);
  v128.store32_lane(y, isSigned<Q>() ? i8x16.narrow_i16x8_s(h, h) : i8x16.narrow_i16x8_u(h, h), 0);
}

// @ts-ignore: decorator
@inline function requantizeImpl<Q>(
  acc: usize,
  bias: usize,
  xScale: usize,
  wScale: usize,
  wScales: i32,
  yScale: usize,
  yZp: usize,
  y: usize,
  outer: i32,
  channels: i32,
  inner: i32,
): void {
  const zp: i32 = yZp ? <i32>load<Q>(yZp) : 0;
  const qmin: i32 = isSigned<Q>() ? -128 : 0;
  const qmax: i32 = isSigned<Q>() ? 127 : 255;
  const lo = <f32>(qmin - zp);
  const hi = <f32>(qmax - zp);
  const xs = load<f32>(xScale);
  const ys = load<f32>(yScale);
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const vzp = i32x4.splat(zp);
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>channels * <usize>inner;
    if (inner == 1) {
      // One value per channel: SIMD across channels (a matrix product's columns).
      let c = 0;
      for (; c + 4 <= channels; c += 4) {
        const ws = wScales > 1 ? v128.load(wScale + (<usize>c << 2)) : f32x4.splat(load<f32>(wScale));
        const s = f32x4.div(f32x4.mul(f32x4.splat(xs), ws), f32x4.splat(ys));
        let a = v128.load(acc + (base + <usize>c << 2));
        if (bias) a = i32x4.add(a, v128.load(bias + (<usize>c << 2)));
        store4<Q>(y + base + <usize>c, requantize4(a, s, vlo, vhi, vzp));
      }
      for (; c < channels; c++) requantizeOne<Q>(acc, bias, xs, wScale, wScales, ys, y, base + <usize>c, c, 0, lo, hi, zp);
      continue;
    }
    for (let c = 0; c < channels; c++) {
      const s = (xs * load<f32>(wScale + (wScales > 1 ? <usize>c << 2 : 0))) / ys;
      const bc = bias ? load<i32>(bias + (<usize>c << 2)) : 0;
      const vs = f32x4.splat(s);
      const vb = i32x4.splat(bc);
      const at = base + <usize>c * <usize>inner;
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const a = i32x4.add(v128.load(acc + (at + <usize>i << 2)), vb);
        store4<Q>(y + at + <usize>i, requantize4(a, vs, vlo, vhi, vzp));
      }
      for (; i < inner; i++) requantizeOne<Q>(acc, bias, xs, wScale, wScales, ys, y, at, c, i, lo, hi, zp);
    }
  }
}

// @ts-ignore: decorator
@inline function requantizeOne<Q>(
  acc: usize,
  bias: usize,
  xs: f32,
  wScale: usize,
  wScales: i32,
  ys: f32,
  y: usize,
  at: usize,
  c: i32,
  i: i32,
  lo: f32,
  hi: f32,
  zp: i32,
): void {
  const s = (xs * load<f32>(wScale + (wScales > 1 ? <usize>c << 2 : 0))) / ys;
  const a = load<i32>(acc + (at + <usize>i << 2)) + (bias ? load<i32>(bias + (<usize>c << 2)) : 0);
  let v = <f32>a * s;
  v = lo < v ? v : lo;
  v = v < hi ? v : hi;
  store<Q>(y + at + <usize>i, <Q>(<i32>nearest<f32>(v) + zp));
}

/**
 * Requantize i32 sums [outer, channels, inner] to u8: y = clamp(f32(acc + bias[c]) · s[c], 0 − zp,
 * 255 − zp) rounded half to even + zp, s[c] = xScale · wScale[c] / yScale in f32 (wScales: 1 for one
 * scale, else `channels`). bias i32[channels] or 0; yZp u8[1] or 0. acc and y must not overlap.
 */
export function q_requantize_u8(
  acc: usize,
  bias: usize,
  xScale: usize,
  wScale: usize,
  wScales: i32,
  yScale: usize,
  yZp: usize,
  y: usize,
  outer: i32,
  channels: i32,
  inner: i32,
): void {
  requantizeImpl<u8>(acc, bias, xScale, wScale, wScales, yScale, yZp, y, outer, channels, inner);
}

/** q_requantize_u8 to int8 (yZp i8[1], y i8, bounds −128 and 127). */
export function q_requantize_i8(
  acc: usize,
  bias: usize,
  xScale: usize,
  wScale: usize,
  wScales: i32,
  yScale: usize,
  yZp: usize,
  y: usize,
  outer: i32,
  channels: i32,
  inner: i32,
): void {
  requantizeImpl<i8>(acc, bias, xScale, wScale, wScales, yScale, yZp, y, outer, channels, inner);
}
