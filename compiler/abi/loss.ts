/**
 * The loss kernel (assembly/loss.ts): NegativeLogLikelihoodLoss directly, SoftmaxCrossEntropyLoss as
 * `log_softmax` over the class axis (outer = N, axis = C, inner = D) followed by it. What an op handler
 * passes for input [N, C, d1…dk] and target [N, d1…dk]: D = d1·…·dk (1 without them), targetBytes 8 for
 * int64 held as int64, 4 for int32 (or int64 held as int32), ignoreIndex the attribute (−1 when absent or
 * outside i32: a target is counted only within [0, C) anyway), reduction CODES.LOSS.
 */
import { i32, ptr, type KernelSpec } from './spec.js';

export const LOSS_KERNELS = {
  /** y = −x[n, t, d] · weight[t] per target (reduction NONE), or their sum / weighted mean (y[1], NaN over no weight). */
  nll_loss: {
    module: 'loss',
    params: [
      ptr('x'),
      ptr('target'),
      ptr('weight'),
      ptr('y'),
      i32('N'),
      i32('C'),
      i32('D'),
      i32('targetBytes'),
      i32('ignoreIndex'),
      i32('reduction'),
    ],
  },
} as const satisfies Record<string, KernelSpec>;
