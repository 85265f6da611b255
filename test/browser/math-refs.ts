// Double-precision references for the unary math kernels, written from the ONNX operator definitions
// (onnx/defs/math, onnx/reference/ops/op_*.py) with the engine's Math.* as the f64 function: the kernel
// results are compared after rounding these to float32. Where the ONNX formula, evaluated literally, gives
// NaN at ±Inf, the reference is its limit (softsign(±Inf) = ±1, mish(−Inf) = −0), as the kernels promise.

/** ln(1 + e^x) without overflow. */
export const softplusRef = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

export const eluRef = (x: number, alpha: number): number => (x < 0 ? alpha * Math.expm1(x) : x);
export const seluRef = (x: number, alpha: number, gamma: number): number =>
  x > 0 ? gamma * x : gamma * alpha * Math.expm1(x);
export const celuRef = (x: number, alpha: number): number => (x < 0 ? alpha * Math.expm1(x / alpha) : x);
export const mishRef = (x: number): number => (x === -Infinity ? -0 : x * Math.tanh(softplusRef(x)));
export const softsignRef = (x: number): number => (Math.abs(x) === Infinity ? Math.sign(x) : x / (1 + Math.abs(x)));
export const thresholdedReluRef = (x: number, alpha: number): number => (x > alpha ? x : 0);
export const shrinkRef = (x: number, bias: number, lambd: number): number =>
  x < -lambd ? x + bias : x > lambd ? x - bias : 0;
/** Round half to even (numpy.round, ONNX Round). */
export const roundRef = (x: number): number => {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // half up
  const even = r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even === 0 ? (Object.is(x, -0) || x < 0 ? -0 : 0) : even;
};

// Selu's defaults (ONNX), as the float32 attributes an op handler passes.
export const SELU_ALPHA = Math.fround(1.67326319217681884765625);
export const SELU_GAMMA = Math.fround(1.05070102214813232421875);

/** Distance in float32 ulps between two float32 values (0 for two NaNs, Infinity for one). */
export function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const key = (v: number) => {
    const bits = new Int32Array(new Float32Array([v]).buffer)[0];
    return bits >= 0 ? bits : -(bits & 0x7fffffff);
  };
  return Math.abs(key(a) - key(b));
}
