// Image → model input: crop or fit the picture to the model's size, read its pixels, and write the numbers
// the model was trained on (channel order, layout, scale, mean/std, inversion). Used by <ml-image-classifier>
// and <ml-sketch-pad>. Touches the DOM only when called (safe to import under SSR).
import type { ImagePreprocessing, ModelMeta, TensorMeta } from '../../runtime/meta.js';
import { WidgetError } from '../shared/errors.js';

/** Anything a canvas can draw synchronously. */
export type ImageSource = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | ImageBitmap | OffscreenCanvas;
/** An image source, or encoded image bytes (a `File` from a picker, a drop or a paste). */
export type ImageInput = ImageSource | Blob;

/** A rectangle of the source, in its own pixels. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Preprocessing fields an element's attributes may override. */
export type PreprocessingOverrides = Partial<
  Pick<ImagePreprocessing, 'mean' | 'std' | 'scale' | 'resize' | 'channels' | 'invert'>
>;

/** The largest k for the k×k box filter: beyond it the browser's own scaler does the first step. */
const MAX_BOX = 8;

export function isImageSource(v: unknown): v is ImageSource {
  return (
    (typeof HTMLImageElement !== 'undefined' && v instanceof HTMLImageElement) ||
    (typeof HTMLVideoElement !== 'undefined' && v instanceof HTMLVideoElement) ||
    (typeof HTMLCanvasElement !== 'undefined' && v instanceof HTMLCanvasElement) ||
    (typeof ImageBitmap !== 'undefined' && v instanceof ImageBitmap) ||
    (typeof OffscreenCanvas !== 'undefined' && v instanceof OffscreenCanvas)
  );
}

/** The source's intrinsic size (0×0 for an image that has not loaded or failed to). */
export function sourceSize(source: ImageSource): { width: number; height: number } {
  if (source instanceof HTMLImageElement) return { width: source.naturalWidth, height: source.naturalHeight };
  if (source instanceof HTMLVideoElement) return { width: source.videoWidth, height: source.videoHeight };
  return { width: source.width, height: source.height };
}

/**
 * Turns images into model input. Holds one work canvas and one output buffer, reused between calls:
 * the returned Float32Array is overwritten by the next call (copy it to keep it).
 */
export class ImagePreprocessor {
  private canvas?: OffscreenCanvas | HTMLCanvasElement;
  private ctx?: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
  private out = new Float32Array(0);

  /**
   * One row of model input from a drawable source, `region` (default: all of it) resized by `pre.resize`:
   * `stretch` to the model's size; `center-crop` the largest centred part with the model's aspect ratio;
   * `fit` the whole picture, centred, on paper (white when `invert`, black otherwise). Transparent pixels
   * show the same paper. Downscaling averages k×k blocks of a k× larger drawing (area averaging, as
   * scikit-learn's digits were made), so a big photo is not aliased into a few sampled pixels.
   */
  run(source: ImageSource, pre: ImagePreprocessing, region?: Region): Float32Array {
    const size = sourceSize(source);
    if (!size.width || !size.height) {
      throw new WidgetError(
        'bad-image',
        'The image has no pixels yet: it has not loaded, failed to load, or the video has no frame.',
      );
    }
    const r = region ?? { x: 0, y: 0, width: size.width, height: size.height };
    const { width: W, height: H } = pre;
    let [sx, sy, sw, sh] = [r.x, r.y, r.width, r.height];
    let [dx, dy, dw, dh] = [0, 0, W, H];
    if (pre.resize === 'center-crop') {
      const s = Math.max(W / sw, H / sh);
      const cw = W / s;
      const ch = H / s;
      [sx, sy, sw, sh] = [sx + (sw - cw) / 2, sy + (sh - ch) / 2, cw, ch];
    } else if (pre.resize === 'fit') {
      const s = Math.min(W / sw, H / sh);
      // Whole target pixels, so paper and picture do not blend along the border.
      dw = Math.max(1, Math.min(W, Math.round(sw * s)));
      dh = Math.max(1, Math.min(H, Math.round(sh * s)));
      dx = Math.floor((W - dw) / 2);
      dy = Math.floor((H - dh) / 2);
    }
    const k = Math.max(1, Math.min(MAX_BOX, Math.floor(Math.min(sw / dw, sh / dh))));
    const ctx = this.context(W * k, H * k);
    const paper = pre.invert ? 255 : 0;
    ctx.globalCompositeOperation = 'copy';
    ctx.fillStyle = `rgb(${paper},${paper},${paper})`;
    ctx.fillRect(0, 0, W * k, H * k);
    ctx.globalCompositeOperation = 'source-over';
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, sx, sy, sw, sh, dx * k, dy * k, dw * k, dh * k);
    let pixels: Uint8ClampedArray;
    try {
      pixels = ctx.getImageData(0, 0, W * k, H * k).data;
    } catch (err) {
      throw new WidgetError(
        'bad-image',
        'The image comes from another site without CORS permission, so its pixels cannot be read. Serve it with Access-Control-Allow-Origin and give the <img> crossorigin="anonymous".',
        { cause: err },
      );
    }
    return this.write(pixels, W, H, k, pre);
  }

  /** Like `run`, and also decodes encoded images (Blob/File). */
  async runAsync(input: ImageInput, pre: ImagePreprocessing, region?: Region): Promise<Float32Array> {
    if (!(input instanceof Blob)) return this.run(input, pre, region);
    const bitmap = await decodeImage(input);
    try {
      return this.run(bitmap, pre, region);
    } finally {
      bitmap.close();
    }
  }

  private context(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
    if (!this.canvas) {
      this.canvas =
        typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : document.createElement('canvas');
      const ctx = this.canvas.getContext('2d', { willReadFrequently: true }) as
        OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
      if (!ctx) throw new WidgetError('bad-image', 'This browser cannot give a 2D canvas to read image pixels.');
      this.ctx = ctx;
    }
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    return this.ctx!;
  }

  /** Average k×k blocks of RGBA pixels and write the model's numbers into the reused output buffer. */
  private write(rgba: Uint8ClampedArray, W: number, H: number, k: number, pre: ImagePreprocessing): Float32Array {
    const C = pre.channels === 'L' ? 1 : 3;
    const n = W * H * C;
    if (this.out.length !== n) this.out = new Float32Array(n);
    const out = this.out;
    const stride = W * k * 4;
    const inv = 1 / (k * k);
    const bgr = pre.channels === 'BGR';
    const m0 = pre.mean[0],
      m1 = pre.mean[1] ?? m0,
      m2 = pre.mean[2] ?? m0;
    const s0 = pre.scale / pre.std[0],
      s1 = pre.scale / (pre.std[1] ?? pre.std[0]),
      s2 = pre.scale / (pre.std[2] ?? pre.std[0]);
    const d0 = 1 / pre.std[0],
      d1 = 1 / (pre.std[1] ?? pre.std[0]),
      d2 = 1 / (pre.std[2] ?? pre.std[0]);
    const chw = pre.layout === 'NCHW';
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let r = 0,
          g = 0,
          b = 0;
        for (let j = 0; j < k; j++) {
          let p = (y * k + j) * stride + x * k * 4;
          for (let i = 0; i < k; i++, p += 4) {
            r += rgba[p];
            g += rgba[p + 1];
            b += rgba[p + 2];
          }
        }
        r *= inv;
        g *= inv;
        b *= inv;
        const at = y * W + x;
        if (C === 1) {
          // ITU-R BT.601 luma, as PIL's convert('L') and OpenCV's RGB2GRAY compute it.
          let l = 0.299 * r + 0.587 * g + 0.114 * b;
          if (pre.invert) l = 255 - l;
          out[at] = l * s0 - m0 * d0;
          continue;
        }
        if (pre.invert) {
          r = 255 - r;
          g = 255 - g;
          b = 255 - b;
        }
        const c0 = bgr ? b : r;
        const c2 = bgr ? r : b;
        const v0 = c0 * s0 - m0 * d0,
          v1 = g * s1 - m1 * d1,
          v2 = c2 * s2 - m2 * d2;
        if (chw) {
          out[at] = v0;
          out[W * H + at] = v1;
          out[2 * W * H + at] = v2;
        } else {
          out[at * 3] = v0;
          out[at * 3 + 1] = v1;
          out[at * 3 + 2] = v2;
        }
      }
    }
    return out;
  }
}

/** Decode encoded image bytes; a `bad-image` error names the file when it is not an image. */
export async function decodeImage(blob: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch (err) {
    const what = blob instanceof File && blob.name ? `“${blob.name}”` : 'The image';
    throw new WidgetError(
      'bad-image',
      `${what} is not an image this browser can decode (${blob.type || 'unknown type'}).`,
      { cause: err, forVisitor: true },
    );
  }
}

/**
 * The model's preprocessing with `overrides` applied (the element's attributes). A model compiled
 * without image metadata whose input looks like an image (N×C×H×W or N×H×W×C with 1 or 3 channels,
 * N×H×W, or N×k² grayscale) gets `inferred` defaults: values 0..1 (scale 1/255), mean 0, std 1,
 * RGB or L by the channel count, center-crop — then overrides. Other inputs are `not-an-image-model`.
 */
export function resolvePreprocessing(
  meta: ModelMeta,
  overrides: PreprocessingOverrides = {},
  inferred: PreprocessingOverrides = {},
): ImagePreprocessing {
  const base = meta.preprocessing ?? { ...inferPreprocessing(meta), ...definedOnly(inferred) };
  const pre: ImagePreprocessing = { ...base, ...definedOnly(overrides) };
  const C = base.channels === 'L' ? 1 : 3;
  if ((pre.channels === 'L') !== (C === 1)) {
    throw new WidgetError(
      'bad-preprocessing',
      `channels="${pre.channels}" does not fit this model, which takes ${C === 1 ? 'one grayscale channel (L)' : 'three colour channels (RGB or BGR)'}.`,
    );
  }
  for (const [name, list] of [
    ['mean', pre.mean],
    ['std', pre.std],
  ] as const) {
    if (list.length !== 1 && list.length !== C)
      throw new WidgetError('bad-preprocessing', `${name} needs 1 or ${C} numbers, not ${list.length}.`);
    if (list.some((v) => !Number.isFinite(v) || (name === 'std' && v === 0))) {
      throw new WidgetError(
        'bad-preprocessing',
        `${name}="${list.join(', ')}" must be finite numbers${name === 'std' ? ' other than 0' : ''}.`,
      );
    }
  }
  if (!Number.isFinite(pre.scale)) throw new WidgetError('bad-preprocessing', 'scale must be a number such as 1/255.');
  if (!['center-crop', 'fit', 'stretch'].includes(pre.resize)) {
    throw new WidgetError('bad-preprocessing', `resize="${pre.resize}" is not one of center-crop, fit, stretch.`);
  }
  return pre;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

/** Image preprocessing for a model compiled without it, from the shape of its only input. */
export function inferPreprocessing(meta: ModelMeta): ImagePreprocessing {
  const input: TensorMeta | undefined = meta.inputs[0];
  const dims = (input?.shape.slice(1) ?? []) as number[];
  let layout: ImagePreprocessing['layout'] | undefined;
  let c = 1,
    h = 0,
    w = 0;
  if (meta.inputs.length === 1 && input.shape[0] === 'N') {
    if (dims.length === 3 && (dims[0] === 1 || dims[0] === 3)) [layout, c, h, w] = ['NCHW', dims[0], dims[1], dims[2]];
    else if (dims.length === 3 && (dims[2] === 1 || dims[2] === 3))
      [layout, h, w, c] = ['NHWC', dims[0], dims[1], dims[2]];
    else if (dims.length === 2 && dims[0] > 1 && dims[1] > 1) [layout, h, w] = ['flat', dims[0], dims[1]];
    else if (dims.length === 1 && dims[0] >= 36 && Number.isInteger(Math.sqrt(dims[0])))
      [layout, h, w] = ['flat', Math.sqrt(dims[0]), Math.sqrt(dims[0])];
  }
  if (!layout) {
    const shape = meta.inputs.map((t) => `[${t.shape.join(', ')}]`).join(' and ');
    throw new WidgetError(
      'not-an-image-model',
      `This model takes ${shape}, not an image (N×C×H×W or N×H×W×C with 1 or 3 channels, or a square of grayscale pixels).`,
    );
  }
  return {
    type: 'image',
    width: w,
    height: h,
    channels: c === 1 ? 'L' : 'RGB',
    layout,
    scale: 1 / 255,
    mean: [0],
    std: [1],
    resize: 'center-crop',
  };
}

/** `"0.485, 0.456, 0.406"` → numbers (NaN entries are reported by resolvePreprocessing). */
export function parseNumberList(value: string | null): number[] | undefined {
  if (value === null || value.trim() === '') return undefined;
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
}

/** `"1/255"` or `"0.0039"` → a number. */
export function parseScale(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const [a, b] = value.split('/');
  return b === undefined ? Number(a) : Number(a) / Number(b);
}
