import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { rowSize, type TensorMeta } from '../../runtime/meta.js';
import type { ModelInput, Outputs } from '../../runtime/model.js';
import { ErrorController } from '../controllers/error-controller.js';
import { FormBindingController } from '../controllers/form-controller.js';
import type { LoadedModel } from '../controllers/model-controller.js';
import { canDefine } from '../define.js';
import { emit, type ModelElementEventMap, type TypedEvents } from '../events/index.js';
import type { MlErrorDetail } from '../events/ml-error.js';
import type { MlRegressionDetail } from '../events/ml-prediction.js';
import { labelsConverter } from '../shared/converters.js';
import { WidgetError } from '../shared/errors.js';
import { ModelElement } from '../shared/model-element.js';
import { errorStatus, renderError, renderLoading } from '../shared/render.js';
import { styles } from './ml-regressor.styles.js';

export type { MlRegressionDetail } from '../events/ml-prediction.js';

export interface RegressionResult<V = number[] | number[][]> {
  /** For one row, the value of each output; for a batch, that list per row. */
  values: V;
  /** Every output of the model, as the runtime returns them. */
  outputs: Outputs;
}

/** The events of `<ml-regressor>`, with their detail types. */
export interface MlRegressorEventMap extends ModelElementEventMap {
  'ml-prediction': CustomEvent<MlRegressionDetail>;
}

/** The output holding the predicted values: the first float32 output of kind `values`. */
function findValuesOutput(model: LoadedModel): TensorMeta {
  const t = model.meta.outputs.find((o) => o.dtype === 'float32' && o.kind === 'values');
  if (!t) {
    throw new WidgetError(
      'not-a-regressor',
      'This model has no numeric value output, so <ml-regressor> has nothing to show. Is it a classifier? Use <ml-classifier>.',
    );
  }
  return t;
}

/**
 * Predicts numbers with a compiled regression model (`.wasm` from the ml-widgets compiler) and shows
 * them formatted with `Intl.NumberFormat` — as a unit, a currency or a plain number. Input comes from
 * the `input` property or from a form named by `for`, and is predicted again whenever the form changes.
 * A model with several outputs (targets) shows each, named by `labels` or by the model.
 *
 * @tagname ml-regressor
 * @summary The predicted value(s) of a compiled regression model, formatted, from a form or a property.
 *
 * @fires {CustomEvent<{meta: ModelMeta}>} ml-load - The model loaded; `detail.meta` is its metadata.
 * @fires {CustomEvent<{loaded: number, total: number}>} ml-progress - Download progress in bytes (`total` is 0 when unknown).
 * @fires {CustomEvent<{value: number, values: number[], names: string[], outputs: Outputs}>} ml-prediction - A new prediction: `value` is the first output, `values` every output.
 * @fires {CustomEvent<{code: string, message: string}>} ml-error - Loading, predicting or formatting failed; `code` is machine-readable (`http-error`, `not-wasm`, `no-form`, `bad-input`, `not-a-regressor`, `bad-format`, …).
 *
 * @slot loading - Shown while the model downloads, above the progress bar (default: "Loading model…").
 * @slot error - Shown instead of the default error message.
 *
 * @csspart base - The wrapper of everything.
 * @csspart caption - The `label` above several outputs.
 * @csspart values - The list of outputs (a `<dl>`).
 * @csspart item - One output: its name and value.
 * @csspart label - An output's name.
 * @csspart value - An output's formatted value.
 * @csspart loading - The loading area (slot and progress bar).
 * @csspart progress - The download progress bar's track.
 * @csspart progress-fill - The download progress bar's filled part.
 * @csspart error - The error message box.
 * @csspart status - The live region announcing state to screen readers (visually hidden by default).
 *
 * @cssprop [--ml-font=inherit] - Font shorthand for the element.
 * @cssprop [--ml-color=inherit] - Text color.
 * @cssprop [--ml-muted-color] - Color of secondary text (loading message).
 * @cssprop [--ml-label-color] - Color of the output names (default: the muted color).
 * @cssprop [--ml-value-color=inherit] - Color of the values.
 * @cssprop [--ml-value-font-size=1.75em] - Size of the values.
 * @cssprop [--ml-value-font-weight=600] - Weight of the values.
 * @cssprop [--ml-gap=0.5em] - Space between outputs.
 * @cssprop [--ml-bar-color=#2563eb] - Fill of the progress bar.
 * @cssprop [--ml-bar-background] - Track behind the progress bar.
 * @cssprop [--ml-bar-height=0.75em] - Progress bar thickness.
 * @cssprop [--ml-bar-radius=999px] - Progress bar corner radius.
 * @cssprop [--ml-error-color=#b91c1c] - Error text and border color.
 * @cssprop [--ml-error-background] - Error box background.
 * @cssprop [--ml-error-radius=0.4em] - Error box corner radius.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types HTMLElement's own methods
export class MlRegressor extends ModelElement {
  static override styles = styles;

  /**
   * The id of a `<form>` whose fields are the input: `<input type=number|range>`, `<select>`, checkboxes
   * (1/0) and radio groups in document order, or the fields with `data-feature` (a column number or a
   * model input's name). Predicts again on the form's `input` and `change` events.
   */
  @property({ attribute: 'for' }) for = '';

  /** What the value is, e.g. "Disease progression"; for several outputs, a caption above them. */
  @property() label = '';

  /** Names of the outputs overriding the model's own, comma-separated in the attribute (an array as property). */
  @property({ converter: labelsConverter }) labels?: string[];

  /** A unit for `Intl.NumberFormat` (`kilometer-per-hour`, `percent`, `kilogram`…): the values are shown in it. */
  @property() unit = '';

  /** `short` (default), `long` or `narrow` spelling of the unit. */
  @property({ attribute: 'unit-display' }) unitDisplay: 'short' | 'long' | 'narrow' | '' = '';

  /** An ISO 4217 currency code (`EUR`, `USD`…): the values are shown as amounts of it (wins over `unit`). */
  @property() currency = '';

  /** Fraction digits to show (minimum and maximum); unset, `Intl.NumberFormat`'s default for the style. */
  @property({ type: Number }) digits?: number;

  /** A BCP 47 locale for the number format (`de-DE`); unset, the browser's. */
  @property() locale = '';

  /** One row of features; setting it predicts (once the model is loaded). Takes precedence over `for`. */
  @property({ attribute: false }) input?: number[] | Float32Array | ArrayLike<number>;

  @state() private _values: number[] = [];
  /** A formatting attribute is invalid: shown instead of the values until it is fixed. */
  private readonly _formatErrors = new ErrorController(this);

  private _format?: Intl.NumberFormat;

  private readonly _form = new FormBindingController(this, {
    formId: () => this.for,
    onInput: () => {
      this._dirty = true;
      this.requestUpdate();
    },
    onMissing: (id) => {
      this._clearResult();
      this._fail(
        new WidgetError('no-form', `There is no form with id “${id}” on this page for the regressor to read.`),
      );
    },
  });

  /** The first output's current value, or undefined until something was predicted. */
  get value(): number | undefined {
    return this._values[0];
  }

  /** Every output's current value (empty until something was predicted). */
  get values(): readonly number[] {
    return this._values;
  }

  /** The outputs' names as shown: `labels`, else the model's, else `label` (one output) or "Output i". */
  get names(): string[] {
    const model = this._loader.model;
    if (!model) return [];
    let n = 1;
    try {
      n = rowSize(findValuesOutput(model));
    } catch {
      return [];
    }
    const fromModel = model.meta.labels?.length === n ? model.meta.labels : null;
    return Array.from(
      { length: n },
      (_, i) => this.labels?.[i] ?? fromModel?.[i] ?? (n === 1 ? this.label || 'Prediction' : `Output ${i + 1}`),
    );
  }

  /** The current error (what `ml-error` last reported), or undefined when all is well. */
  override get error(): Readonly<MlErrorDetail> | undefined {
    return this._errors.error ?? this._formatErrors.error;
  }

  /**
   * Predict without changing what the element shows: one row gives each output's value, a batch
   * (nested rows, or several rows of flat data) a list per row. Waits for the model (and starts a lazy
   * load). Rejects with an error that has a `code`, like `ml-error`.
   */
  async predict(input: ModelInput, rows?: number): Promise<RegressionResult> {
    const model = await this._loader.whenLoaded();
    findValuesOutput(model);
    const outputs = await model.predict(input, rows);
    const values = this._split(model, outputs);
    const nested = Array.isArray(input) && input.length > 0 && typeof input[0] === 'object';
    return { values: nested || values.length > 1 ? values : values[0], outputs };
  }

  /** The values formatted as the element shows them (the unit, currency, digits and locale attributes). */
  format(value: number): string {
    return (this._format ?? this._makeFormat()).format(value);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (
      changed.has('unit') ||
      changed.has('currency') ||
      changed.has('digits') ||
      changed.has('locale') ||
      changed.has('unitDisplay')
    ) {
      this._format = undefined;
      const before = this._formatErrors.error;
      try {
        this._format = this._makeFormat();
        this._formatErrors.clear();
      } catch (error) {
        const set = (['currency', 'unit', 'digits', 'locale'] as const).filter(
          (k) => this[k] !== '' && this[k] != null,
        );
        const what = set.map((k) => `${k}="${this[k]}"`).join(' ');
        const message = `Intl.NumberFormat refuses ${what || 'these settings'}: ${(error as Error).message}.`;
        if (before?.message !== message) this._formatErrors.fail(new WidgetError('bad-format', message));
      }
    }
  }

  protected override update(changed: PropertyValues<this>): void {
    if (changed.has('for') && this._errors.error?.code === 'no-form') this._errors.clear();
    if (changed.has('input') || changed.has('labels') || changed.has('label')) this._dirty = true;
    super.update(changed);
  }

  private _makeFormat(): Intl.NumberFormat {
    const options: Intl.NumberFormatOptions = {};
    if (this.currency) {
      options.style = 'currency';
      options.currency = this.currency;
    } else if (this.unit) {
      options.style = 'unit';
      options.unit = this.unit;
      if (this.unitDisplay) options.unitDisplay = this.unitDisplay;
    }
    if (this.digits !== undefined && this.digits !== null) {
      if (!Number.isInteger(this.digits) || this.digits < 0 || this.digits > 20)
        throw new RangeError('digits must be a whole number from 0 to 20');
      options.minimumFractionDigits = options.maximumFractionDigits = this.digits;
    }
    return new Intl.NumberFormat(this.locale || undefined, options);
  }

  protected override _startPrediction(model: LoadedModel): Outputs | Promise<Outputs> | undefined {
    let input: ModelInput | undefined = this.input;
    if (input === undefined && this._form.form) input = this._form.readInput(model.meta);
    if (input === undefined) return undefined;
    findValuesOutput(model);
    return model.predict(input);
  }

  protected override _clearResult(): void {
    this._values = [];
  }

  protected override _show(model: LoadedModel, outputs: Outputs): void {
    this._values = this._split(model, outputs)[0];
    emit<MlRegressorEventMap, 'ml-prediction'>(this, 'ml-prediction', {
      value: this._values[0],
      values: this._values,
      names: this.names,
      outputs,
    });
  }

  /** The value output's rows. */
  private _split(model: LoadedModel, outputs: Outputs): number[][] {
    const t = findValuesOutput(model);
    const data = outputs[t.name].data as Float32Array;
    const columns = rowSize(t);
    const n = data.length / columns;
    const values: number[][] = new Array(n);
    for (let r = 0; r < n; r++) values[r] = Array.from(data.subarray(r * columns, (r + 1) * columns));
    return values;
  }

  protected override _modelLoaded(): void {
    this._dirty = true;
  }

  protected override render() {
    const loading = this._showLoading();
    const failure = this._errors.error ? this._errors : this._formatErrors;
    const error = loading ? undefined : failure.error;
    const values = error || !this._format ? [] : this._values;
    const names = values.length ? this.names : [];
    const caption = values.length > 1 && this.label ? this.label : '';
    return html`<div class="base" part="base">
      ${loading ? renderLoading(this._loader.progress) : nothing}
      ${error ? renderError(error.code, failure.shown) : nothing}
      ${caption ? html`<div class="caption" part="caption">${caption}</div>` : nothing}
      ${
        values.length
          ? html`<dl class="values" part="values">
            ${values.map(
              (v, i) => html`<div class="item" part="item">
                <dt class="label" part="label">${names[i]}</dt>
                <dd class="value" part="value">${this._format!.format(v)}</dd>
              </div>`,
            )}
          </dl>`
          : nothing
      }
      <div class="status" part="status" role="status" aria-live="polite" aria-atomic="true">${this._statusText(loading, error && errorStatus(error.code, failure.shown), values, names) || nothing}</div>
    </div>`;
  }

  // '' renders as `nothing`: an empty text part in server-rendered HTML takes no later update after
  // hydration (lit/lit#4937), which would leave the live region silent.
  private _statusText(loading: boolean, error: string | undefined, values: readonly number[], names: string[]): string {
    if (loading) return 'Loading model…';
    if (error) return error;
    if (values.length) {
      const said = values.map((v, i) => `${names[i]}: ${this._format!.format(v)}`).join('; ');
      return values.length > 1 && this.label ? `${this.label}. ${said}` : said;
    }
    return this._loader.model ? 'Model loaded.' : '';
  }
}

// Guarded (a second copy of ml-widgets warns instead of throwing); the literal customElements.define
// is what the manifest analyzer reads the tag name from.
if (canDefine('ml-regressor', MlRegressor)) customElements.define('ml-regressor', MlRegressor);

// Listeners on the element get its own event types (declaration merging: types only, no new members).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MlRegressor {
  addEventListener: TypedEvents<MlRegressor, MlRegressorEventMap>['addEventListener'];
  removeEventListener: TypedEvents<MlRegressor, MlRegressorEventMap>['removeEventListener'];
}

declare global {
  interface HTMLElementTagNameMap {
    'ml-regressor': MlRegressor;
  }
}
