// <ml-image-classifier> in real browsers through its public API, on colors_cnn (test/fixtures/make_image.py:
// a CNN PyTorch trained on (pixels/255 − ImageNet mean)/std). The reference file keeps the raw 8-bit pixels
// of its held-out images and PyTorch's logits for them, so each image source is checked end to end —
// acquisition, preprocessing from the model's metadata, network — against PyTorch within 1e-4.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import type { MlImageClassifier, Prediction } from '../../components/index.js';
import { MODELS, reference, row, sleep, softmax, until, type Reference, failOnUnhandledRejections } from './helpers.js';

interface ColorsRef extends Reference {
  pixels: { shape: number[]; data: number[] };
}
let refPromise: Promise<ColorsRef> | undefined;
const ref = () => (refPromise ??= reference('colors_cnn') as Promise<ColorsRef>);
const SRC = `${MODELS}/colors_cnn.wasm`;

/** Held-out image `i` of the reference as a 16×16 canvas with exactly its pixels. */
async function sampleCanvas(i: number): Promise<HTMLCanvasElement> {
  const r = await ref();
  const [, h, w] = r.pixels.shape;
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const data = ctx.createImageData(w, h);
  const px = r.pixels.data.slice(i * w * h * 3, (i + 1) * w * h * 3);
  for (let p = 0; p < w * h; p++) data.data.set([px[p * 3], px[p * 3 + 1], px[p * 3 + 2], 255], p * 4);
  ctx.putImageData(data, 0, 0);
  return canvas;
}
const sampleUrl = async (i: number) => (await sampleCanvas(i)).toDataURL('image/png');
const sampleFile = async (i: number, name = `sample-${i}.png`) => {
  const blob = await new Promise<Blob>((resolve) =>
    sampleCanvas(i).then((c) => c.toBlob((b) => resolve(b!), 'image/png')),
  );
  return new File([blob], name, { type: 'image/png' });
};

/** PyTorch's probabilities for held-out image `i`. */
async function expectedProbs(i: number): Promise<number[]> {
  const r = await ref();
  return softmax(row(r.outputs.output, i));
}

async function expectMatches(predictions: readonly Prediction[], i: number): Promise<void> {
  const r = await ref();
  const probs = await expectedProbs(i);
  const best = probs.indexOf(Math.max(...probs));
  expect(predictions[0].label, 'top label').to.equal(r.labels[best]);
  for (const p of predictions) expect(Math.abs(p.score - probs[p.index]), `score of ${p.label}`).to.be.at.most(1e-4);
}

async function predicted(el: MlImageClassifier): Promise<readonly Prediction[]> {
  if (el.predictions.length) return el.predictions;
  return (await oneEvent(el, 'ml-prediction')).detail.predictions;
}
async function nextPrediction(el: MlImageClassifier): Promise<readonly Prediction[]> {
  return (await oneEvent(el, 'ml-prediction')).detail.predictions;
}
async function failed(el: MlImageClassifier): Promise<{ code: string; message: string }> {
  if (el.error) return el.error;
  return (await oneEvent(el, 'ml-error')).detail;
}
const part = (el: MlImageClassifier, name: string) =>
  el.shadowRoot!.querySelector(`[part~="${name}"]`) as HTMLElement | null;
const statusText = (el: MlImageClassifier) => el.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim();
async function loaded(el: MlImageClassifier): Promise<void> {
  if (!el.model) await oneEvent(el, 'ml-load');
  await el.updateComplete;
}

/** A canvas stream showing one colour square, and a playing <video> of it. */
function colourStream(colour: string): { canvas: HTMLCanvasElement; stream: MediaStream; stop: () => void } {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 64;
  const ctx = canvas.getContext('2d')!;
  const draw = () => {
    ctx.fillStyle = 'rgb(110,110,110)';
    ctx.fillRect(0, 0, 64, 64);
    ctx.fillStyle = colour;
    ctx.fillRect(12, 12, 40, 40);
  };
  draw();
  const stream = canvas.captureStream(30);
  // Keep producing frames (a canvas stream only sends a frame when the canvas changes).
  const timer = setInterval(draw, 30);
  return { canvas, stream, stop: () => (clearInterval(timer), stream.getTracks().forEach((t) => t.stop())) };
}

describe('<ml-image-classifier>', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));

  it('classifies a child <img> as PyTorch does, with the model’s preprocessing', async () => {
    const url = await sampleUrl(0);
    const el = await fixture<MlImageClassifier>(
      html`<ml-image-classifier src=${SRC} top-k="4"><img src=${url} alt="A coloured square" /></ml-image-classifier>`,
    );
    const predictions = await predicted(el);
    expect(predictions).to.have.length(4);
    await expectMatches(predictions, 0);
    await el.updateComplete;
    expect(part(el, 'row-top')!.textContent).to.contain(predictions[0].label);
    expect(statusText(el)).to.match(/^Prediction: \w+, \d+%$/);
  });

  it('classifies the <img> named by `for`, and again when its src changes', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <img id="pic" src=${await sampleUrl(1)} alt="Sample" />
      <ml-image-classifier for="pic" src=${SRC}></ml-image-classifier>
    </div>`);
    const el = wrap.querySelector('ml-image-classifier')!;
    await expectMatches(await predicted(el), 1);
    const next = nextPrediction(el);
    (wrap.querySelector('#pic') as HTMLImageElement).src = await sampleUrl(5);
    await expectMatches(await next, 5);
    expect(part(el, 'preview'), 'an image already on the page is not drawn twice').to.equal(null);
  });

  it('the image property takes a canvas, a Blob or an ImageBitmap and shows a preview', async () => {
    const el = await fixture<MlImageClassifier>(
      html`<ml-image-classifier src=${SRC} alt="The sample"></ml-image-classifier>`,
    );
    await loaded(el);
    for (const [i, make] of [
      [2, async () => sampleCanvas(2)],
      [3, async () => sampleFile(3)],
      [4, async () => createImageBitmap(await sampleCanvas(4))],
    ] as const) {
      const next = nextPrediction(el);
      el.image = await make();
      await expectMatches(await next, i);
    }
    await el.updateComplete;
    const preview = part(el, 'preview')!;
    expect(preview.getAttribute('role')).to.equal('img');
    expect(preview.getAttribute('aria-label')).to.equal('The sample');
  });

  it('predict(source) answers without changing what is shown', async () => {
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
    const result = await el.predict(await sampleFile(6));
    await expectMatches(result.predictions, 6);
    expect(el.predictions).to.deep.equal([]);
    const r = await ref();
    // An already preprocessed row (PyTorch's own input tensor) goes straight to the model.
    await expectMatches((await el.predict(new Float32Array(row(r.inputs.input, 7)))).predictions, 7);
  });

  it('the file picker: a labelled button opens it, a chosen file is classified and previewed with its name', async () => {
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
    await loaded(el);
    const button = part(el, 'file-button') as HTMLButtonElement;
    expect(button.tagName).to.equal('BUTTON');
    expect(button.textContent).to.contain('Choose image');
    const input = el.shadowRoot!.querySelector('input[type=file]') as HTMLInputElement;
    let opened = false;
    input.addEventListener('click', (e) => ((opened = true), e.preventDefault()), { once: true });
    button.click();
    expect(opened, 'the button opens the picker').to.equal(true);
    const dt = new DataTransfer();
    dt.items.add(await sampleFile(8, 'holiday.png'));
    input.files = dt.files;
    const next = nextPrediction(el);
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await expectMatches(await next, 8);
    await el.updateComplete;
    expect(part(el, 'preview')!.getAttribute('aria-label')).to.equal('Chosen image: holiday.png');
  });

  it('drag-and-drop of an image file', async () => {
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
    await loaded(el);
    const dt = new DataTransfer();
    dt.items.add(await sampleFile(9, 'dropped.png'));
    const over = new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    el.dispatchEvent(over);
    expect(over.defaultPrevented, 'dragover accepts files').to.equal(true);
    await el.updateComplete;
    expect(part(el, 'drop')!.classList.contains('dragging')).to.equal(true);
    const next = nextPrediction(el);
    const drop = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    el.dispatchEvent(drop);
    expect(drop.defaultPrevented, 'the browser does not open the file').to.equal(true);
    await expectMatches(await next, 9);
    await el.updateComplete;
    expect(part(el, 'drop')!.classList.contains('dragging')).to.equal(false);
  });

  it('paste of an image (on a focused control inside the element)', async function () {
    // Firefox empties the clipboardData of a script-made ClipboardEvent; only a real paste carries files there.
    const probe = new DataTransfer();
    probe.items.add(new File(['x'], 'x.png', { type: 'image/png' }));
    if (!new ClipboardEvent('paste', { clipboardData: probe }).clipboardData?.files.length) this.skip();
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
    await loaded(el);
    const dt = new DataTransfer();
    dt.items.add(await sampleFile(10, 'clipboard.png'));
    const next = nextPrediction(el);
    part(el, 'file-button')!.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true }),
    );
    await expectMatches(await next, 10);
    await el.updateComplete;
    expect(part(el, 'preview')!.getAttribute('aria-label')).to.equal('Pasted image');
  });

  it('a non-image file is a bad-image error; the element keeps working', async () => {
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
    await loaded(el);
    const dt = new DataTransfer();
    dt.items.add(new File(['a,b\n1,2'], 'table.csv', { type: 'text/csv' }));
    const error = oneEvent(el, 'ml-error');
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const detail = (await error).detail;
    expect(detail.code).to.equal('bad-image');
    expect(detail.message).to.contain('table.csv');
    await el.updateComplete;
    expect(part(el, 'error')!.textContent).to.contain('table.csv');
    // A file claiming to be an image that does not decode.
    const broken = oneEvent(el, 'ml-error');
    el.image = new File(['not a png'], 'broken.png', { type: 'image/png' });
    expect((await broken).detail.code).to.equal('bad-image');
    const next = nextPrediction(el);
    el.image = await sampleCanvas(11);
    await expectMatches(await next, 11);
    await el.updateComplete;
    expect(part(el, 'error')).to.equal(null);
  });

  it('a child <img> that fails to load is a bad-image error', async () => {
    const el = await fixture<MlImageClassifier>(
      html`<ml-image-classifier src=${SRC}><img src="/no/such/picture.png" alt="Missing" /></ml-image-classifier>`,
    );
    const error = await failed(el);
    expect(error.code).to.equal('bad-image');
    expect(error.message).to.contain('picture.png');
  });

  it('a playing <video> (a canvas stream) is classified live', async () => {
    const feed = colourStream('rgb(30,50,220)');
    try {
      const video = document.createElement('video');
      video.muted = true;
      video.srcObject = feed.stream;
      const el = await fixture<MlImageClassifier>(
        html`<ml-image-classifier src=${SRC} interval="20"></ml-image-classifier>`,
      );
      el.append(video);
      await video.play();
      let count = 0;
      el.addEventListener('ml-prediction', () => count++);
      await until(() => count >= 3, 8000, 'three live predictions');
      expect(el.predictions[0].label).to.equal('blue');
      video.pause();
    } finally {
      feed.stop();
    }
  });

  it('camera: a labelled button asks, a status says we wait for permission, then it classifies live and stops', async () => {
    const media = navigator.mediaDevices as MediaDevices & { getUserMedia: MediaDevices['getUserMedia'] };
    const original = media.getUserMedia;
    const feed = colourStream('rgb(230,220,30)');
    let grant!: () => void;
    let asked: MediaStreamConstraints | undefined;
    media.getUserMedia = (c?: MediaStreamConstraints) => {
      asked = c;
      return new Promise((resolve) => (grant = () => resolve(feed.stream)));
    };
    try {
      const el = await fixture<MlImageClassifier>(
        html`<ml-image-classifier src=${SRC} interval="20"></ml-image-classifier>`,
      );
      await loaded(el);
      const button = part(el, 'camera-button') as HTMLButtonElement;
      expect(button.textContent!.trim()).to.equal('Use camera');
      button.click();
      await el.updateComplete;
      expect(asked?.video, 'asks for video').to.be.ok;
      expect(asked?.audio, 'never for the microphone').to.equal(false);
      expect(part(el, 'camera-status')!.textContent).to.contain('Waiting for permission');
      expect(statusText(el)).to.contain('permission');
      grant();
      await until(
        () => el.predictions.length > 0 && el.predictions[0].label === 'yellow',
        8000,
        'a yellow camera prediction',
      );
      await el.updateComplete;
      expect(part(el, 'camera-video'), 'the live picture is shown').to.be.ok;
      expect(button.textContent!.trim()).to.equal('Stop camera');
      expect(button.getAttribute('aria-pressed')).to.equal('true');
      button.click();
      await el.updateComplete;
      expect(
        feed.stream.getTracks().every((t) => t.readyState === 'ended'),
        'tracks stopped',
      ).to.equal(true);
      expect(button.textContent!.trim()).to.equal('Use camera');
    } finally {
      media.getUserMedia = original;
      feed.stop();
    }
  });

  it('camera denied or absent: a specific error, and files still work', async () => {
    const media = navigator.mediaDevices as MediaDevices & { getUserMedia: MediaDevices['getUserMedia'] };
    const original = media.getUserMedia;
    try {
      const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
      await loaded(el);
      media.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      let error = oneEvent(el, 'ml-error');
      (part(el, 'camera-button') as HTMLButtonElement).click();
      expect((await error).detail.code).to.equal('camera-denied');
      await el.updateComplete;
      expect(part(el, 'error')!.textContent).to.contain('Camera access was denied');
      expect(part(el, 'camera-status')).to.equal(null);
      media.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
      error = oneEvent(el, 'ml-error');
      (part(el, 'camera-button') as HTMLButtonElement).click();
      expect((await error).detail).to.include({ code: 'camera-unavailable' });
      const next = nextPrediction(el);
      el.image = await sampleFile(0);
      await expectMatches(await next, 0);
    } finally {
      media.getUserMedia = original;
    }
  });

  it('a bad src is an error inside the element', async () => {
    const el = await fixture<MlImageClassifier>(
      html`<ml-image-classifier src="${MODELS}/missing-image-model.wasm"></ml-image-classifier>`,
    );
    const error = await failed(el);
    expect(error.code).to.equal('http-error');
    await el.updateComplete;
    expect(part(el, 'error')).to.be.ok;
  });

  it('a model that does not take images is not-an-image-model', async () => {
    const el = await fixture<MlImageClassifier>(
      html`<ml-image-classifier src="${MODELS}/iris_mlp.wasm"></ml-image-classifier>`,
    );
    const error = await failed(el);
    expect(error.code).to.equal('not-an-image-model');
    expect(error.message).to.contain('not an image');
  });

  it('attributes override the model’s preprocessing, and a wrong one is a clear error', async () => {
    const el = await fixture<MlImageClassifier>(
      html`<ml-image-classifier src=${SRC} mean="0.5" std="0.5" resize="fit" channels="BGR"></ml-image-classifier>`,
    );
    await loaded(el);
    expect(el.preprocessing).to.deep.include({
      mean: [0.5],
      std: [0.5],
      resize: 'fit',
      channels: 'BGR',
      scale: 1 / 255,
    });
    el.setAttribute('channels', 'L');
    el.image = await sampleCanvas(0);
    const error = await failed(el);
    expect(error.code).to.equal('bad-preprocessing');
  });

  it('loading="lazy" waits until it nears the viewport; ml-progress and ml-load follow', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <div style="height: 6000px"></div>
      <ml-image-classifier loading="lazy" src="${SRC}?lazy"><img src=${await sampleUrl(2)} alt="Sample" /></ml-image-classifier>
    </div>`);
    const el = wrap.querySelector('ml-image-classifier')!;
    await sleep(300);
    expect(el.model, 'not loaded while far away').to.equal(undefined);
    const progress: number[] = [];
    el.addEventListener('ml-progress', (e) => progress.push(e.detail.loaded));
    const load = oneEvent(el, 'ml-load');
    el.scrollIntoView();
    await load;
    expect(progress.length, 'ml-progress fired').to.be.above(0);
    expect(Math.max(...progress)).to.be.above(0);
    await expectMatches(await predicted(el), 2);
  });

  it('runs in a worker with the same answers', async () => {
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier worker src=${SRC}></ml-image-classifier>`);
    await loaded(el);
    const next = nextPrediction(el);
    el.image = await sampleCanvas(3);
    await expectMatches(await next, 3);
  });

  it('is accessible (axe) with a preview and predictions', async () => {
    const el = await fixture<MlImageClassifier>(html`<ml-image-classifier src=${SRC}></ml-image-classifier>`);
    await loaded(el);
    const next = nextPrediction(el);
    el.image = await sampleFile(1);
    await next;
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
