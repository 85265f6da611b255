import { html, nothing, type PropertyValues } from 'lit';
import { ModelElement } from '../shared/model-element.js';
import { property, state } from 'lit/decorators.js';
import type { ModelInput, Outputs } from '../../runtime/model.js';
import { FormBindingController } from '../controllers/form-controller.js';
import type { LoadedModel } from '../controllers/model-controller.js';
import { labelsConverter } from '../shared/converters.js';
import { canDefine } from '../define.js';
import { WidgetError, describeError } from '../shared/errors.js';
import { emit } from '../shared/events.js';
import { errorTitle, renderError, renderLoading } from '../shared/render.js';
import type { MlErrorDetail, MlLoadDetail, MlProgressDetail } from '../shared/types.js';
import type { Prediction } from '../shared/scores.js';
import { Ranker, assertClassifier, predictionStatus, renderPredictions } from '../shared/predictions.js';
import { styles } from './ml-classifier.styles.js';

export type { Prediction } from '../shared/scores.js';
export type { MlErrorDetail, MlLoadDetail, MlProgressDetail } from '../shared/types.js';

export interface PredictResult<P = Prediction[] | Prediction[][]> {
  /** Top-k classes, best first: for one row a list, for a batch a list per row. */
  predictions: P;
  /** Every output of the model, as the runtime returns them. */
  outputs: Outputs;
}

export type MlPredictionDetail = PredictResult<Prediction[]>;

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
export class MlClassifier extends ModelElement {
  static override styles = styles;

  /**
   * The id of a `<form>` whose fields are the input: `<input type=number|range>`, `<select>`, checkboxes
   * (1/0) and radio groups in document order, or the fields with `data-feature` (a column number or a
   * model input's name). Selects on columns the model one-hot encodes map to its categories. Predicts
   * again on the form's `input` and `change` events.
   */
  @property({ attribute: 'for' }) for = '';

  /** How many classes to show, best first. */
  @property({ attribute: 'top-k', type: Number }) topK = 3;

  /** Class names overriding the model's own, comma-separated in the attribute (an array as property). */
  @property({ converter: labelsConverter }) labels?: string[];

  /** One row of features; setting it predicts (once the model is loaded). Takes precedence over `for`. */
  @property({ attribute: false }) input?: number[] | Float32Array | ArrayLike<number>;

  @state() private _predictions: Prediction[] = [];
  @state() private _error?: MlErrorDetail;

  private readonly _ranker = new Ranker();

  private readonly _form = new FormBindingController(this, {
    formId: () => this.for,
    onInput: () => {
      this._dirty = true;
      // Called from within an update when `for` changes: update() then still sees the flag.
      this.requestUpdate();
    },
    onMissing: (id) =>
      this._fail(
        new WidgetError('no-form', `There is no form with id “${id}” on this page for the classifier to read.`),
      ),
  });

  /** The current top-k predictions, best first (empty until something was predicted). */
  get predictions(): readonly Prediction[] {
    return this._predictions;
  }

  /** The current error (what `ml-error` last reported), or undefined when all is well. */
  get error(): Readonly<MlErrorDetail> | undefined {
    return this._error;
  }

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
    if (changed.has('for') && this._error?.code === 'no-form') this._error = undefined;
    if (changed.has('input') || changed.has('topK') || changed.has('labels')) this._dirty = true;
    super.update(changed);
  }

  protected override _startPrediction(model: LoadedModel): Outputs | Promise<Outputs> | undefined {
    let input: ModelInput | undefined = this.input;
    if (input === undefined && this._form.form) input = this._form.readInput(model.meta);
    return input === undefined ? undefined : this._outputs(model, input);
  }

  protected override _clearResult(withError: boolean): void {
    this._predictions = [];
    if (withError) this._error = undefined;
  }

  protected override _show(model: LoadedModel, outputs: Outputs): void {
    this._predictions = this._rank(model, outputs)[0];
    this._error = undefined;
    emit<MlPredictionDetail>(this, 'ml-prediction', { predictions: this._predictions, outputs });
  }

  /** Run the model: the outputs at once on the main thread, a Promise from a worker. */
  private _outputs(model: LoadedModel, input: ModelInput, rows?: number): Outputs | Promise<Outputs> {
    assertClassifier(model.meta, 'ml-classifier');
    return model.predict(input, rows);
  }

  /** Rank each row's scores, best first. */
  private _rank(model: LoadedModel, outputs: Outputs): Prediction[][] {
    return this._ranker.rank(model.meta, outputs, this.topK, this.labels);
  }

  protected override _modelLoaded(): void {
    this._dirty = true;
  }

  /** Show an error inside the element and tell the page; never throw. */
  protected override _fail(error: unknown): void {
    this._error = describeError(error);
    emit<MlErrorDetail>(this, 'ml-error', { ...this._error });
  }

  protected override render() {
    const loading = this._showLoading();
    const error = loading ? undefined : this._error;
    const predictions = error ? [] : this._predictions;
    return html`<div class="base" part="base">
      ${loading ? renderLoading(this._loader.progress) : nothing}
      ${error ? renderError(error) : nothing}
      ${renderPredictions(predictions)}
      <div class="status" part="status" role="status">${this._statusText(loading, error, predictions) || nothing}</div>
    </div>`;
  }

  // '' renders as `nothing`: an empty text part in server-rendered HTML takes no later update after
  // hydration (lit/lit#4937), which would leave the live region silent.
  private _statusText(loading: boolean, error: MlErrorDetail | undefined, predictions: readonly Prediction[]): string {
    if (loading) return 'Loading model…';
    if (error) return `${errorTitle(error.code)} ${error.message}`;
    // Whole percent, so typing in a form does not make the region chatter about decimals.
    if (predictions.length) return predictionStatus(predictions);
    return this._loader.model ? 'Model loaded.' : '';
  }
}

// Guarded (a second copy of ml-widgets warns instead of throwing); the literal customElements.define
// is what the manifest analyzer reads the tag name from.
if (canDefine('ml-classifier', MlClassifier)) customElements.define('ml-classifier', MlClassifier);

declare global {
  interface HTMLElementTagNameMap {
    'ml-classifier': MlClassifier;
  }
  interface HTMLElementEventMap {
    'ml-load': CustomEvent<MlLoadDetail>;
    'ml-progress': CustomEvent<MlProgressDetail>;
    'ml-prediction': CustomEvent<MlPredictionDetail>;
    'ml-error': CustomEvent<MlErrorDetail>;
  }
}
