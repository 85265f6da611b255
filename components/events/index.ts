// The elements' events, each declared once with its detail type (one module per event), and the typed
// way to fire them and to listen to one element's events.
import type { MlErrorEvent } from './ml-error.js';
import type { MlLoadEvent } from './ml-load.js';
import type { MlProgressEvent } from './ml-progress.js';

export type { MlErrorDetail, MlErrorEvent } from './ml-error.js';
export type { MlLoadDetail, MlLoadEvent } from './ml-load.js';
export type { MlProgressDetail, MlProgressEvent } from './ml-progress.js';
export type { MlPredictionDetail, MlPredictionEvent, MlRegressionDetail } from './ml-prediction.js';
export type { MlSketchDetail, MlSketchEvent } from './ml-sketch.js';

/** The events every element that loads a model fires. */
export interface ModelElementEventMap {
  'ml-load': MlLoadEvent;
  'ml-progress': MlProgressEvent;
  'ml-error': MlErrorEvent;
}

/**
 * `addEventListener` / `removeEventListener` typed by an element's own event map `M` (merged into the
 * element's class by an interface of the same name), then as any element's.
 */
export interface TypedEvents<Self, M> {
  addEventListener<K extends keyof M>(
    type: K,
    listener: (this: Self, event: M[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: Self, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof M>(
    type: K,
    listener: (this: Self, event: M[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: Self, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** The detail type of event `K` in map `M`. */
type DetailOf<M, K extends keyof M> = M[K] extends CustomEvent<infer D> ? D : never;

/** Dispatch a bubbling, composed CustomEvent, so pages can listen on any ancestor, across shadow roots. */
export function emit<M, K extends keyof M & string>(host: HTMLElement, type: K, detail: DetailOf<M, K>): boolean {
  return host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
