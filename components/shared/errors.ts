import type { ModelErrorCode } from '../../runtime/errors.js';

/**
 * Error codes an element reports in `ml-error`: the runtime's ModelError codes plus the element's own.
 * - `no-form`: `for` names no `<form>` in the element's document or shadow root
 * - `no-src`: `predict()` was called on an element without `src`
 * - `not-a-classifier`: the model has no class-score output (e.g. a regression model)
 * - `not-a-regressor`: the model has no numeric value output (e.g. a classifier's labels only)
 * - `bad-format`: a formatting attribute (`unit`, `currency`, `locale`, `digits`) is not valid for Intl.NumberFormat
 * - `bad-image`: an image could not be read (not loaded, not decodable, cross-origin without CORS)
 * - `not-an-image-model`: the model's input is not an image and the model has no image preprocessing
 * - `bad-preprocessing`: an image attribute (`mean`, `std`, `scale`, `resize`, `channels`) does not fit the model
 * - `camera-denied`: the person (or the browser's settings) refused camera access
 * - `camera-unavailable`: no camera, or no camera API (pages not served over HTTPS)
 * - `no-target`: `<ml-sketch-pad for>` names no classifier element
 * - `no-model-input`: the model takes no inputs (its outputs are constants): an element has nothing to feed it
 * (the runtime's codes include `csp`, `out-of-memory`, `trap` and `timeout`: see runtime/errors.ts)
 */
export type WidgetErrorCode =
  | ModelErrorCode
  | 'no-form'
  | 'no-src'
  | 'not-a-classifier'
  | 'not-a-regressor'
  | 'bad-format'
  | 'bad-image'
  | 'not-an-image-model'
  | 'bad-preprocessing'
  | 'camera-denied'
  | 'camera-unavailable'
  | 'no-target'
  | 'no-model-input';

/** An element-level failure with a machine-readable `code`, shaped like the runtime's ModelError. */
export class WidgetError extends Error {
  readonly code: WidgetErrorCode;
  /** The message is for the page's visitor (a form field to fix), so the element shows it as is. */
  readonly forVisitor: boolean;
  constructor(code: WidgetErrorCode, message: string, options?: { cause?: unknown; forVisitor?: boolean }) {
    super(message, options);
    this.name = 'WidgetError';
    this.code = code;
    this.forVisitor = options?.forVisitor ?? false;
  }
}

/**
 * `{code, message}` from anything thrown, so the page always gets a code it can switch on, and `visible`
 * when the message itself is what the element should show.
 */
export function describeError(err: unknown): { code: WidgetErrorCode; message: string; visible?: string } {
  const e = err as { code?: unknown; message?: unknown; forVisitor?: unknown } | null;
  const code = typeof e?.code === 'string' ? (e.code as WidgetErrorCode) : 'bad-input';
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return e?.forVisitor === true ? { code, message, visible: message } : { code, message };
}
