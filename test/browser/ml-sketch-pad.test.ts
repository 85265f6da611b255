// <ml-sketch-pad> driven by dispatched Pointer Events, feeding digits_cnn (PyTorch, trained on scikit-learn's
// digits / 16; compiled with --channels L --invert --scale 1/255 --resize fit) through <ml-classifier> and
// <ml-image-classifier>. Expected pixels follow from the stroke geometry; expected classes from the
// classifier's own answer for the sent pixels and, for a drawn "1", from what a digit recogniser must say.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../components/index.js';
import type { MlClassifier, MlImageClassifier, MlSketchDetail, MlSketchPad } from '../../components/index.js';
import { MODELS, until, failOnUnhandledRejections } from './helpers.js';

const CNN = `${MODELS}/digits_cnn.wasm`;

/** Dispatch a pointer stroke through `points` (CSS pixels relative to the canvas). */
function stroke(pad: MlSketchPad, points: [number, number][], pointerType = 'mouse', pointerId = 7): void {
  const canvas = pad.shadowRoot!.querySelector('canvas')!;
  const rect = canvas.getBoundingClientRect();
  const ev = (type: string, [x, y]: [number, number], buttons: number) =>
    canvas.dispatchEvent(
      new PointerEvent(type, {
        pointerId,
        pointerType,
        isPrimary: true,
        button: 0,
        buttons,
        clientX: rect.left + x,
        clientY: rect.top + y,
        bubbles: true,
        composed: true,
        cancelable: true,
      }),
    );
  ev('pointerdown', points[0], 1);
  for (const p of points.slice(1)) ev('pointermove', p, 1);
  ev('pointerup', points[points.length - 1], 0);
}

/** Points along a line, every `step` px. */
function line(from: [number, number], to: [number, number], step = 4): [number, number][] {
  const n = Math.max(1, Math.ceil(Math.hypot(to[0] - from[0], to[1] - from[1]) / step));
  return Array.from({ length: n + 1 }, (_, i) => [
    from[0] + ((to[0] - from[0]) * i) / n,
    from[1] + ((to[1] - from[1]) * i) / n,
  ]);
}

async function loaded(el: MlClassifier | MlImageClassifier): Promise<void> {
  if (!el.model) await oneEvent(el, 'ml-load');
  await el.updateComplete;
}

describe('<ml-sketch-pad>', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));

  it('downsamples a stroke to the model’s 8×8 input (inverted ink, 0..1) and feeds <ml-classifier>', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="digits" width="256" height="256" stroke-width="32" frame="canvas"></ml-sketch-pad>
      <ml-classifier id="digits" src=${CNN}></ml-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    const clf = wrap.querySelector('ml-classifier')!;
    await loaded(clf);
    await pad.updateComplete;
    // A vertical bar exactly covering column 3 (x 96..128 of 256 → cells of 32 px) from y = 40 to 216.
    const sketches: MlSketchDetail[] = [];
    pad.addEventListener('ml-sketch', (e) => sketches.push(e.detail));
    const prediction = oneEvent(clf, 'ml-prediction');
    stroke(pad, line([112, 40], [112, 216]));
    expect(sketches.length, 'sent while drawing (throttled) and at the end').to.be.within(2, 4);
    const detail = sketches[sketches.length - 1];
    expect(detail.final).to.equal(true);
    const px = detail.pixels;
    expect(px).to.have.length(64);
    expect(detail.preprocessing).to.deep.include({ width: 8, height: 8, channels: 'L', invert: true });
    for (let y = 2; y <= 5; y++) expect(px[y * 8 + 3], `ink at row ${y}`).to.be.above(0.97);
    for (let y = 0; y < 8; y++) {
      for (const x of [0, 1, 5, 6, 7]) expect(px[y * 8 + x], `paper at ${x},${y}`).to.equal(0);
      for (const x of [2, 4]) expect(px[y * 8 + x], `edge at ${x},${y}`).to.be.below(0.06);
    }
    // The classifier shows exactly what it predicts for those pixels.
    await prediction;
    await until(() => clf.input === px, 2000, 'the final pixels as input');
    await clf.updateComplete;
    const own = (await clf.predict(Float32Array.from(px))).predictions as { label: string; score: number }[];
    expect(clf.predictions[0].label).to.equal(own[0].label);
    expect(clf.predictions[0].score).to.be.closeTo(own[0].score, 1e-6);
  });

  it('a drawn “1” (pen) is recognised as 1, a drawn “0” (touch) as 0', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="digits2"></ml-sketch-pad>
      <ml-classifier id="digits2" src=${CNN}></ml-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    const clf = wrap.querySelector('ml-classifier')!;
    await loaded(clf);
    await pad.updateComplete;
    stroke(pad, line([128, 40], [128, 216]), 'pen');
    await until(() => clf.predictions[0]?.label === '1', 3000, `“1”, got ${clf.predictions[0]?.label}`);
    pad.clear();
    const ring: [number, number][] = Array.from({ length: 41 }, (_, i) => [
      128 + 55 * Math.sin((i / 40) * 2 * Math.PI),
      128 - 85 * Math.cos((i / 40) * 2 * Math.PI),
    ]);
    stroke(pad, ring, 'touch', 3);
    await until(() => clf.predictions[0]?.label === '0', 3000, `“0”, got ${clf.predictions[0]?.label}`);
  });

  it('feeds an <ml-image-classifier>, which previews the drawing', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="img-digits"></ml-sketch-pad>
      <ml-image-classifier id="img-digits" src=${CNN}></ml-image-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    const clf = wrap.querySelector('ml-image-classifier')!;
    await loaded(clf);
    await pad.updateComplete;
    const sketches: Float32Array[] = [];
    pad.addEventListener('ml-sketch', (e) => sketches.push(Float32Array.from(e.detail.pixels)));
    stroke(pad, line([128, 40], [128, 216]));
    await until(() => clf.predictions[0]?.label === '1', 3000, `“1”, got ${clf.predictions[0]?.label}`);
    // The image classifier's answer is its model's answer for the pad's pixels.
    const own = await clf.predict(sketches[sketches.length - 1]);
    expect(clf.predictions[0].score).to.be.closeTo(own.predictions[0].score, 1e-6);
    await clf.updateComplete;
    expect(clf.shadowRoot!.querySelector('[part="preview"]')).to.be.ok;
  });

  it('Clear is a keyboard-reachable button; Escape on it clears too', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="digits3"></ml-sketch-pad>
      <ml-image-classifier id="digits3" src=${CNN}></ml-image-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    const clf = wrap.querySelector('ml-image-classifier')!;
    await loaded(clf);
    await pad.updateComplete;
    const canvas = pad.shadowRoot!.querySelector('canvas')!;
    const inkPixels = () => {
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
      return n;
    };
    for (const key of ['Enter', 'Escape']) {
      stroke(pad, line([60, 60], [200, 200]));
      await until(() => clf.predictions.length > 0, 3000, 'a prediction');
      expect(pad.empty).to.equal(false);
      expect(inkPixels()).to.be.above(100);
      const button = pad.shadowRoot!.querySelector('[part="clear-button"]') as HTMLButtonElement;
      expect(button.tagName).to.equal('BUTTON');
      expect(button.textContent!.trim()).to.equal('Clear');
      button.focus();
      await sendKeys({ press: key });
      await pad.updateComplete;
      expect(pad.empty, `${key} cleared`).to.equal(true);
      expect(inkPixels()).to.equal(0);
      await clf.updateComplete;
      expect(clf.predictions, 'the image classifier is cleared too').to.deep.equal([]);
      expect(pad.shadowRoot!.querySelector('[role="status"]')!.textContent).to.contain('cleared');
    }
  });

  it('Clear also clears an <ml-classifier> target: an empty pad is no input, so no prediction stays on show', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="digits4"></ml-sketch-pad>
      <ml-classifier id="digits4" src=${CNN}></ml-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    const clf = wrap.querySelector('ml-classifier')!;
    await loaded(clf);
    await pad.updateComplete;
    stroke(pad, line([128, 40], [128, 216]));
    await until(() => clf.predictions.length > 0, 3000, 'a prediction');
    pad.clear();
    await clf.updateComplete;
    expect(clf.predictions, 'the classifier is cleared').to.deep.equal([]);
    expect(clf.shadowRoot!.querySelectorAll('[part~="row"]')).to.have.length(0);
    expect(clf.input).to.equal(undefined);
    // Drawing again predicts again.
    stroke(pad, line([128, 40], [128, 216]));
    await until(() => clf.predictions.length > 0, 3000, 'a prediction after Clear');
  });

  it('the surface takes pointers, not page scrolling, and is labelled', async () => {
    const pad = await fixture<MlSketchPad>(html`<ml-sketch-pad label="Draw a digit"></ml-sketch-pad>`);
    const canvas = pad.shadowRoot!.querySelector('canvas')!;
    expect(getComputedStyle(canvas).touchAction).to.equal('none');
    expect(canvas.getAttribute('role')).to.equal('img');
    expect(canvas.getAttribute('aria-label')).to.equal('Draw a digit');
  });

  it('no classifier with that id: no-target error', async () => {
    const pad = await fixture<MlSketchPad>(html`<ml-sketch-pad for="nobody"></ml-sketch-pad>`);
    const error = oneEvent(pad, 'ml-error');
    stroke(pad, line([60, 60], [200, 200]));
    const detail = (await error).detail;
    expect(detail.code).to.equal('no-target');
    expect(detail.message).to.contain('nobody');
    await pad.updateComplete;
    expect(pad.shadowRoot!.querySelector('[part="error"]')).to.be.ok;
  });

  it('a classifier whose model does not take images: not-an-image-model', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="iris"></ml-sketch-pad>
      <ml-classifier id="iris" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    await loaded(wrap.querySelector('ml-classifier')!);
    const error = oneEvent(pad, 'ml-error');
    stroke(pad, line([60, 60], [200, 200]));
    expect((await error).detail.code).to.equal('not-an-image-model');
  });

  it('waits for the classifier’s model when drawn on before it loads', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="late"></ml-sketch-pad>
      <ml-classifier id="late"></ml-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    const clf = wrap.querySelector('ml-classifier')!;
    await pad.updateComplete;
    stroke(pad, line([128, 40], [128, 216]));
    clf.src = CNN;
    await until(() => clf.predictions[0]?.label === '1', 4000, 'a prediction after loading');
  });

  it('is accessible (axe)', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div>
      <ml-sketch-pad for="digits4"></ml-sketch-pad>
      <ml-classifier id="digits4" src=${CNN}></ml-classifier>
    </div>`);
    const pad = wrap.querySelector('ml-sketch-pad')!;
    await loaded(wrap.querySelector('ml-classifier')!);
    stroke(pad, line([128, 40], [128, 216]));
    await pad.updateComplete;
    await expect(pad).to.be.accessible();
  });
});
