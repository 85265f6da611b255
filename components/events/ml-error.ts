import type { WidgetErrorCode } from '../shared/errors.js';

/** `ml-error`: loading or predicting failed; `code` is machine-readable, `message` the full diagnostic. */
export interface MlErrorDetail {
  code: WidgetErrorCode;
  message: string;
}
export type MlErrorEvent = CustomEvent<MlErrorDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'ml-error': MlErrorEvent;
  }
}
