import type { Outputs } from '../../runtime/model.js';
import type { Prediction } from '../shared/scores.js';

/** `ml-prediction` of `<ml-classifier>` and `<ml-image-classifier>`: the top classes, best first. */
export interface MlPredictionDetail {
  predictions: Prediction[];
  /** Every output of the model, as the runtime returns them. */
  outputs: Outputs;
}

/** `ml-prediction` of `<ml-regressor>`: `value` is the first output, `values` all of them. */
export interface MlRegressionDetail {
  value: number;
  values: number[];
  /** The outputs' names, index-aligned with `values`. */
  names: string[];
  outputs: Outputs;
}

/**
 * `ml-prediction` as any element may fire it. Each element's own `addEventListener` types its detail
 * exactly (MlClassifierEventMap, MlRegressorEventMap, …); a listener on an ancestor or the document
 * hears all of them, so there the detail is either.
 */
export type MlPredictionEvent = CustomEvent<MlPredictionDetail | MlRegressionDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'ml-prediction': MlPredictionEvent;
  }
}
