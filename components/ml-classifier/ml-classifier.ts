import { html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import type { ModelInput, Outputs } from '../../runtime/model.js';
import { FormBindingController } from '../controllers/form-controller.js';
import type { LoadedModel } from '../controllers/model-controller.js';
import { canDefine } from '../define.js';
import type { TypedEvents } from '../events/index.js';
import { ClassifierElement, type ClassifierEventMap } from '../shared/classifier-element.js';
import { WidgetError } from '../shared/errors.js';
import { predictionStatus, renderPredictions } from '../shared/predictions.js';
import { renderLoading } from '../shared/render.js';
import type { Prediction } from '../shared/scores.js';
import { styles } from './ml-classifier.styles.js';

export type { Prediction } from '../shared/scores.js';
export type { MlErrorDetail, MlLoadDetail, MlProgressDetail, MlPredictionDetail } from '../events/index.js';

export interface PredictResult<P = Prediction[] | Prediction[][]> {
  /** Top-k classes, best first: for one row a list, for a batch a list per row. */
  predictions: P;
  /** Every output of the model, as the runtime returns them. */
  outputs: Outputs;
}

/** The events of `<ml-classifier>`, with their detail types. */
export type MlClassifierEventMap = ClassifierEventMap;

/**
 * Classifies a row of numbers with a compiled model (`.wasm` from the ml-widgets compiler) and shows
 * the top classes with accessible bars. Input comes from the `input` property or from a form named by
 * `for`, and is predicted again whenever the form changes.
 *
 * @tagname ml-classifier
 * @summary Top-k class predictions of a compiled model for numeric features, from a form or a property.
 *
 * @fires {CustomEvent<{meta: ModelMeta}>} ml-load - The model loaded; `detail.meta` is its metadata.
 * @fires {CustomEvent<{loaded: number, total: number}>} ml-progress - Download progress in bytes (`total` is 0 when unknown).
 * @fires {CustomEvent<{predictions: Prediction[], outputs: Outputs}>} ml-prediction - New predictions (top-k, best first) and the model's raw outputs.
 * @fires {CustomEvent<{code: string, message: string}>} ml-error - Loading or predicting failed; `code` is machine-readable (`http-error`, `not-wasm`, `no-form`, `bad-input`, …).
 *
 * @slot loading - Shown while the model downloads, above the progress bar (default: "Loading model…").
 * @slot error - Shown instead of the default error message.
 *
 * @csspart base - The wrapper of everything.
 * @csspart list - The list of predictions.
 * @csspart row - One prediction (the best one also has part `row-top`).
 * @csspart row-top - The best prediction's row.
 * @csspart label - A class label.
 * @csspart bar - A score bar's track (role meter).
 * @csspart bar-fill - A score bar's filled part.
 * @csspart value - A score as a percentage.
 * @csspart loading - The loading area (slot and progress bar).
 * @csspart progress - The download progress bar's track.
 * @csspart progress-fill - The download progress bar's filled part.
 * @csspart error - The error message box.
 * @csspart status - The live region announcing state to screen readers (visually hidden by default).
 *
 * @cssprop [--ml-font=inherit] - Font shorthand for the element.
 * @cssprop [--ml-color=inherit] - Text color.
 * @cssprop [--ml-muted-color] - Color of secondary text (loading message).
 * @cssprop [--ml-bar-color=#2563eb] - Fill of the best score's bar and of the progress bar.
 * @cssprop [--ml-bar-color-secondary] - Fill of the other bars (default: the bar color, lighter).
 * @cssprop [--ml-bar-background] - Track behind bars (default: 12% of the text color).
 * @cssprop [--ml-bar-height=0.75em] - Bar thickness.
 * @cssprop [--ml-bar-radius=999px] - Bar corner radius.
 * @cssprop [--ml-label-width=9em] - Widest the label column grows.
 * @cssprop [--ml-gap=0.5em] - Space between rows.
 * @cssprop [--ml-top-font-weight=600] - Font weight of the best prediction.
 * @cssprop [--ml-error-color=#b91c1c] - Error text and border color.
 * @cssprop [--ml-error-background] - Error box background.
 * @cssprop [--ml-error-radius=0.4em] - Error box corner radius.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types HTMLElement's own methods
export class MlClassifier extends ClassifierElement {
  static override styles = styles;

  /**
   * The id of a `<form>` whose fields are the input: `<input type=number|range>`, `<select>`, checkboxes
   * (1/0) and radio groups in document order, or the fields with `data-feature` (a column number or a
   * model input's name). Selects on columns the model one-hot encodes map to its categories. Predicts
   * again on the form's `input` and `change` events.
   */
  @property({ attribute: 'for' }) for = '';

  /** One row of features; setting it predicts (once the model is loaded). Takes precedence over `for`. */
  @property({ attribute: false }) input?: number[] | Float32Array | ArrayLike<number>;

  private readonly _form = new FormBindingController(this, {
    formId: () => this.for,
    onInput: () => {
      this._dirty = true;
      // Called from within an update when `for` changes: update() then still sees the flag.
      this.requestUpdate();
    },
    onMissing: (id) => {
      this._clearResult();
      this._fail(
        new WidgetError('no-form', `There is no form with id “${id}” on this page for the classifier to read.`),
      );
    },
  });

  /**
   * Predict without changing what the element shows: one row gives `Prediction[]`, a batch (nested
   * rows, or several rows of flat data) a `Prediction[][]`. Waits for the model (and starts a lazy
   * load). Rejects with an error that has a `code`, like `ml-error`.
   */
  async predict(input: ModelInput, rows?: number): Promise<PredictResult> {
    const model = await this._loader.whenLoaded();
    const outputs = await this._outputs(model, input, rows);
    const predictions = this._rank(model, outputs);
    const nested = Array.isArray(input) && input.length > 0 && typeof input[0] === 'object';
    return { predictions: nested || predictions.length > 1 ? predictions : predictions[0], outputs };
  }

  protected override update(changed: PropertyValues<this>): void {
    if (changed.has('for') && this.error?.code === 'no-form') this._errors.clear();
    if (changed.has('input')) this._dirty = true;
    super.update(changed);
  }

  protected override _startPrediction(model: LoadedModel): Outputs | Promise<Outputs> | undefined {
    let input: ModelInput | undefined = this.input;
    if (input === undefined && this._form.form) input = this._form.readInput(model.meta);
    return input === undefined ? undefined : this._outputs(model, input);
  }

  /** Run the model: the outputs at once on the main thread, a Promise from a worker. */
  private _outputs(model: LoadedModel, input: ModelInput, rows?: number): Outputs | Promise<Outputs> {
    this._assertClassifier(model);
    return model.predict(input, rows);
  }

  protected override _modelLoaded(): void {
    this._dirty = true;
  }

  protected override render() {
    const loading = this._showLoading();
    const error = !loading && this.error !== undefined;
    const predictions = error ? [] : this._predictions;
    return html`<div class="base" part="base">
      ${loading ? renderLoading(this._loader.progress) : nothing}
      ${error ? this._renderError() : nothing}
      ${renderPredictions(predictions)}
      <div class="status" part="status" role="status">${this._statusText(loading, error, predictions) || nothing}</div>
    </div>`;
  }

  // '' renders as `nothing`: an empty text part in server-rendered HTML takes no later update after
  // hydration (lit/lit#4937), which would leave the live region silent.
  private _statusText(loading: boolean, error: boolean, predictions: readonly Prediction[]): string {
    if (loading) return 'Loading model…';
    if (error) return this._errorStatus();
    // Whole percent, so typing in a form does not make the region chatter about decimals.
    if (predictions.length) return predictionStatus(predictions);
    return this._loader.model ? 'Model loaded.' : '';
  }
}

// Guarded (a second copy of ml-widgets warns instead of throwing); the literal customElements.define
// is what the manifest analyzer reads the tag name from.
if (canDefine('ml-classifier', MlClassifier)) customElements.define('ml-classifier', MlClassifier);

// Listeners on the element get its own event types (declaration merging: types only, no new members).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MlClassifier {
  addEventListener: TypedEvents<MlClassifier, MlClassifierEventMap>['addEventListener'];
  removeEventListener: TypedEvents<MlClassifier, MlClassifierEventMap>['removeEventListener'];
}

declare global {
  interface HTMLElementTagNameMap {
    'ml-classifier': MlClassifier;
  }
}
