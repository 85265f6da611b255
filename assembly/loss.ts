// NegativeLogLikelihoodLoss (and SoftmaxCrossEntropyLoss after log_softmax) over x [N, C, D] and integer
// targets [N, D], as the ONNX function bodies define them (what onnxruntime runs): a target counts when it
// is not ignoreIndex, its loss is −x[n, t, d] · weight[t]; "sum" adds them, "mean" divides the sum by the
// summed weights of the counted targets (without weights: their count), so a mean over no weight is NaN.
// A target outside [0, C) (which onnxruntime refuses) counts as ignored here: no read outside x.
// Sums are accumulated in f64.

import { LOSS_MEAN, LOSS_NONE } from "./generated/abi";

/**
 * x f32 [N, C, D]; target [N, D] of i64 (targetBytes 8) or i32 (4); weight f32[C] or 0 (all 1);
 * reduction CODES.LOSS: NONE writes y f32 [N, D], SUM and MEAN write y f32[1]. y must not overlap x.
 */
export function nll_loss(
  x: usize,
  target: usize,
  weight: usize,
  y: usize,
  N: i32,
  C: i32,
  D: i32,
  targetBytes: i32,
  ignoreIndex: i32,
  reduction: i32,
): void {
  let sum: f64 = 0;
  let weights: f64 = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const at = <usize>n * <usize>D + <usize>d;
      const t64: i64 = targetBytes == 8 ? load<i64>(target + (at << 3)) : <i64>load<i32>(target + (at << 2));
      let loss: f32 = 0;
      if (t64 >= 0 && t64 < <i64>C && t64 != <i64>ignoreIndex) {
        const t = <i32>t64;
        const w: f32 = weight ? load<f32>(weight + (<usize>t << 2)) : 1;
        const v = load<f32>(x + ((<usize>(n * C + t) * <usize>D + <usize>d) << 2));
        loss = weight ? -v * w : -v;
        weights += <f64>w;
      }
      if (reduction == LOSS_NONE) store<f32>(y + (at << 2), loss);
      else sum += <f64>loss;
    }
  }
  if (reduction == LOSS_NONE) return;
  if (reduction == LOSS_MEAN) sum /= weights;
  store<f32>(y, <f32>sum);
}
