import type { ModelMeta } from '../../runtime/meta.js';

/** `ml-load`: the model loaded; `meta` is its metadata. */
export interface MlLoadDetail {
  meta: ModelMeta;
}
export type MlLoadEvent = CustomEvent<MlLoadDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'ml-load': MlLoadEvent;
  }
}
