// Rendering shared by the elements: the loading area with its progress bar, and the error box.
import { html, nothing } from 'lit';
import { styleProps } from './style-props.js';
import type { LoadProgress } from '../../runtime/load.js';
import type { WidgetErrorCode } from './errors.js';
import type { MlErrorDetail } from './types.js';

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

/** The error box: the `error` slot, or a title and the message. */
export function renderError(error: MlErrorDetail) {
  return html`<div class="error" part="error">
    <slot name="error"><span class="error-title">${errorTitle(error.code)}</span> ${error.message}</slot>
  </div>`;
}

/** Input problems can be fixed on the page; the rest is about the model file. */
export function errorTitle(code: WidgetErrorCode): string {
  if (code === 'bad-input' || code === 'no-form' || code === 'bad-image' || code === 'no-target')
    return 'Cannot predict:';
  if (code === 'camera-denied' || code === 'camera-unavailable') return 'Camera not available:';
  if (code === 'bad-preprocessing') return 'Cannot prepare the image:';
  if (code === 'bad-format') return 'Cannot show the value:';
  if (code === 'not-a-classifier' || code === 'not-a-regressor' || code === 'not-an-image-model')
    return 'Wrong kind of model:';
  return 'The model could not be loaded:';
}
