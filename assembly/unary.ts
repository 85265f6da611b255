// Elementwise unary kernels: y[i] = f(x[i]) for i < n. x == y (in place) is allowed.
// SIMD main loop; the 1-3 element tail goes through the same vector code on a partial vector, so
// tail results are bit-identical to the main loop's.

import {
  loadPartial, storePartial, vsplat, vexp, vlog, vsigmoid, vtanh, verf, vgelu,
  vhardSigmoid, vhardSwish, vleakyRelu,
} from "./vmath";

const OP_RELU: i32 = 0;
const OP_LEAKY_RELU: i32 = 1;
const OP_SIGMOID: i32 = 2;
const OP_TANH: i32 = 3;
const OP_EXP: i32 = 4;
const OP_LOG: i32 = 5;
const OP_NEG: i32 = 6;
const OP_ABS: i32 = 7;
const OP_SQRT: i32 = 8;
const OP_RECIPROCAL: i32 = 9;
const OP_ERF: i32 = 10;
const OP_CLIP: i32 = 11;
const OP_HARD_SIGMOID: i32 = 12;
const OP_HARD_SWISH: i32 = 13;
const OP_GELU: i32 = 14;
const OP_SIGN: i32 = 15;

// @ts-ignore: decorator
@inline function applyUnary(v: v128, op: i32, p0: v128, p1: v128): v128 {
  switch (op) {
    case OP_RELU: return f32x4.max(v, vsplat(0.0));
    case OP_LEAKY_RELU: return vleakyRelu(v, p0);
    case OP_SIGMOID: return vsigmoid(v);
    case OP_TANH: return vtanh(v);
    case OP_EXP: return vexp(v);
    case OP_LOG: return vlog(v);
    case OP_NEG: return f32x4.neg(v);
    case OP_ABS: return f32x4.abs(v);
    case OP_SQRT: return f32x4.sqrt(v);
    case OP_RECIPROCAL: return f32x4.div(vsplat(1.0), v);
    case OP_ERF: return verf(v);
    case OP_CLIP: return f32x4.max(p0, f32x4.min(p1, v));
    case OP_HARD_SIGMOID: return vhardSigmoid(v, p0, p1);
    case OP_HARD_SWISH: return vhardSwish(v);
    case OP_GELU: return vgelu(v);
    // 1, −1 or 0 (also for NaN, as onnxruntime: (0 < x) − (x < 0))
    case OP_SIGN: return v128.or(v128.and(f32x4.gt(v, vsplat(0.0)), vsplat(1.0)), v128.and(f32x4.lt(v, vsplat(0.0)), vsplat(-1.0)));
    default: return v;
  }
}

// `op` is a constant at every call site, so after inlining only one case survives.
// @ts-ignore: decorator
@inline function mapUnary(x: usize, y: usize, n: i32, op: i32, p0: f32, p1: f32): void {
  if (n <= 0) return;
  const v0 = vsplat(p0);
  const v1 = vsplat(p1);
  const end4 = <usize>(n & ~3) << 2;
  let off: usize = 0;
  for (; off < end4; off += 16) {
    v128.store(y + off, applyUnary(v128.load(x + off), op, v0, v1));
  }
  const rest = n & 3;
  if (rest != 0) {
    storePartial(y + off, applyUnary(loadPartial(x + off, rest), op, v0, v1), rest);
  }
}

export function unary_relu(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_RELU, 0, 0); }
export function unary_leaky_relu(x: usize, y: usize, n: i32, alpha: f32): void { mapUnary(x, y, n, OP_LEAKY_RELU, alpha, 0); }
export function unary_sigmoid(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_SIGMOID, 0, 0); }
export function unary_tanh(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_TANH, 0, 0); }
export function unary_exp(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_EXP, 0, 0); }
export function unary_log(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_LOG, 0, 0); }
export function unary_neg(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_NEG, 0, 0); }
export function unary_abs(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_ABS, 0, 0); }
export function unary_sqrt(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_SQRT, 0, 0); }
export function unary_reciprocal(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_RECIPROCAL, 0, 0); }
export function unary_erf(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_ERF, 0, 0); }
export function unary_clip(x: usize, y: usize, n: i32, lo: f32, hi: f32): void { mapUnary(x, y, n, OP_CLIP, lo, hi); }
export function unary_hard_sigmoid(x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  mapUnary(x, y, n, OP_HARD_SIGMOID, alpha, beta);
}
export function unary_hard_swish(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_HARD_SWISH, 0, 0); }
export function unary_gelu(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_GELU, 0, 0); }
export function unary_sign(x: usize, y: usize, n: i32): void { mapUnary(x, y, n, OP_SIGN, 0, 0); }
