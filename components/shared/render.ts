// Rendering shared by the elements: the loading area with its progress bar, and the error box.
import { html, nothing } from 'lit';
import { styleProps } from './style-props.js';
import type { LoadProgress } from '../../runtime/load.js';
import type { WidgetErrorCode } from './errors.js';

/** The loading slot and a progress bar: determinate with a known size, indeterminate without. */
export function renderLoading({ loaded, total }: LoadProgress) {
  const determinate = total > 0;
  const fraction = determinate ? Math.min(1, loaded / total) : 0;
  return html`<div class="loading" part="loading">
    <slot name="loading"><span class="loading-text">Loading model…</span></slot>
    <div
      class="progress ${determinate ? '' : 'indeterminate'}"
      part="progress"
      role="progressbar"
      aria-label="Loading model"
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${determinate ? Math.round(fraction * 100) : nothing}
    >
      <div class="progress-fill" part="progress-fill" ${styleProps({ transform: determinate ? `scaleX(${fraction})` : undefined })}></div>
    </div>
  </div>`;
}

/** The error box: the `error` slot, or a title and the short sentence the element shows. */
export function renderError(code: WidgetErrorCode, shown: string) {
  return html`<div class="error" part="error">
    <slot name="error"><span class="error-title">${errorTitle(code)}</span> ${shown}</slot>
  </div>`;
}

/** What the live region says about an error: the same title and sentence as the box. */
export const errorStatus = (code: WidgetErrorCode, shown: string) => `${errorTitle(code)} ${shown}`;

const FILE = 'The model file is damaged or is not a model.';
const SETUP = 'This widget is not set up correctly.';
/** What a visitor is told, per code: short and human (the full diagnostic goes to the console). */
const VISIBLE: Partial<Record<WidgetErrorCode, string>> = {
  unsupported: 'This browser cannot run it. Try a current Chrome, Edge, Firefox or Safari.',
  'fetch-failed': 'It could not be downloaded. Check your connection and try again.',
  'not-wasm': FILE,
  'invalid-wasm': FILE,
  'not-a-model': FILE,
  'bad-meta': FILE,
  'has-imports': FILE,
  'memory-mismatch': FILE,
  'unsupported-version': 'The model file was made for another version of this widget.',
  integrity: 'The model file has changed since this page was made, so it was not used.',
  csp: "This page's security settings do not allow it.",
  'out-of-memory': 'The browser has no memory left for it. Reload the page.',
  trap: 'The model failed while working it out.',
  timeout: 'The model took too long and was stopped.',
  'thread-failed': 'A helper thread stopped while the model was working. Try again.',
  'bad-input': 'These values cannot be used by the model.',
  'bad-image': 'This image cannot be read. Try another one.',
  'camera-denied': 'Camera access was refused.',
  'camera-unavailable': 'No camera can be used here.',
  'bad-format': 'The value cannot be shown.',
};

/** The sentence an element shows for an error (`message` is the full diagnostic). */
export function visibleMessage(code: WidgetErrorCode, message: string): string {
  if (code === 'http-error') {
    const status = /answered (\d{3})/.exec(message)?.[1];
    return `The model file is not available${status ? ` (HTTP ${status})` : ''}.`;
  }
  return VISIBLE[code] ?? SETUP;
}

/** Input problems can be fixed on the page; the rest is about the model file. */
export function errorTitle(code: WidgetErrorCode): string {
  if (
    code === 'bad-input' ||
    code === 'no-form' ||
    code === 'bad-image' ||
    code === 'no-target' ||
    code === 'trap' ||
    code === 'timeout' ||
    code === 'thread-failed'
  )
    return 'Cannot predict:';
  if (code === 'camera-denied' || code === 'camera-unavailable') return 'Camera not available:';
  if (code === 'bad-preprocessing') return 'Cannot prepare the image:';
  if (code === 'bad-format') return 'Cannot show the value:';
  if (
    code === 'not-a-classifier' ||
    code === 'not-a-regressor' ||
    code === 'not-an-image-model' ||
    code === 'no-model-input'
  )
    return 'Wrong kind of model:';
  return 'The model could not be loaded:';
}
