import { LitElement, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import type { Outputs } from '../../runtime/model.js';
import type { ThreadsOption } from '../../runtime/threads/threaded-model.js';
import { ErrorController } from '../controllers/error-controller.js';
import { ModelController, type LoadedModel } from '../controllers/model-controller.js';
import { VisibilityController } from '../controllers/visibility-controller.js';
import { emit, type ModelElementEventMap } from '../events/index.js';
import type { MlErrorDetail } from '../events/ml-error.js';
import { WidgetError } from './errors.js';
import { errorStatus, renderError } from './render.js';
import { threadsConverter } from './converters.js';

/**
 * What every element that shows a model's predictions shares: where the model is and how and when to
 * load it (`src`, `loading`, `integrity`, `crossorigin`, `cache`, `worker`, `timeout`, `threads`), the loader that
 * fires `ml-progress` and `ml-load`, the loaded `model`, the current failure (`error`, `ml-error`, shown
 * short, logged in full once), and when to predict: once per update when something the result depends on
 * changed (`_dirty`), dropping a worker's late answer to an outdated input or model.
 * Subclasses say how to start a prediction (`_startPrediction`), show one (`_show`) and clear it
 * (`_clearResult`), and what a loaded model means to them (`_modelLoaded`).
 */
export abstract class ModelElement extends LitElement {
  /** URL of the compiled model (`.wasm`). Changing it aborts a load in progress. */
  @property() src = '';

  /** `eager` loads at once; `lazy` when the element nears the viewport; `auto` is eager for now. */
  @property() loading: 'auto' | 'lazy' | 'eager' = 'auto';

  /** Subresource Integrity of the model file (`sha384-…`): a mismatch is an `integrity` error. */
  @property() integrity = '';

  /** As on `<img>`: `anonymous` (default) or `use-credentials` for a model on another origin. */
  @property({ attribute: 'crossorigin' }) crossOrigin: 'anonymous' | 'use-credentials' | '' = '';

  /** `persist` keeps the model in the Cache API for later visits and offline use. */
  @property() cache: 'persist' | 'default' = 'default';

  /**
   * Load and run the model in a module Worker (started from its own URL, CSP-safe), keeping the main
   * thread free for big models. Same results and events; they arrive a message later.
   */
  @property({ type: Boolean }) worker = false;

  /**
   * With `worker`: milliseconds one call of the model (up to its batch size of rows) may run before the
   * worker is stopped and this element shows a `timeout` error; other elements' models go on in a fresh
   * worker. 0 for no limit.
   */
  @property({ type: Number }) timeout = 10000;

  /**
   * Threads for big predictions: `auto` (the cores there are, up to 4, and only for calls big enough to
   * gain from them) or a number (`1`: none). Cross-origin-isolated pages split each big step of a call
   * over threads sharing the model's memory; other pages split big batches over workers. Never more than
   * `navigator.hardwareConcurrency`; ignored with `worker`.
   */
  @property({ converter: threadsConverter }) threads: ThreadsOption = 'auto';

  private readonly _visibility = new VisibilityController(this, { enabled: () => this.loading === 'lazy' });

  protected readonly _loader = new ModelController<LoadedModel>(this, {
    src: () => this.src,
    enabled: () => this._visibility.visible,
    fetchOptions: () => ({ integrity: this.integrity || undefined, crossOrigin: this.crossOrigin, cache: this.cache }),
    worker: () => this.worker,
    timeout: () => this.timeout,
    threads: () => this.threads,
    onProgress: (p) => emit<ModelElementEventMap, 'ml-progress'>(this, 'ml-progress', { ...p }),
    onLoad: (model) => {
      emit<ModelElementEventMap, 'ml-load'>(this, 'ml-load', { meta: model.meta });
      this._modelLoaded(model);
    },
    onError: (error) => this._fail(error),
  });

  /**
   * Server-rendered (its declarative shadow root was there before the element upgraded). The server
   * never starts a load, so the hydrating first render must not show one either (Lit refuses a
   * template that differs from the server's); the loading state appears at the next update.
   */
  private readonly _serverRendered = this.shadowRoot !== null;

  /** Whether to show the loading state now (see `_serverRendered`). */
  protected _showLoading(): boolean {
    return this._loader.loading && (this.hasUpdated || !this._serverRendered);
  }

  protected override firstUpdated(changed: PropertyValues): void {
    super.firstUpdated(changed);
    if (this._serverRendered && this._loader.loading) this.requestUpdate();
  }

  /** Something the shown result depends on changed: predict again at the next update. */
  protected _dirty = false;
  /** A worker's prediction is on its way (a live video skips frames meanwhile). */
  protected _inFlight = false;
  /** Counts predictions started, so a worker's late answer to an outdated input or model is dropped. */
  private _run = 0;

  protected override update(changed: PropertyValues): void {
    // Here, not in willUpdate: controllers have run (a new src has started loading, a new form is bound).
    if (changed.has('src')) {
      this._run++; // drop a worker's answer for the old model
      this._clearResult();
      this._errors.clear();
      this._dirty = true;
    }
    const model = this._loader.model;
    if (this._dirty && model) {
      this._dirty = false;
      this._predict(model);
    }
    super.update(changed);
  }

  /**
   * Predict from the current input and show it; a worker's answer shows when it comes, unless outdated.
   * No input (none set yet, a cleared drawing or image) is nothing to show: the last result goes.
   */
  protected _predict(model: LoadedModel): void {
    const run = ++this._run;
    const failed = (error: unknown) => {
      this._clearResult();
      this._fail(error);
    };
    const show = (outputs: Outputs) => {
      this._errors.clear();
      this._show(model, outputs);
    };
    if (model.meta.inputs.length === 0)
      return failed(
        new WidgetError(
          'no-model-input',
          'This model takes no inputs (its outputs are constants): an element has nothing to feed it. Use a model with an input, or call run({}) on it from a script.',
        ),
      );
    try {
      const outputs = this._startPrediction(model);
      if (outputs === undefined) return this._clearResult();
      if (!(outputs instanceof Promise)) return show(outputs);
      this._inFlight = true;
      const current = () => run === this._run && this._loader.model === model;
      outputs.then(
        (o) => {
          this._inFlight = false;
          if (current()) show(o);
        },
        (error) => {
          this._inFlight = false;
          if (current()) failed(error);
        },
      );
    } catch (error) {
      failed(error);
    }
  }

  /** Run the model on the current input (a promise with `worker`); undefined when there is no input yet. */
  protected abstract _startPrediction(model: LoadedModel): Outputs | Promise<Outputs> | undefined;

  /** Show a prediction's outputs and fire `ml-prediction`. */
  protected abstract _show(model: LoadedModel, outputs: Outputs): void;

  /** Drop the shown result (before a failure is shown, for a new model, when the input goes). */
  protected abstract _clearResult(): void;

  /** The loaded model (a `RemoteModel` with `worker`), or undefined while none is loaded. */
  get model(): LoadedModel | undefined {
    return this._loader.model;
  }

  /** A model loaded (after `ml-load` fired): predict with it at the next update. */
  protected abstract _modelLoaded(model: LoadedModel): void;

  /** The current failure. */
  protected readonly _errors = new ErrorController(this);

  /** The current error (what `ml-error` last reported), or undefined when all is well. */
  get error(): Readonly<MlErrorDetail> | undefined {
    return this._errors.error;
  }

  /** Show a failure in the element and fire `ml-error`; never throws. */
  protected _fail(error: unknown): void {
    this._errors.fail(error);
  }

  /** The error box for the current failure (nothing when there is none). */
  protected _renderError() {
    const error = this._errors.error;
    return error ? renderError(error.code, this._errors.shown) : nothing;
  }

  /** What the live region says about the current failure ('' when there is none). */
  protected _errorStatus(): string {
    const error = this._errors.error;
    return error ? errorStatus(error.code, this._errors.shown) : '';
  }
}
