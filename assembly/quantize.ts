// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear on tensors viewed as [outer, axis, inner]:
// a per-tensor scale and zero point are the per-axis case with axis = 1. Arithmetic as onnxruntime's
// (MLAS on x86): y = clamp(x / scale, qmin − zp, qmax − zp) (NaN gives the lower bound), rounded half to
// even, plus zp; dequantization y = f32(i32(x) − zp) · scale. Every lane's result is the scalar one, so
// where a SIMD block boundary falls does not matter.

/** Quantize n floats at x with one scale and zero point into y (elements of Q: u8 or i8). */
// @ts-ignore: decorator
@inline function quantizeRun<Q>(x: usize, y: usize, n: i32, s: f32, zp: i32): void {
  const qmin: i32 = isSigned<Q>() ? -128 : 0;
  const qmax: i32 = isSigned<Q>() ? 127 : 255;
  const lo = <f32>(qmin - zp);
  const hi = <f32>(qmax - zp);
  let i = 0;
  if (n >= 16) {
    const vs = f32x4.splat(s);
    const vlo = f32x4.splat(lo);
    const vhi = f32x4.splat(hi);
    const vzp = i32x4.splat(zp);
    for (; i + 16 <= n; i += 16) {
      const p = x + (<usize>i << 2);
      const q0 = quantize4(v128.load(p), vs, vlo, vhi, vzp);
      const q1 = quantize4(v128.load(p, 16), vs, vlo, vhi, vzp);
      const q2 = quantize4(v128.load(p, 32), vs, vlo, vhi, vzp);
      const q3 = quantize4(v128.load(p, 48), vs, vlo, vhi, vzp);
      // The values are already within the type's range, so the saturating narrows are exact.
      const h0 = i16x8.narrow_i32x4_s(q0, q1);
      const h1 = i16x8.narrow_i32x4_s(q2, q3);
      v128.store(y + <usize>i, isSigned<Q>() ? i8x16.narrow_i16x8_s(h0, h1) : i8x16.narrow_i16x8_u(h0, h1));
    }
  }
  if (i + 4 <= n) {
    const vs = f32x4.splat(s);
    const vlo = f32x4.splat(lo);
    const vhi = f32x4.splat(hi);
    const vzp = i32x4.splat(zp);
    for (; i + 4 <= n; i += 4) {
      const q = quantize4(v128.load(x + (<usize>i << 2)), vs, vlo, vhi, vzp);
      const h = i16x8.narrow_i32x4_s(q, q);
      v128.store32_lane(y + <usize>i, isSigned<Q>() ? i8x16.narrow_i16x8_s(h, h) : i8x16.narrow_i16x8_u(h, h), 0);
    }
  }
  for (; i < n; i++) {
    let v = load<f32>(x + (<usize>i << 2)) / s;
    v = lo < v ? v : lo;
    v = v < hi ? v : hi;
    store<Q>(y + <usize>i, <Q>(<i32>nearest<f32>(v) + zp));
  }
}

// @ts-ignore: decorator
@inline function quantize4(v: v128, vs: v128, vlo: v128, vhi: v128, vzp: v128): v128 {
  let q = f32x4.div(v, vs);
  q = f32x4.pmax(vlo, q); // NaN → lo
  q = f32x4.pmin(vhi, q);
  return i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(q)), vzp);
}

// @ts-ignore: decorator
@inline function quantizeAxis<Q>(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axis; a++) {
      const s = load<f32>(scale + (<usize>a << 2));
      const z: i32 = zp ? <i32>load<Q>(zp + <usize>a) : 0;
      const at = <usize>(o * axis + a) * <usize>inner;
      quantizeRun<Q>(x + (at << 2), y + at, inner, s, z);
    }
  }
}

/**
 * QuantizeLinear to uint8: x f32 [outer, axis, inner] → y u8, scale f32[axis], zp u8[axis] (0: none,
 * zero point 0). Per tensor: axis = 1. x and y must not overlap.
 */
export function quantize_u8(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  quantizeAxis<u8>(x, scale, zp, y, outer, axis, inner);
}

/** QuantizeLinear to int8: as quantize_u8 with zp i8[axis], y i8. */
export function quantize_i8(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  quantizeAxis<i8>(x, scale, zp, y, outer, axis, inner);
}

// @ts-ignore: decorator
@inline function min4(v: v128): f32 {
  const a = f32x4.extract_lane(v, 0);
  const b = f32x4.extract_lane(v, 1);
  const c = f32x4.extract_lane(v, 2);
  const d = f32x4.extract_lane(v, 3);
  const ab = a < b ? a : b;
  const cd = c < d ? c : d;
  return ab < cd ? ab : cd;
}

// @ts-ignore: decorator
@inline function max4(v: v128): f32 {
  const a = f32x4.extract_lane(v, 0);
  const b = f32x4.extract_lane(v, 1);
  const c = f32x4.extract_lane(v, 2);
  const d = f32x4.extract_lane(v, 3);
  const ab = a > b ? a : b;
  const cd = c > d ? c : d;
  return ab > cd ? ab : cd;
}

/** Widen 4 elements of Q at p to i32 lanes. */
// @ts-ignore: decorator
@inline function load4<Q>(p: usize): v128 {
  if (sizeof<Q>() == 4) return v128.load(p);
  const b = v128.load32_zero(p);
  return isSigned<Q>()
    ? i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(b))
    : i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b));
}

// @ts-ignore: decorator
@inline function dequantizeAxis<Q>(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axis; a++) {
      const s = load<f32>(scale + (<usize>a << 2));
      const z: i32 = zp ? <i32>load<Q>(zp + <usize>a * sizeof<Q>()) : 0;
      const at = <usize>(o * axis + a) * <usize>inner;
      const xs = x + at * sizeof<Q>();
      const ys = y + (at << 2);
      const vs = f32x4.splat(s);
      const vz = i32x4.splat(z);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const w = i32x4.sub(load4<Q>(xs + <usize>i * sizeof<Q>()), vz);
        v128.store(ys + (<usize>i << 2), f32x4.mul(f32x4.convert_i32x4_s(w), vs));
      }
      for (; i < inner; i++) store<f32>(ys + (<usize>i << 2), <f32>(<i32>load<Q>(xs + <usize>i * sizeof<Q>()) - z) * s);
    }
  }
}

/**
 * DequantizeLinear from uint8: x u8 [outer, axis, inner] → y f32, y = f32(x − zp[a]) · scale[a]; zp 0:
 * none. Per tensor: axis = 1. x and y must not overlap.
 */
export function dequantize_u8(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  dequantizeAxis<u8>(x, scale, zp, y, outer, axis, inner);
}

/** DequantizeLinear from int8 (zp i8[axis]). */
export function dequantize_i8(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  dequantizeAxis<i8>(x, scale, zp, y, outer, axis, inner);
}

/** DequantizeLinear from int32 (zp i32[axis]; ONNX requires it 0): y = f32(x − zp) · scale, x == y allowed. */
export function dequantize_i32(x: usize, scale: usize, zp: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  dequantizeAxis<i32>(x, scale, zp, y, outer, axis, inner);
}

/**
 * DynamicQuantizeLinear (uint8): over n floats at x, min = min(0, min x), max = max(0, max x) (NaNs are
 * skipped), scale = max == min ? 1 : (max − min) / 255, zero point = round-half-even(clamp(0 − min / scale,
 * 0, 255)), then y = QuantizeLinear(x, scale, zp). Writes y u8[n], scaleOut f32[1], zpOut u8[1].
 */
export function dynamic_quantize(x: usize, y: usize, scaleOut: usize, zpOut: usize, n: i32): void {
  let mn: f32 = 0;
  let mx: f32 = 0;
  let i = 0;
  let vmn = f32x4.splat(0);
  let vmx = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    vmn = f32x4.pmin(vmn, v); // v < min ? v : min — NaN never replaces
    vmx = f32x4.pmax(vmx, v);
  }
  mn = min4(vmn);
  mx = max4(vmx);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  const s: f32 = mx == mn ? 1 : (mx - mn) / <f32>255;
  let z = <f32>0 - mn / s;
  z = <f32>0 < z ? z : 0;
  z = z < <f32>255 ? z : 255;
  const zp = <i32>nearest<f32>(z);
  store<f32>(scaleOut, s);
  store<u8>(zpOut, <u8>zp);
  quantizeRun<u8>(x, y, n, s, zp);
}
