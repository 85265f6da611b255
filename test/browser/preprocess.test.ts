// Image preprocessing (components/image/preprocess.ts) against values computed here from known pixel
// colours: pictures whose resize is unambiguous (constant blocks downsampled by whole factors, crops
// and letterboxes on block edges), so every expected number follows from the colours and the formula
// (pixel·scale − mean) / std in the model's channel order and layout — never from the module itself.
import { expect } from '@open-wc/testing';
import { loadModel } from '../../runtime/index.js';
import type { ImagePreprocessing } from '../../runtime/meta.js';
import { ImagePreprocessor, resolvePreprocessing, type ImageSource } from '../../components/image/preprocess.js';
import { MODELS } from './helpers.js';

type RGB = [number, number, number];
const A: RGB = [200, 30, 10];
const B: RGB = [20, 180, 60];
const C: RGB = [40, 70, 230];
const D: RGB = [250, 240, 5];
const MAGENTA: RGB = [255, 0, 255];
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A canvas painted from a function of the pixel position. */
function paint(width: number, height: number, colour: (x: number, y: number) => RGB): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const data = ctx.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = colour(x, y);
      data.data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

/** 4×4: 2×2 blocks A B / C D. */
const blocks = () => paint(4, 4, (x, y) => (y < 2 ? (x < 2 ? A : B) : x < 2 ? C : D));

async function asImage(canvas: HTMLCanvasElement): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = canvas.toDataURL('image/png'); // lossless: the same pixels
  await img.decode();
  return img;
}

async function asBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
}

function pre(p: Partial<ImagePreprocessing>): ImagePreprocessing {
  return {
    type: 'image',
    width: 2,
    height: 2,
    channels: 'RGB',
    layout: 'NCHW',
    scale: 1 / 255,
    mean: [0],
    std: [1],
    resize: 'stretch',
    ...p,
  };
}

/** Expected model input for a grid of colours (rows of pixels), computed from the definition. */
function expected(grid: RGB[][], p: ImagePreprocessing): number[] {
  const H = grid.length;
  const W = grid[0].length;
  const C = p.channels === 'L' ? 1 : 3;
  const out = new Array<number>(W * H * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let [r, g, b] = grid[y][x];
      if (p.invert) [r, g, b] = [255 - r, 255 - g, 255 - b];
      const chans =
        p.channels === 'L' ? [0.299 * r + 0.587 * g + 0.114 * b] : p.channels === 'BGR' ? [b, g, r] : [r, g, b];
      chans.forEach((v, c) => {
        const value = (v * p.scale - p.mean[c % p.mean.length]) / p.std[c % p.std.length];
        const at = p.layout === 'NCHW' ? c * W * H + y * W + x : (y * W + x) * C + c;
        out[at] = value;
      });
    }
  }
  return out;
}

function expectClose(actual: Float32Array, want: number[], tol = 1e-5): void {
  expect(actual.length, 'length').to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(actual[i] - want[i]), `value ${i}: ${actual[i]} vs ${want[i]}`).to.be.at.most(tol);
  }
}

describe('image preprocessing', () => {
  const grid: RGB[][] = [
    [A, B],
    [C, D],
  ];

  it('downsamples constant 2×2 blocks 2× exactly from every kind of source (NCHW RGB, ImageNet mean/std)', async () => {
    const p = pre({ ...IMAGENET });
    const canvas = blocks();
    const sources: [string, ImageSource | Blob][] = [
      ['canvas', canvas],
      ['img', await asImage(canvas)],
      ['ImageBitmap', await createImageBitmap(canvas)],
      ['Blob', await asBlob(canvas)],
    ];
    if (typeof OffscreenCanvas !== 'undefined') {
      const off = new OffscreenCanvas(4, 4);
      off.getContext('2d')!.drawImage(canvas, 0, 0);
      sources.push(['OffscreenCanvas', off]);
    }
    const pp = new ImagePreprocessor();
    for (const [what, source] of sources) {
      const out = await pp.runAsync(source, p);
      try {
        expectClose(out, expected(grid, p));
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      }
    }
  });

  it('writes NHWC and BGR channel order', () => {
    const pp = new ImagePreprocessor();
    for (const p of [
      pre({ layout: 'NHWC', ...IMAGENET }),
      pre({ channels: 'BGR', mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] }),
      pre({ layout: 'NHWC', channels: 'BGR', scale: 1 }),
    ]) {
      expectClose(pp.run(blocks(), p), expected(grid, p));
    }
  });

  it('grayscale (BT.601 luma), inverted, flat, with scale 16/255 as for 0..16 digits', () => {
    const p = pre({ channels: 'L', layout: 'flat', invert: true, scale: 16 / 255 });
    const out = new ImagePreprocessor().run(blocks(), p);
    expectClose(out, expected(grid, p), 1e-4);
    // Spelled out for one pixel: A = (200, 30, 10) → luma 78.65 → inverted 176.35 → ·16/255.
    expect(out[0]).to.be.closeTo(((255 - (0.299 * 200 + 0.587 * 30 + 0.114 * 10)) * 16) / 255, 1e-4);
  });

  it('center-crop drops the sides of a wide picture', () => {
    // 8×4: two magenta columns each side, the 4×4 blocks in the middle.
    const wide = paint(8, 4, (x, y) => (x < 2 || x >= 6 ? MAGENTA : y < 2 ? (x < 4 ? A : B) : x < 4 ? C : D));
    const p = pre({ resize: 'center-crop' });
    expectClose(new ImagePreprocessor().run(wide, p), expected(grid, p));
  });

  it('fit letterboxes the whole picture on paper (black, or white when inverting)', () => {
    // 8×4: a red 4×4 square left, a blue one right → 4×4 target: rows 1–2 hold it, rows 0 and 3 are paper.
    const red: RGB = [255, 0, 0];
    const blue: RGB = [0, 0, 255];
    const wide = paint(8, 4, (x) => (x < 4 ? red : blue));
    const row: RGB[] = [red, red, blue, blue];
    for (const invert of [false, true]) {
      const paper: RGB = invert ? [255, 255, 255] : [0, 0, 0];
      const p = pre({ width: 4, height: 4, resize: 'fit', invert });
      const want = expected([[paper, paper, paper, paper], row, row, [paper, paper, paper, paper]], p);
      expectClose(new ImagePreprocessor().run(wide, p), want);
    }
  });

  it('stretch ignores the aspect ratio', () => {
    // 8×2: A B across → 2×1 target.
    const p = pre({ width: 2, height: 1 });
    const strip = paint(8, 2, (x) => (x < 4 ? A : B));
    expectClose(new ImagePreprocessor().run(strip, p), expected([[A, B]], p));
  });

  it('averages areas when shrinking a lot (a 1-pixel checkerboard is mid-grey, not aliased black or white)', () => {
    const board = paint(64, 64, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]));
    const p = pre({ width: 8, height: 8, channels: 'L', layout: 'flat', scale: 1 });
    const out = new ImagePreprocessor().run(board, p);
    for (const v of out) expect(v).to.be.closeTo(127.5, 0.01);
  });

  it('a region of the source is cropped before resizing', () => {
    const p = pre({ width: 1, height: 1 });
    const out = new ImagePreprocessor().run(blocks(), p, { x: 2, y: 2, width: 2, height: 2 });
    expectClose(out, expected([[D]], p));
  });

  it('reuses its output buffer between calls', () => {
    const pp = new ImagePreprocessor();
    const first = pp.run(blocks(), pre({}));
    const second = pp.run(
      paint(4, 4, () => A),
      pre({}),
    );
    expect(second).to.equal(first);
    expectClose(
      second,
      expected(
        [
          [A, A],
          [A, A],
        ],
        pre({}),
      ),
    );
  });

  it('an image that has not loaded is a bad-image error', () => {
    const img = new Image();
    expect(() => new ImagePreprocessor().run(img, pre({})))
      .to.throw()
      .with.property('code', 'bad-image');
  });

  it('a Blob that is not an image is a bad-image error naming the file', async () => {
    const file = new File(['hello'], 'notes.txt', { type: 'text/plain' });
    let error: { code?: string; message?: string } | undefined;
    await new ImagePreprocessor().runAsync(file, pre({})).catch((e) => (error = e));
    expect(error?.code).to.equal('bad-image');
    expect(error?.message).to.contain('notes.txt');
  });
});

describe('resolvePreprocessing', () => {
  it('takes the model’s metadata and applies overrides', async () => {
    const model = await loadModel(`${MODELS}/colors_cnn.wasm`);
    const base = resolvePreprocessing(model.meta);
    expect(base).to.deep.include({
      width: 16,
      height: 16,
      channels: 'RGB',
      layout: 'NCHW',
      mean: IMAGENET.mean,
      std: IMAGENET.std,
    });
    const over = resolvePreprocessing(model.meta, {
      mean: [0.5],
      std: [0.5],
      channels: 'BGR',
      resize: 'fit',
      scale: 1,
    });
    expect(over).to.deep.include({ mean: [0.5], std: [0.5], channels: 'BGR', resize: 'fit', scale: 1 });
    expect(() => resolvePreprocessing(model.meta, { channels: 'L' }))
      .to.throw()
      .with.property('code', 'bad-preprocessing');
    expect(() => resolvePreprocessing(model.meta, { mean: [1, 2] }))
      .to.throw()
      .with.property('code', 'bad-preprocessing');
    expect(() => resolvePreprocessing(model.meta, { std: [0] }))
      .to.throw()
      .with.property('code', 'bad-preprocessing');
  });

  it('infers an 8×8 grayscale image for a 64-input model without image metadata', async () => {
    const model = await loadModel(`${MODELS}/digits_mlp.wasm`);
    expect(model.meta.preprocessing).to.equal(null);
    const p = resolvePreprocessing(model.meta, {}, { invert: true });
    expect(p).to.deep.include({
      width: 8,
      height: 8,
      channels: 'L',
      layout: 'flat',
      scale: 1 / 255,
      mean: [0],
      std: [1],
      invert: true,
    });
  });

  it('a model whose input is not an image is not-an-image-model', async () => {
    const model = await loadModel(`${MODELS}/iris_mlp.wasm`);
    expect(() => resolvePreprocessing(model.meta))
      .to.throw()
      .with.property('code', 'not-an-image-model');
  });
});
