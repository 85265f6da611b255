import type { ImagePreprocessing } from '../../runtime/meta.js';

/** `ml-sketch` of `<ml-sketch-pad>`: the drawing as the target model's input. */
export interface MlSketchDetail {
  /** One row of model input (a copy the pad will not change). */
  pixels: Float32Array;
  /** The preprocessing that made it (the model's, with the classifier's attribute overrides). */
  preprocessing: ImagePreprocessing;
  /** True when the stroke ended (false for the throttled updates while drawing). */
  final: boolean;
}
export type MlSketchEvent = CustomEvent<MlSketchDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'ml-sketch': MlSketchEvent;
  }
}
