import type { LoadProgress } from '../../runtime/load.js';
import type { ModelMeta } from '../../runtime/meta.js';
import type { WidgetErrorCode } from './errors.js';

/** `ml-load`: the model loaded. */
export interface MlLoadDetail {
  meta: ModelMeta;
}
/** `ml-progress`: bytes downloaded (`total` is 0 when unknown). */
export type MlProgressDetail = LoadProgress;
/** `ml-error`: loading or predicting failed. */
export interface MlErrorDetail {
  code: WidgetErrorCode;
  message: string;
}
