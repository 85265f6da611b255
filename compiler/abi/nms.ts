/**
 * The NonMaxSuppression kernel (assembly/nms.ts). What the op handler passes for boxes [B, S, 4] and
 * scores [B, C, S]: pointers to max_output_boxes_per_class (maxBytes 8 for int64 held as int64, 4 for int32),
 * iou_threshold and score_threshold (constants in the data segment or run-time buffers; null when absent),
 * y an int64 [bound, 3] buffer, count the slot of the computed row count, scratch ≥ 3·S i32 words,
 * centerPointBox the attribute, bound the computed size's bound.
 */
import { i32, ptr, type KernelSpec } from './spec.js';

export const NMS_KERNELS = {
  /** selected_indices rows (batch, class, box) in onnxruntime's order, their count into `count`. */
  non_max_suppression: {
    module: 'nms',
    params: [
      ptr('boxes'),
      ptr('scores'),
      ptr('maxPerClass'),
      ptr('iou'),
      ptr('scoreThreshold'),
      ptr('y'),
      ptr('count'),
      ptr('scratch'),
      i32('B'),
      i32('C'),
      i32('S'),
      i32('centerPointBox'),
      i32('maxBytes'),
      i32('bound'),
    ],
  },
} as const satisfies Record<string, KernelSpec>;
