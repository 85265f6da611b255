// Elementwise unary kernels: y[i] = f(x[i]) for i < n. x == y (in place) is allowed.
// SIMD main loop; the 1-3 element tail goes through the same vector code on a partial vector, so
// tail results are bit-identical to the main loop's. Where ONNX names a math function (sin, asinh, elu's
// e^x − 1, …) the result is within ~0.5 ulp of the correctly rounded float32 (computed in f64 and
// rounded once: vtrig.ts, varc.ts, vhyper.ts, vact.ts); test/browser/math-kernels.test.ts measures it.

import {
  loadPartial, storePartial, vsplat, vexp, vlog, vsigmoid, vtanh, verf, vgelu,
  vhardSigmoid, vhardSwish, vleakyRelu,
} from "./vmath";
import { vacos, vasin, vatan } from "./varc";
import { vcelu, velu, vmish, vselu, vshrink, vsoftplus, vsoftsign, vthresholdedRelu } from "./vact";
import { vacosh, vasinh, vatanh, vcosh, vsinh } from "./vhyper";
import { vcos, vsin, vtan } from "./vtrig";
import {
  UNARY_ELU, UNARY_SELU, UNARY_CELU, UNARY_THRESHOLDED_RELU, UNARY_SHRINK, UNARY_SOFTPLUS, UNARY_SOFTSIGN,
  UNARY_MISH, UNARY_SIN, UNARY_COS, UNARY_TAN, UNARY_ASIN, UNARY_ACOS, UNARY_ATAN, UNARY_SINH, UNARY_COSH,
  UNARY_ASINH, UNARY_ACOSH, UNARY_ATANH, UNARY_FLOOR, UNARY_CEIL, UNARY_ROUND,
  UNARY_RELU, UNARY_LEAKY_RELU, UNARY_SIGMOID, UNARY_TANH, UNARY_EXP, UNARY_LOG, UNARY_NEG, UNARY_ABS, UNARY_SQRT,
  UNARY_RECIPROCAL, UNARY_ERF, UNARY_CLIP, UNARY_HARD_SIGMOID, UNARY_HARD_SWISH, UNARY_GELU, UNARY_SIGN,
} from "./generated/abi";


// @ts-ignore: decorator
@inline function applyUnary(v: v128, op: i32, p0: v128, p1: v128, s0: f32, s1: f32): v128 {
  switch (op) {
    case UNARY_RELU: return f32x4.max(v, vsplat(0.0));
    case UNARY_LEAKY_RELU: return vleakyRelu(v, p0);
    case UNARY_SIGMOID: return vsigmoid(v);
    case UNARY_TANH: return vtanh(v);
    case UNARY_EXP: return vexp(v);
    case UNARY_LOG: return vlog(v);
    case UNARY_NEG: return f32x4.neg(v);
    case UNARY_ABS: return f32x4.abs(v);
    case UNARY_SQRT: return f32x4.sqrt(v);
    case UNARY_RECIPROCAL: return f32x4.div(vsplat(1.0), v);
    case UNARY_ERF: return verf(v);
    case UNARY_CLIP: return f32x4.max(p0, f32x4.min(p1, v));
    case UNARY_HARD_SIGMOID: return vhardSigmoid(v, p0, p1);
    case UNARY_HARD_SWISH: return vhardSwish(v);
    case UNARY_GELU: return vgelu(v);
    // 1, −1 or 0; NaN stays NaN (as onnxruntime and numpy's sign)
    case UNARY_SIGN: {
      const s = v128.or(v128.and(f32x4.gt(v, vsplat(0.0)), vsplat(1.0)), v128.and(f32x4.lt(v, vsplat(0.0)), vsplat(-1.0)));
      return v128.bitselect(v, s, f32x4.ne(v, v));
    }
    case UNARY_ELU: return velu(v, s0);
    case UNARY_SELU: return vselu(v, s0, s1);
    case UNARY_CELU: return vcelu(v, s0);
    case UNARY_THRESHOLDED_RELU: return vthresholdedRelu(v, p0);
    case UNARY_SHRINK: return vshrink(v, p0, p1);
    case UNARY_SOFTPLUS: return vsoftplus(v);
    case UNARY_SOFTSIGN: return vsoftsign(v);
    case UNARY_MISH: return vmish(v);
    case UNARY_SIN: return vsin(v);
    case UNARY_COS: return vcos(v);
    case UNARY_TAN: return vtan(v);
    case UNARY_ASIN: return vasin(v);
    case UNARY_ACOS: return vacos(v);
    case UNARY_ATAN: return vatan(v);
    case UNARY_SINH: return vsinh(v);
    case UNARY_COSH: return vcosh(v);
    case UNARY_ASINH: return vasinh(v);
    case UNARY_ACOSH: return vacosh(v);
    case UNARY_ATANH: return vatanh(v);
    case UNARY_FLOOR: return f32x4.floor(v);
    case UNARY_CEIL: return f32x4.ceil(v);
    // half to even
    case UNARY_ROUND: return f32x4.nearest(v);
    default: return v;
  }
}

// The family's implementation: the generated unary_* kernels (compiler/abi/kernels.ts) call it with
// their op code. `op` is a constant at every call site, so after inlining only one case survives.
// @ts-ignore: decorator
@inline export function mapUnary(x: usize, y: usize, n: i32, op: i32, p0: f32, p1: f32): void {
  if (n <= 0) return;
  const v0 = vsplat(p0);
  const v1 = vsplat(p1);
  const end4 = <usize>(n & ~3) << 2;
  let off: usize = 0;
  for (; off < end4; off += 16) {
    v128.store(y + off, applyUnary(v128.load(x + off), op, v0, v1, p0, p1));
  }
  const rest = n & 3;
  if (rest != 0) {
    storePartial(y + off, applyUnary(loadPartial(x + off, rest), op, v0, v1, p0, p1), rest);
  }
}

