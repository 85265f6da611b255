import { LitElement, css, html, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import type { ImagePreprocessing } from '../../runtime/meta.js';
import type { LoadedModel } from '../controllers/model-controller.js';
import { ErrorController } from '../controllers/error-controller.js';
import { canDefine } from '../define.js';
import { emit, type TypedEvents } from '../events/index.js';
import type { MlErrorEvent } from '../events/ml-error.js';
import type { MlSketchEvent } from '../events/ml-sketch.js';
import { ImagePreprocessor, resolvePreprocessing } from '../image/preprocess.js';
import { WidgetError } from '../shared/errors.js';
import { errorStatus, renderError } from '../shared/render.js';
import { baseStyles } from '../shared/styles.js';

export type { MlSketchDetail } from '../events/ml-sketch.js';

/** The events of `<ml-sketch-pad>`, with their detail types. */
export interface MlSketchPadEventMap {
  'ml-sketch': MlSketchEvent;
  'ml-error': MlErrorEvent;
}

/** What the pad needs of its target: `<ml-classifier>` (takes `input`) or `<ml-image-classifier>` (takes `image`). */
interface ClassifierLike extends HTMLElement {
  readonly model?: LoadedModel;
  input?: unknown;
  image?: unknown;
  readonly preprocessing?: ImagePreprocessing;
}

/** Sketches have dark ink on light paper; models trained on digits want ink as high values. */
const SKETCH_DEFAULTS = { invert: true, resize: 'fit' } as const;

/**
 * A drawing surface (mouse, touch and pen through Pointer Events) that feeds the classifier named by
 * `for` — an `<ml-classifier>` or an `<ml-image-classifier>` — with the drawing, downsampled to the
 * model's input (e.g. 8×8 for digits) by the model's image preprocessing. It predicts while you draw
 * (at most every `throttle` ms) and when each stroke ends. With `frame="ink"` (default) the drawing's
 * bounding square is used, so a small digit drawn in a corner reads like one drawn large and centred.
 * A model without image metadata gets inverted (ink high) values in 0..1.
 *
 * @tagname ml-sketch-pad
 * @summary A drawing pad feeding a classifier with the drawing at the model's input size.
 *
 * @fires {CustomEvent<{pixels: Float32Array, preprocessing: ImagePreprocessing, final: boolean}>} ml-sketch - The drawing as model input, each time it is sent.
 * @fires {CustomEvent<{code: string, message: string}>} ml-error - `no-target` (no classifier with the `for` id), `not-an-image-model`, …
 *
 * @csspart base - The wrapper.
 * @csspart canvas - The drawing surface.
 * @csspart clear-button - The Clear button.
 * @csspart error - The error message box.
 * @csspart status - The live region (visually hidden).
 *
 * @cssprop [--ml-pad-border] - Border around the drawing surface.
 * @cssprop [--ml-pad-radius=0.5em] - Corner radius of the drawing surface.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types HTMLElement's own methods
export class MlSketchPad extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .base {
        justify-items: start;
      }
      canvas {
        display: block;
        touch-action: none; /* the pad, not the page, gets touch moves */
        cursor: crosshair;
        background: #fff;
        border: var(--ml-pad-border, 1px solid color-mix(in srgb, currentColor 35%, transparent));
        border-radius: var(--ml-pad-radius, 0.5em);
        max-width: 100%;
      }
      button {
        font: inherit;
        padding: 0.35em 0.8em;
        border-radius: var(--ml-button-radius, 0.4em);
        border: 1px solid color-mix(in srgb, currentColor 35%, transparent);
        background: var(--ml-button-background, transparent);
        color: inherit;
        cursor: pointer;
      }
      button:focus-visible {
        outline: 2px solid var(--_accent);
        outline-offset: 2px;
      }
    `,
  ];

  /** The id of the `<ml-classifier>` or `<ml-image-classifier>` to feed. */
  @property({ attribute: 'for' }) for = '';

  /** Width of the drawing surface in CSS pixels. */
  @property({ type: Number }) width = 256;

  /** Height of the drawing surface in CSS pixels. */
  @property({ type: Number }) height = 256;

  /** Pen width in CSS pixels. */
  @property({ attribute: 'stroke-width', type: Number }) strokeWidth = 20;

  /** `ink`: send the square around what is drawn; `canvas`: send the whole surface. */
  @property() frame: 'ink' | 'canvas' = 'ink';

  /** Least milliseconds between two predictions while a stroke is drawn. */
  @property({ type: Number }) throttle = 150;

  /** Accessible name of the drawing surface. */
  @property() label = 'Drawing pad: draw with a mouse, finger or pen';

  @state() private _status = '';
  private readonly _errors = new ErrorController(this);

  @query('canvas') private _canvas!: HTMLCanvasElement;

  private _ctx?: CanvasRenderingContext2D;
  private _pointer: number | null = null;
  private _last = { x: 0, y: 0 };
  /** Ink bounding box in canvas pixels (empty when min > max). */
  private _box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  private _lastSent = -Infinity;
  private _pending = 0;
  private _crop?: HTMLCanvasElement;
  private readonly _preprocessor = new ImagePreprocessor();
  /** Two buffers taken in turn: a classifier sees a new `input` object each time, without allocating. */
  private _buffers: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
  private _flip = 0;
  private _waitingFor?: HTMLElement;

  /** True when nothing is drawn. */
  get empty(): boolean {
    return this._box.x0 > this._box.x1;
  }

  /** Wipe the drawing (what the Clear button does) and the target's result: an empty pad is no input. */
  clear(): void {
    this._pointer = null;
    clearTimeout(this._pending);
    this._pending = 0;
    this._paper();
    this._box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    const target = this._target(false);
    if (target && 'preprocessing' in target) target.image = null;
    else if (target) target.input = undefined;
    this._status = 'Drawing cleared.';
  }

  /** Send the drawing to the target classifier now. */
  send(final = true): void {
    clearTimeout(this._pending);
    this._pending = 0;
    this._lastSent = performance.now();
    if (this.empty) return;
    const target = this._target(true);
    if (!target) return;
    const model = target.model;
    if (!model) {
      this._whenLoaded(target);
      return;
    }
    try {
      const image = 'preprocessing' in target;
      const pre = (image && target.preprocessing) || resolvePreprocessing(model.meta, {}, SKETCH_DEFAULTS);
      const crop = this._cropped();
      const row = this._preprocessor.run(crop, pre);
      const pixels = this._next(row);
      this._errors.clear();
      if (image) target.image = crop;
      else target.input = pixels;
      emit<MlSketchPadEventMap, 'ml-sketch'>(this, 'ml-sketch', { pixels, preprocessing: pre, final });
    } catch (error) {
      this._fail(error);
    }
  }

  protected override firstUpdated(): void {
    this._ctx = this._canvas.getContext('2d', { willReadFrequently: true }) ?? undefined;
    this._resize();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('width') || changed.has('height')) this._resize();
    if (changed.has('for') && this._errors.error?.code === 'no-target') this._errors.clear();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this._pending);
    this._pending = 0;
  }

  private _resize(): void {
    const canvas = this._canvas;
    const dpr = Math.min(3, globalThis.devicePixelRatio || 1);
    canvas.width = Math.max(1, Math.round(this.width * dpr));
    canvas.height = Math.max(1, Math.round(this.height * dpr));
    canvas.style.setProperty('width', `${this.width}px`);
    canvas.style.setProperty('aspect-ratio', `${this.width} / ${this.height}`);
    this._paper();
    this._box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  }

  private _paper(): void {
    const ctx = this._ctx;
    if (!ctx) return;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, this._canvas.width, this._canvas.height);
  }

  /** A pointer event's position in canvas pixels. */
  private _point(e: PointerEvent): { x: number; y: number } {
    const rect = this._canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) * this._canvas.width) / (rect.width || 1),
      y: ((e.clientY - rect.top) * this._canvas.height) / (rect.height || 1),
    };
  }

  private _lineWidth(): number {
    return (this.strokeWidth * this._canvas.width) / (this.width || 1);
  }

  private _ink(x: number, y: number): void {
    const r = this._lineWidth() / 2;
    const b = this._box;
    b.x0 = Math.min(b.x0, x - r);
    b.y0 = Math.min(b.y0, y - r);
    b.x1 = Math.max(b.x1, x + r);
    b.y1 = Math.max(b.y1, y + r);
  }

  private readonly _down = (e: PointerEvent): void => {
    if (this._pointer !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    const ctx = this._ctx;
    if (!ctx) return;
    e.preventDefault();
    this._pointer = e.pointerId;
    // Keep getting this pointer's moves even when it leaves the pad mid-stroke.
    try {
      this._canvas.setPointerCapture(e.pointerId);
    } catch {
      // a synthetic or already-released pointer: capture is a nicety, drawing works without it
    }
    const p = this._point(e);
    this._last = p;
    ctx.fillStyle = '#000';
    ctx.beginPath();
    ctx.arc(p.x, p.y, this._lineWidth() / 2, 0, Math.PI * 2);
    ctx.fill();
    this._ink(p.x, p.y);
    this._status = '';
  };

  private readonly _move = (e: PointerEvent): void => {
    if (e.pointerId !== this._pointer || !this._ctx) return;
    const ctx = this._ctx;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = this._lineWidth();
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(this._last.x, this._last.y);
    // Coalesced events: the pen's full path, not just one point per frame.
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const p = this._point(ev);
      ctx.lineTo(p.x, p.y);
      this._ink(p.x, p.y);
      this._last = p;
    }
    ctx.stroke();
    this._schedule();
  };

  private readonly _up = (e: PointerEvent): void => {
    if (e.pointerId !== this._pointer) return;
    this._pointer = null;
    this.send(true);
  };

  /** While drawing: send at most every `throttle` ms, and once more after the last move. */
  private _schedule(): void {
    const wait = this.throttle - (performance.now() - this._lastSent);
    if (wait <= 0) this.send(false);
    else if (!this._pending) this._pending = window.setTimeout(() => this.send(false), wait);
  }

  private readonly _key = (e: KeyboardEvent): void => {
    if (e.key === 'Escape' || e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      this.clear();
    }
  };

  private _target(report: boolean): ClassifierLike | undefined {
    if (!this.for) {
      if (report)
        this._fail(
          new WidgetError(
            'no-target',
            'Set the sketch pad’s for attribute to the id of an <ml-classifier> or <ml-image-classifier>.',
          ),
        );
      return undefined;
    }
    const root = this.getRootNode() as Document | ShadowRoot;
    const el = root.getElementById?.(this.for) as ClassifierLike | null;
    if (!el || !('model' in el)) {
      if (report)
        this._fail(
          new WidgetError(
            'no-target',
            `There is no <ml-classifier> or <ml-image-classifier> with id “${this.for}” on this page.`,
          ),
        );
      return undefined;
    }
    return el;
  }

  /** The target's model is still loading: send once it has loaded. */
  private _whenLoaded(target: HTMLElement): void {
    if (this._waitingFor === target) return;
    this._waitingFor = target;
    target.addEventListener(
      'ml-load',
      () => {
        this._waitingFor = undefined;
        // After the classifier's own update, so it does not predict an older input over ours.
        requestAnimationFrame(() => this.send(true));
      },
      { once: true },
    );
  }

  /** The drawing's frame on white paper, in a canvas reused between calls. */
  private _cropped(): HTMLCanvasElement {
    const canvas = this._canvas;
    let [x, y, w, h] = [0, 0, canvas.width, canvas.height];
    if (this.frame !== 'canvas') {
      const b = this._box;
      // A square around the ink with a small margin, as digit datasets centre and size their digits.
      const side = Math.max(b.x1 - b.x0, b.y1 - b.y0) * 1.15;
      [x, y, w, h] = [(b.x0 + b.x1 - side) / 2, (b.y0 + b.y1 - side) / 2, side, side];
    }
    const crop = (this._crop ??= document.createElement('canvas'));
    const cw = Math.max(1, Math.round(Math.min(w, canvas.width)));
    const ch = Math.max(1, Math.round(Math.min(h, canvas.height)));
    if (crop.width !== cw) crop.width = cw;
    if (crop.height !== ch) crop.height = ch;
    const ctx = crop.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, cw, ch);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(canvas, x, y, w, h, 0, 0, cw, ch);
    return crop;
  }

  private _next(row: Float32Array): Float32Array {
    this._flip ^= 1;
    if (this._buffers[this._flip].length !== row.length) this._buffers[this._flip] = new Float32Array(row.length);
    this._buffers[this._flip].set(row);
    return this._buffers[this._flip];
  }

  private _fail(error: unknown): void {
    this._errors.fail(error);
  }

  protected override render() {
    const error = this._errors.error;
    return html`<div class="base" part="base">
      <canvas
        part="canvas"
        role="img"
        aria-label=${this.label}
        @pointerdown=${this._down}
        @pointermove=${this._move}
        @pointerup=${this._up}
        @pointercancel=${this._up}
      ></canvas>
      <button type="button" part="clear-button" @click=${() => this.clear()} @keydown=${this._key}>Clear</button>
      ${error ? renderError(error.code, this._errors.shown) : ''}
      <div class="status" part="status" role="status">${error ? errorStatus(error.code, this._errors.shown) : this._status}</div>
    </div>`;
  }
}

if (canDefine('ml-sketch-pad', MlSketchPad)) customElements.define('ml-sketch-pad', MlSketchPad);

// Listeners on the element get its own event types (declaration merging: types only, no new members).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MlSketchPad {
  addEventListener: TypedEvents<MlSketchPad, MlSketchPadEventMap>['addEventListener'];
  removeEventListener: TypedEvents<MlSketchPad, MlSketchPadEventMap>['removeEventListener'];
}

declare global {
  interface HTMLElementTagNameMap {
    'ml-sketch-pad': MlSketchPad;
  }
}
