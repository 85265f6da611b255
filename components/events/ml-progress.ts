import type { LoadProgress } from '../../runtime/load.js';

/** `ml-progress`: bytes of the model downloaded (`total` is 0 when the server does not say). */
export type MlProgressDetail = LoadProgress;
export type MlProgressEvent = CustomEvent<MlProgressDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'ml-progress': MlProgressEvent;
  }
}
