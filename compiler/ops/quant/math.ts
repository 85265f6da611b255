/**
 * The quantized ops' arithmetic on constants, bit for bit what the kernels compute (assembly/quantize.ts,
 * requantize.ts: onnxruntime's MLAS on x86): f32 operations, clamping before rounding (NaN gives the lower
 * bound), rounding half to even.
 */
const f = Math.fround;

export interface QType {
  signed: boolean;
  min: number;
  max: number;
}

export const U8: QType = { signed: false, min: 0, max: 255 };
export const I8: QType = { signed: true, min: -128, max: 127 };

/** Round half to even (what f32x4.nearest and x86's cvtps2dq do). */
export function roundHalfEven(v: number): number {
  const r = Math.floor(v);
  const d = v - r;
  if (d < 0.5) return r;
  if (d > 0.5) return r + 1;
  return r % 2 === 0 ? r : r + 1;
}

/** clamp(v, qmin − zp, qmax − zp) rounded half to even, plus zp: the common last stage. */
function saturate(v: number, zp: number, q: QType): number {
  const lo = q.min - zp;
  const hi = q.max - zp;
  const c = lo < v ? v : lo;
  return roundHalfEven(c < hi ? c : hi) + zp;
}

/** QuantizeLinear of one float32 value. */
export const quantize = (x: number, scale: number, zp: number, q: QType): number => saturate(f(x / scale), zp, q);

/** DequantizeLinear of one integer value. */
export const dequantize = (x: number, scale: number, zp: number): number => f(f((x - zp) | 0) * scale);

/** The requantization scale of output channel c: xScale · wScale / yScale in f32. */
export const outputScale = (xScale: number, wScale: number, yScale: number): number => f(f(xScale * wScale) / yScale);

/** An i32 sum (plus bias, wrapping) requantized with `scale` and the output zero point. */
export const requantize = (acc: number, scale: number, zp: number, q: QType): number =>
  saturate(f(f(acc | 0) * scale), zp, q);

/** DynamicQuantizeLinear's scale and zero point for these values (NaNs skipped). */
export function dynamicParameters(values: ArrayLike<number>): { scale: number; zp: number } {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi === lo ? 1 : f(f(hi - lo) / 255);
  const z = f(0 - f(lo / scale));
  const clamped = 0 < z ? (z < 255 ? z : 255) : 0;
  return { scale, zp: roundHalfEven(clamped) };
}
