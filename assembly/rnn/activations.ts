// The activation functions of ONNX RNN, GRU and LSTM (their operator doc's list), on 4 lanes:
// codes RNN_ACT_* (compiler/abi/codes.ts), alpha and beta splatted. Definitions as onnxruntime's
// rnn_activation_functors.h (LeakyRelu and Elu take x ≥ 0 as the identity side; ThresholdedRelu is x > alpha).

import { vexp, vhardSigmoid, vlog, vsigmoid, vsplat, vtanh } from "../vmath";
import {
  RNN_ACT_RELU, RNN_ACT_TANH, RNN_ACT_SIGMOID, RNN_ACT_AFFINE, RNN_ACT_LEAKY_RELU, RNN_ACT_THRESHOLDED_RELU,
  RNN_ACT_SCALED_TANH, RNN_ACT_HARD_SIGMOID, RNN_ACT_ELU, RNN_ACT_SOFTSIGN, RNN_ACT_SOFTPLUS,
} from "../generated/abi";

/** log(1 + e^x) as max(x, 0) + log1p(e^−|x|): no overflow for large x, no loss for very negative x. */
// @ts-ignore: decorator
@inline function vsoftplus(x: v128): v128 {
  const u = vexp(f32x4.neg(f32x4.abs(x)));
  const w = f32x4.add(vsplat(1.0), u);
  // log1p(u) = log(w)·u/(w − 1) corrects the rounding of 1 + u (w − 1 is exact for u in [0, 1]).
  const d = f32x4.sub(w, vsplat(1.0));
  const l = v128.bitselect(u, f32x4.div(f32x4.mul(vlog(w), u), d), f32x4.eq(d, vsplat(0.0)));
  return f32x4.add(f32x4.max(x, vsplat(0.0)), l);
}

/** The activation `code` of v (the cells inline the default ones instead). */
// @ts-ignore: decorator
@inline export function rnnActivate(v: v128, code: i32, alpha: v128, beta: v128): v128 {
  return activate(v, code, alpha, beta);
}

/** Out of line (not exported: a module export with v128 in its signature draws an embedding warning). */
function activate(v: v128, code: i32, alpha: v128, beta: v128): v128 {
  switch (code) {
    case RNN_ACT_RELU: return f32x4.max(v, vsplat(0.0));
    case RNN_ACT_TANH: return vtanh(v);
    case RNN_ACT_SIGMOID: return vsigmoid(v);
    case RNN_ACT_AFFINE: return f32x4.add(f32x4.mul(alpha, v), beta);
    case RNN_ACT_LEAKY_RELU: return v128.bitselect(v, f32x4.mul(alpha, v), f32x4.ge(v, vsplat(0.0)));
    case RNN_ACT_THRESHOLDED_RELU: return v128.and(v, f32x4.gt(v, alpha));
    case RNN_ACT_SCALED_TANH: return f32x4.mul(alpha, vtanh(f32x4.mul(beta, v)));
    case RNN_ACT_HARD_SIGMOID: return vhardSigmoid(v, alpha, beta);
    case RNN_ACT_ELU:
      return v128.bitselect(v, f32x4.mul(alpha, f32x4.sub(vexp(v), vsplat(1.0))), f32x4.ge(v, vsplat(0.0)));
    case RNN_ACT_SOFTSIGN: return f32x4.div(v, f32x4.add(vsplat(1.0), f32x4.abs(v)));
    case RNN_ACT_SOFTPLUS: return vsoftplus(v);
    default: return v;
  }
}
