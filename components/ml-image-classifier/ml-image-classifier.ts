import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import type { ImagePreprocessing } from '../../runtime/meta.js';
import type { ModelInput, Outputs } from '../../runtime/model.js';
import { ImageSourceController, type ImageOrigin } from '../controllers/image-source-controller.js';
import type { LoadedModel } from '../controllers/model-controller.js';
import { canDefine } from '../define.js';
import {
  ImagePreprocessor,
  decodeImage,
  isImageSource,
  parseNumberList,
  parseScale,
  resolvePreprocessing,
  sourceSize,
  type ImageInput,
  type ImageSource,
  type PreprocessingOverrides,
} from '../image/preprocess.js';
import type { TypedEvents } from '../events/index.js';
import { ClassifierElement, type ClassifierEventMap } from '../shared/classifier-element.js';
import { predictionStatus, renderPredictions } from '../shared/predictions.js';
import { renderLoading } from '../shared/render.js';
import type { Prediction } from '../shared/scores.js';
import type { PredictResult } from '../ml-classifier/ml-classifier.js';
import { styles } from './ml-image-classifier.styles.js';

export type { ImageInput, ImageSource } from '../image/preprocess.js';

const numberList = { fromAttribute: parseNumberList, toAttribute: (v?: number[]) => v?.join(', ') };
const scaleConverter = { fromAttribute: parseScale, toAttribute: (v?: number) => (v === undefined ? null : String(v)) };
/** `invert` and `invert="true"` are true, `invert="false"` is false (overriding a model that inverts). */
const tristate = {
  fromAttribute: (v: string | null) => (v === null ? undefined : v !== 'false'),
  toAttribute: (v?: boolean) => (v === undefined ? null : String(v)),
};

/** The events of `<ml-image-classifier>`, with their detail types. */
export type MlImageClassifierEventMap = ClassifierEventMap;

/** Longest side of the preview drawn for files, pastes and canvases, in CSS pixels. */
const PREVIEW_SIZE = 224;

/**
 * Classifies an image with a compiled image model (`.wasm` from the ml-widgets compiler) and shows the
 * top classes like `<ml-classifier>`. The image comes from a child `<img>`/`<video>`, one named by `for`,
 * the file picker, a drop or a paste onto the element, the camera (after a click and the browser's
 * permission), or the `image` property. Playing videos and the camera are classified live.
 *
 * Preprocessing comes from the model (compiled with `--image … --mean … --std …`); the attributes
 * `mean`, `std`, `scale`, `resize`, `channels` and `invert` override it. A model compiled without image
 * metadata whose input is image-shaped (N×C×H×W, N×H×W×C with 1 or 3 channels, or a square of grayscale
 * pixels) gets values in 0..1 (scale 1/255), mean 0, std 1, RGB (or L), center-crop.
 *
 * @tagname ml-image-classifier
 * @summary Top-k classes of an image (file, drop, paste, camera, <img>, <video>) from a compiled image model.
 *
 * @fires {CustomEvent<{meta: ModelMeta}>} ml-load - The model loaded; `detail.meta` is its metadata.
 * @fires {CustomEvent<{loaded: number, total: number}>} ml-progress - Download progress in bytes (`total` is 0 when unknown).
 * @fires {CustomEvent<{predictions: Prediction[], outputs: Outputs}>} ml-prediction - New predictions (top-k, best first) and the model's raw outputs.
 * @fires {CustomEvent<{code: string, message: string}>} ml-error - Loading, reading the image or predicting failed; `code` is machine-readable (`http-error`, `bad-image`, `not-an-image-model`, `camera-denied`, …).
 *
 * @slot - An `<img>` or `<video>` to classify (shown as is).
 * @slot loading - Shown while the model downloads (default: "Loading model…").
 * @slot error - Shown instead of the default error message.
 *
 * @csspart base - The wrapper of everything.
 * @csspart drop - The area that takes drops (image, controls).
 * @csspart preview - The picture being classified (files, pastes, canvases).
 * @csspart camera-video - The live camera picture.
 * @csspart controls - The row of buttons.
 * @csspart file-button - "Choose image…".
 * @csspart camera-button - "Use camera" / "Stop camera".
 * @csspart camera-status - The camera permission message.
 * @csspart list - The list of predictions.
 * @csspart row - One prediction (the best one also has part `row-top`).
 * @csspart row-top - The best prediction's row.
 * @csspart label - A class label.
 * @csspart bar - A score bar's track (role meter).
 * @csspart bar-fill - A score bar's filled part.
 * @csspart value - A score as a percentage.
 * @csspart loading - The loading area.
 * @csspart progress - The download progress bar's track.
 * @csspart progress-fill - The download progress bar's filled part.
 * @csspart error - The error message box.
 * @csspart status - The live region announcing state to screen readers (visually hidden by default).
 *
 * @cssprop [--ml-bar-color=#2563eb] - Fill of the best score's bar, the progress bar and the drop highlight.
 * @cssprop [--ml-preview-max-height=16em] - Tallest the preview grows.
 * @cssprop [--ml-button-background=transparent] - Background of the buttons.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types HTMLElement's own methods
export class MlImageClassifier extends ClassifierElement {
  static override styles = styles;

  /** The id of an `<img>` or `<video>` on the page to classify (instead of a child). */
  @property({ attribute: 'for' }) for = '';

  /** Text alternative of the preview (default: says where the image came from). */
  @property() alt = '';

  /** Per-channel means subtracted after scaling, e.g. `0.485, 0.456, 0.406` (overrides the model's). */
  @property({ converter: numberList }) mean?: number[];

  /** Per-channel standard deviations divided by, e.g. `0.229, 0.224, 0.225`. */
  @property({ converter: numberList }) std?: number[];

  /** Multiplies 0..255 pixel values first: `1/255` gives 0..1. */
  @property({ converter: scaleConverter }) scale?: number;

  /** `center-crop` (fill, cutting the sides), `fit` (all of it, on paper) or `stretch`. */
  @property() resize?: ImagePreprocessing['resize'];

  /** Channel order the model takes: `RGB`, `BGR`, or `L` (grayscale). */
  @property() channels?: ImagePreprocessing['channels'];

  /** Dark-on-light becomes high values (`invert="false"` turns a model's inversion off). */
  @property({ converter: tristate }) invert?: boolean;

  /** Least milliseconds between two classified frames of a playing video or the camera. */
  @property({ type: Number }) interval = 100;

  /** What the preview canvas shows (files, pastes, canvases, property images not on the page). */
  @state() private _previewSource?: ImageSource;

  @query('canvas.preview') private _previewCanvas?: HTMLCanvasElement;
  @query('input[type=file]') private _fileInput?: HTMLInputElement;

  private _source?: ImageInput;
  private _origin: ImageOrigin = 'property';
  private _fileName = '';
  /** The decoded form of `_source` (a Blob decodes once, then predicts again from the bitmap). */
  private _drawable?: ImageSource;
  private _bitmap?: ImageBitmap;
  private _decodeRun = 0;
  private readonly _preprocessor = new ImagePreprocessor();

  private readonly _sources = new ImageSourceController(this, {
    forId: () => this.for,
    interval: () => this.interval,
    onImage: (source, origin, live) => this._take(source, origin, live),
    onError: (error) => {
      this._predictions = [];
      this._fail(error);
      this.requestUpdate();
    },
  });

  /** The preprocessing in use: the model's, with the attributes applied (undefined until loaded). */
  get preprocessing(): ImagePreprocessing | undefined {
    const model = this._loader.model;
    if (!model) return undefined;
    try {
      return this._resolve(model);
    } catch {
      return undefined;
    }
  }

  /** The image being classified. Setting one (an element, canvas, bitmap, Blob or File) classifies and shows it. */
  get image(): ImageInput | undefined {
    return this._source;
  }
  set image(source: ImageInput | undefined | null) {
    this._sources.stopCamera();
    if (source) this._take(source, 'property', false);
    else {
      this._source = this._drawable = this._previewSource = undefined;
      this._predictions = [];
      this.requestUpdate();
    }
  }

  /**
   * Classify an image without changing what the element shows: an image source, a Blob/File, or an
   * already preprocessed row (Float32Array / numbers). Waits for the model. Rejects with a coded error.
   */
  async predict(source: ImageInput | Float32Array | ArrayLike<number>): Promise<PredictResult<Prediction[]>> {
    const model = await this._loader.whenLoaded();
    this._assertClassifier(model);
    let input: ModelInput;
    let bitmap: ImageBitmap | undefined;
    if (source instanceof Blob) bitmap = await decodeImage(source);
    try {
      // Preprocess and hand over in one synchronous step, so the shared buffer cannot change in between
      // (a worker's postMessage copies it).
      if (bitmap || isImageSource(source))
        input = this._preprocessor.run(bitmap ?? (source as ImageSource), this._resolve(model));
      else input = source as Float32Array;
    } finally {
      bitmap?.close();
    }
    const outputs = await model.predict(input);
    return { predictions: this._rank(model, outputs)[0], outputs };
  }

  /** Open the file picker (what the "Choose image…" button does). */
  chooseFile(): void {
    this._fileInput?.click();
  }

  private _resolve(model: LoadedModel): ImagePreprocessing {
    const overrides: PreprocessingOverrides = {
      mean: this.mean,
      std: this.std,
      scale: this.scale,
      resize: this.resize || undefined,
      channels: this.channels || undefined,
      invert: this.invert,
    };
    return resolvePreprocessing(model.meta, overrides);
  }

  /** A new image or video frame from any source. */
  private _take(source: ImageInput, origin: ImageOrigin, live: boolean): void {
    this._source = source;
    this._origin = origin;
    this._fileName = source instanceof File ? source.name : '';
    this._decodeRun++;
    if (source instanceof Blob) {
      this._drawable = undefined;
      const run = this._decodeRun;
      decodeImage(source).then(
        (bitmap) => {
          if (run !== this._decodeRun) return bitmap.close();
          this._bitmap?.close();
          this._bitmap = bitmap;
          this._setDrawable(bitmap, true);
        },
        (err) => {
          if (run !== this._decodeRun) return;
          this._predictions = [];
          this._previewSource = undefined;
          this._fail(err);
        },
      );
      return;
    }
    if (this._bitmap && !live) {
      this._bitmap.close(); // the previous file's pixels
      this._bitmap = undefined;
    }
    // Pictures already on the page (children, `for`, the camera's video) are not drawn twice.
    const shown =
      origin === 'child' ||
      origin === 'for' ||
      origin === 'camera' ||
      (source instanceof Element && source.isConnected);
    if (live) {
      // A video frame: predict now, without re-rendering anything but the new predictions.
      this._drawable = source;
      this._previewSource = undefined; // the video itself is on show
      const model = this._loader.model;
      if (model && !this._inFlight) this._predict(model);
      return;
    }
    this._setDrawable(source, !shown);
  }

  private _setDrawable(source: ImageSource, preview: boolean): void {
    this._drawable = source;
    this._previewSource = preview ? source : undefined;
    this._dirty = true;
    this.requestUpdate();
  }

  protected override update(changed: PropertyValues<this>): void {
    for (const key of ['mean', 'std', 'scale', 'resize', 'channels', 'invert'] as const) {
      if (changed.has(key)) this._dirty = true;
    }
    super.update(changed);
  }

  protected override updated(): void {
    this._drawPreview();
  }

  protected override _startPrediction(model: LoadedModel): Outputs | Promise<Outputs> | undefined {
    const source = this._drawable;
    if (!source) return undefined;
    this._assertClassifier(model);
    return model.predict(this._preprocessor.run(source, this._resolve(model)));
  }

  protected override _modelLoaded(model: LoadedModel): void {
    this._dirty = true;
    // A model that cannot take images says so at once, not at the first picture.
    try {
      this._assertClassifier(model);
      this._resolve(model);
    } catch (error) {
      this._fail(error);
    }
  }

  /** Draw the preview canvas at the picture's aspect ratio, at most PREVIEW_SIZE on its longer side. */
  private _drawPreview(): void {
    const canvas = this._previewCanvas;
    const source = this._previewSource;
    if (!canvas || !source) return;
    const { width, height } = sourceSize(source);
    if (!width || !height) return;
    const s = Math.min(1, PREVIEW_SIZE / Math.max(width, height));
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    canvas.width = Math.max(1, Math.round(width * s * dpr));
    canvas.height = Math.max(1, Math.round(height * s * dpr));
    canvas.style.setProperty('aspect-ratio', `${width} / ${height}`);
    canvas.style.setProperty('width', `${Math.round(width * s)}px`);
    canvas.getContext('2d')?.drawImage(source, 0, 0, canvas.width, canvas.height);
  }

  private _altText(): string {
    if (this.alt) return this.alt;
    if (this._origin === 'file' || this._origin === 'drop')
      return this._fileName ? `Chosen image: ${this._fileName}` : 'Chosen image';
    if (this._origin === 'paste') return 'Pasted image';
    return 'Image being classified';
  }

  protected override render() {
    const loading = this._showLoading();
    const error = !loading && this.error !== undefined;
    const predictions = error ? [] : this._predictions;
    const camera = this._sources.camera;
    return html`<div class="base" part="base">
      <div class="drop ${this._sources.dragging ? 'dragging' : ''}" part="drop">
        <slot></slot>
        ${camera === 'on' ? this._sources.cameraVideo : nothing}
        ${
          this._previewSource && camera !== 'on'
            ? html`<canvas class="preview" part="preview" role="img" aria-label=${this._altText()}></canvas>`
            : nothing
        }
        <div class="controls" part="controls">
          <button type="button" part="file-button" @click=${this.chooseFile}>Choose image…</button>
          <button
            type="button"
            part="camera-button"
            aria-pressed=${camera === 'off' ? 'false' : 'true'}
            @click=${() => (camera === 'off' ? void this._sources.startCamera() : this._sources.stopCamera())}
          >
            ${camera === 'off' ? 'Use camera' : 'Stop camera'}
          </button>
          <span class="hint">or drop or paste an image</span>
          <input type="file" accept="image/*" hidden @change=${this._sources.onFileChange} />
        </div>
        ${
          camera === 'requesting'
            ? html`<p class="camera-status" part="camera-status">Waiting for permission to use the camera… Your browser asks whether this page may use it.</p>`
            : nothing
        }
      </div>
      ${loading ? renderLoading(this._loader.progress) : nothing}
      ${error ? this._renderError() : nothing}
      ${renderPredictions(predictions)}
      <div class="status" part="status" role="status">${this._statusText(loading, error, predictions, camera) || nothing}</div>
    </div>`;
  }

  // '' renders as `nothing`: an empty text part in server-rendered HTML takes no later update after
  // hydration (lit/lit#4937), which would leave the live region silent.
  private _statusText(loading: boolean, error: boolean, predictions: readonly Prediction[], camera: string): string {
    if (loading) return 'Loading model…';
    if (error) return this._errorStatus();
    if (camera === 'requesting') return 'Waiting for permission to use the camera.';
    // A live video would re-announce every frame: only say it once it is on.
    if (camera === 'on' || (this._drawable instanceof HTMLVideoElement && !this._drawable.paused))
      return 'Classifying the live picture.';
    if (predictions.length) return predictionStatus(predictions);
    return this._loader.model ? 'Model loaded. Choose, drop or paste an image.' : '';
  }
}

if (canDefine('ml-image-classifier', MlImageClassifier))
  customElements.define('ml-image-classifier', MlImageClassifier);

// Listeners on the element get its own event types (declaration merging: types only, no new members).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MlImageClassifier {
  addEventListener: TypedEvents<MlImageClassifier, MlImageClassifierEventMap>['addEventListener'];
  removeEventListener: TypedEvents<MlImageClassifier, MlImageClassifierEventMap>['removeEventListener'];
}

declare global {
  interface HTMLElementTagNameMap {
    'ml-image-classifier': MlImageClassifier;
  }
}
