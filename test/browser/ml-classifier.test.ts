// <ml-classifier> in Chromium against real models (test/fixtures/build/*.wasm, compiled from PyTorch and
// scikit-learn ONNX exports). Rendered predictions are compared with the source library's reference
// outputs (test/fixtures/models/<name>.json), never with our own.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import { define, MlClassifier, type Prediction } from '../../components/index.js';
import {
  argmax,
  MODELS,
  reference,
  requestStats,
  row,
  rowCount,
  sleep,
  softmax,
  uid,
  until,
  type Reference,
  expectShortAndLogged,
  failOnUnhandledRejections,
  watchWarnings,
} from './helpers.js';

const refs = new Map<string, Promise<Reference>>();
const ref = (name: string) => {
  if (!refs.has(name)) refs.set(name, reference(name));
  return refs.get(name)!;
};

/** Resolves once the element has its model and has rendered what follows from it. */
async function loaded(el: MlClassifier): Promise<void> {
  if (!el.model) await oneEvent(el, 'ml-load');
  await el.updateComplete;
}

/** The element's predictions, now if it has some (a cached model predicts before a listener could attach), else at the next event. */
async function predicted(el: MlClassifier): Promise<readonly Prediction[]> {
  if (el.predictions.length) return el.predictions;
  return (await oneEvent(el, 'ml-prediction')).detail.predictions;
}

/** The element's error, now if it has one, else at the next ml-error. */
async function failed(el: MlClassifier): Promise<{ code: string; message: string }> {
  if (el.error) return el.error;
  return (await oneEvent(el, 'ml-error')).detail;
}

function shadow(el: MlClassifier): ShadowRoot {
  return el.shadowRoot!;
}
const renderedRows = (el: MlClassifier) => Array.from(shadow(el).querySelectorAll('[part~="row"]'));
const renderedLabels = (el: MlClassifier) =>
  renderedRows(el).map((r) => r.querySelector('[part="label"]')!.textContent);
const errorBox = (el: MlClassifier) => shadow(el).querySelector('[part="error"]');
const statusText = (el: MlClassifier) => shadow(el).querySelector('[role="status"]')!.textContent!.trim();

/** Expected probabilities for a reference output row, by the output's kind. */
function expectedProbabilities(values: number[], kind: 'probabilities' | 'logits' | 'log-probabilities'): number[] {
  return kind === 'probabilities' ? values : softmax(values);
}

function expectMatchesReference(
  predictions: readonly Prediction[],
  expected: number[],
  labels: string[],
  where: string,
): void {
  const best = argmax(expected);
  expect(predictions[0].label, `${where}: top label`).to.equal(labels[best]);
  expect(predictions[0].index, `${where}: top index`).to.equal(best);
  for (const p of predictions) {
    expect(Math.abs(p.score - expected[p.index]), `${where}: score of ${p.label}`).to.be.at.most(1e-4);
  }
  for (let i = 1; i < predictions.length; i++) expect(predictions[i].score).to.be.at.most(predictions[i - 1].score);
}

function setField(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('<ml-classifier>', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));

  describe('predictions against the source library', () => {
    it('matches PyTorch softmax probabilities on every iris reference row', async () => {
      const r = await ref('iris_mlp');
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/iris_mlp.wasm"></ml-classifier>`);
      await loaded(el);
      for (let i = 0; i < rowCount(r.inputs.input); i++) {
        el.input = row(r.inputs.input, i);
        await el.updateComplete;
        expectMatchesReference(el.predictions, row(r.outputs.output, i), r.labels, `row ${i}`);
        expect(renderedLabels(el)[0]).to.equal(el.predictions[0].label);
      }
      expect(renderedRows(el)).to.have.length(3);
    });

    it('turns logits into probabilities like softmax over PyTorch logits (digits)', async () => {
      const r = await ref('digits_mlp');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/digits_mlp.wasm" labels=${r.labels.join(',')} top-k="10"></ml-classifier>`,
      );
      await loaded(el);
      expect(el.model!.meta.outputs[0].kind).to.equal('logits');
      for (let i = 0; i < rowCount(r.inputs.input); i++) {
        el.input = new Float32Array(row(r.inputs.input, i));
        await el.updateComplete;
        expectMatchesReference(el.predictions, softmax(row(r.outputs.output, i)), r.labels, `row ${i}`);
      }
      const sum = el.predictions.reduce((a, p) => a + p.score, 0);
      expect(sum).to.be.closeTo(1, 1e-6);
    });

    it('turns log-probabilities into probabilities (wine, LogSoftmax)', async () => {
      const r = await ref('wine_leaky_logsoftmax_op9');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/wine_leaky_logsoftmax_op9.wasm" labels=${r.labels.join(',')}></ml-classifier>`,
      );
      await loaded(el);
      for (let i = 0; i < rowCount(r.inputs.input); i++) {
        el.input = row(r.inputs.input, i);
        await el.updateComplete;
        const expected = expectedProbabilities(row(r.outputs.output, i), 'log-probabilities');
        expectMatchesReference(el.predictions, expected, r.labels, `row ${i}`);
      }
    });

    it('uses the probability output of a scikit-learn pipeline and agrees with its label output', async () => {
      const r = await ref('iris_sklearn_mlp');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/iris_sklearn_mlp.wasm"></ml-classifier>`,
      );
      await loaded(el);
      for (let i = 0; i < rowCount(r.inputs.X); i++) {
        el.input = row(r.inputs.X, i);
        await el.updateComplete;
        expectMatchesReference(el.predictions, row(r.outputs.output_probability, i), r.labels, `row ${i}`);
        expect(el.predictions[0].label).to.equal(r.outputs.output_label.data[i]);
      }
    });

    it('predict() ranks a batch per row and a single row as one list, without changing the display', async () => {
      const r = await ref('iris_mlp');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/iris_mlp.wasm" top-k="3"></ml-classifier>`,
      );
      const n = rowCount(r.inputs.input);
      const rows = Array.from({ length: n }, (_, i) => row(r.inputs.input, i));
      const batch = await el.predict(rows);
      const perRow = batch.predictions as Prediction[][];
      expect(perRow).to.have.length(n);
      perRow.forEach((p, i) => expectMatchesReference(p, row(r.outputs.output, i), r.labels, `batch row ${i}`));
      expect(batch.outputs.output.shape).to.deep.equal([n, 3]);

      const flat = await el.predict(new Float32Array(r.inputs.input.data as number[]), n);
      expect(flat.predictions).to.have.length(n);
      const one = await el.predict(rows[5]);
      expectMatchesReference(one.predictions as Prediction[], row(r.outputs.output, 5), r.labels, 'single row');
      expect(el.predictions).to.have.length(0);
    });

    it('predict() rejects bad input with a coded error', async () => {
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/iris_mlp.wasm"></ml-classifier>`);
      let error: { code?: string } | undefined;
      await el.predict([1, 2, 3]).catch((e) => (error = e));
      expect(error?.code).to.equal('bad-input');
    });
  });

  describe('form binding', () => {
    const irisForm = (id: string) => html`
      <form id=${id}>
        <label>Sepal length <input type="number" name="sl" value="5.1" step="0.1" /></label>
        <label>Sepal width <input type="number" name="sw" value="3.5" step="0.1" /></label>
        <label>Petal length <input type="number" name="pl" value="1.4" step="0.1" /></label>
        <label>Petal width <input type="number" name="pw" value="0.2" step="0.1" /></label>
        <input type="text" name="note" value="not a feature" />
        <button type="submit">Go</button>
      </form>
    `;

    it('predicts from the form at load and again as the fields change', async () => {
      const r = await ref('iris_mlp');
      const wrapper = await fixture<HTMLElement>(html`<div>
        ${irisForm('iris-a')}
        <ml-classifier for="iris-a" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      expect((await predicted(el))[0].label).to.equal('setosa');

      const inputs = Array.from(wrapper.querySelectorAll<HTMLInputElement>('input[type=number]'));
      for (const i of [0, 4, 6, 7]) {
        const values = row(r.inputs.input, i);
        values.forEach((v, j) => (inputs[j].value = String(v)));
        const next = oneEvent(el, 'ml-prediction');
        inputs[3].dispatchEvent(new Event('input', { bubbles: true }));
        const { detail } = await next;
        expectMatchesReference(detail.predictions, row(r.outputs.output, i), r.labels, `form row ${i}`);
        expect(Array.from(detail.outputs.output.data as Float32Array)).to.have.length(3);
        await el.updateComplete;
        expect(renderedLabels(el)[0]).to.equal(detail.predictions[0].label);
      }
    });

    it('finds its form when a CMS wraps everything in <p> and <br>, with the element before the form', async () => {
      const r = await ref('iris_mlp');
      const wrapper = await fixture<HTMLElement>(html`<div>
        <p><ml-classifier for="iris-cms" src="${MODELS}/iris_mlp.wasm"></ml-classifier></p>
        <form id="iris-cms">
          <p>
            <input type="number" aria-label="a" value="1" /><br />
            <input type="number" aria-label="b" value="1" /><br />
            <input type="number" aria-label="c" value="1" /><br />
            <input type="number" aria-label="d" value="1" /><br />
          </p>
        </form>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      await predicted(el);
      const inputs = Array.from(wrapper.querySelectorAll('input'));
      row(r.inputs.input, 2).forEach((v, j) => (inputs[j].value = String(v)));
      const next = oneEvent(el, 'ml-prediction');
      inputs[0].dispatchEvent(new Event('change', { bubbles: true }));
      expectMatchesReference((await next).detail.predictions, row(r.outputs.output, 2), r.labels, 'cms');
    });

    it('orders fields by data-feature and ignores fields without it', async () => {
      const r = await ref('iris_mlp');
      const values = row(r.inputs.input, 1);
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="iris-ordered">
          <label>Petal width <input data-feature="3" type="number" value=${values[3]} /></label>
          <label>Extra <input type="number" value="99" /></label>
          <label>Sepal width <input data-feature="1" type="text" value=${values[1]} /></label>
          <label>Petal length <select data-feature="2"><option value=${values[2]} selected>${values[2]}</option></select></label>
          <label>Sepal length <input data-feature="0" type="range" min="0" max="10" step="0.1" value=${values[0]} /></label>
        </form>
        <ml-classifier for="iris-ordered" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      expectMatchesReference(await predicted(el), row(r.outputs.output, 1), r.labels, 'data-feature');
    });

    it('names an empty or non-numeric field, then recovers when it is fixed', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div>
        ${irisForm('iris-bad')}
        <ml-classifier for="iris-bad" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      await predicted(el);
      const petalWidth = wrapper.querySelector<HTMLInputElement>('input[name=pw]')!;

      const failed = oneEvent(el, 'ml-error');
      setField(petalWidth, '');
      const { detail } = await failed;
      expect(detail.code).to.equal('bad-input');
      expect(detail.message).to.contain('Petal width').and.contain('empty');
      await el.updateComplete;
      expect(errorBox(el)!.textContent).to.contain('Petal width');
      expect(renderedRows(el)).to.have.length(0);
      expect(el.predictions).to.have.length(0);
      expect(statusText(el)).to.contain('Petal width');

      const recovered = oneEvent(el, 'ml-prediction');
      setField(petalWidth, '0.3');
      await recovered;
      await el.updateComplete;
      expect(errorBox(el)).to.equal(null);
      expect(renderedRows(el)).to.have.length(3);
    });

    it('reports a form with the wrong number of fields', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="iris-short"><input type="number" value="1" /><input type="number" value="2" /></form>
        <ml-classifier for="iris-short" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      const detail = await failed(el);
      expect(detail.code).to.equal('bad-input');
      expect(detail.message).to.contain('2 numeric fields').and.contain('4 features');
    });

    it('reports no-form when for names no form, and recovers when for is fixed', async () => {
      const warnings = watchWarnings();
      const wrapper = await fixture<HTMLElement>(html`<div>
        ${irisForm('iris-real')}
        <ml-classifier for="no-such-form" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      const detail = await failed(el).finally(() => warnings.stop());
      expect(detail.code).to.equal('no-form');
      expect(detail.message).to.contain('no-such-form');
      await el.updateComplete;
      // A visitor cannot fix the page's markup: a short sentence for them, the form's id for the developer.
      expectShortAndLogged(el, detail.message, warnings.logged);
      expect(errorBox(el)!.textContent).to.not.contain('no-such-form');

      const next = oneEvent(el, 'ml-prediction');
      el.for = 'iris-real';
      await next;
      await el.updateComplete;
      expect(errorBox(el)).to.equal(null);
    });

    it('stops listening when removed', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div>
        ${irisForm('iris-gone')}
        <ml-classifier for="iris-gone" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      await predicted(el);
      el.remove();
      let fired = 0;
      el.addEventListener('ml-prediction', () => fired++);
      setField(wrapper.querySelector<HTMLInputElement>('input[name=sl]')!, '6');
      await sleep(50);
      expect(fired).to.equal(0);
    });
  });

  describe('attributes', () => {
    it('shows top-k rows (default 3, at most the number of classes)', async () => {
      const r = await ref('digits_mlp');
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/digits_mlp.wasm"></ml-classifier>`);
      await loaded(el);
      el.input = row(r.inputs.input, 0);
      await el.updateComplete;
      expect(renderedRows(el)).to.have.length(3);
      el.topK = 5;
      await el.updateComplete;
      expect(renderedRows(el)).to.have.length(5);
      el.setAttribute('top-k', '40');
      await el.updateComplete;
      expect(renderedRows(el)).to.have.length(10);
      el.setAttribute('top-k', '1');
      await el.updateComplete;
      expect(el.predictions).to.have.length(1);
    });

    it('names classes from the labels attribute, else the model, else "Class i"', async () => {
      const r = await ref('digits_mlp');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/digits_mlp.unlabelled.wasm" top-k="10"></ml-classifier>`,
      );
      await loaded(el);
      expect(el.model!.meta.labels).to.equal(null);
      el.input = row(r.inputs.input, 0);
      await el.updateComplete;
      const best = argmax(row(r.outputs.output, 0));
      expect(el.predictions[0].label).to.equal(`Class ${best}`);

      el.setAttribute('labels', 'zero, one, two, three, four, five, six, seven, eight, nine');
      await el.updateComplete;
      const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
      expect(el.predictions[0].label).to.equal(names[best]);
      expect(renderedLabels(el)[0]).to.equal(names[best]);

      const iris = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/iris_mlp.wasm"></ml-classifier>`);
      await loaded(iris);
      iris.input = [5.1, 3.5, 1.4, 0.2];
      await iris.updateComplete;
      expect(iris.predictions[0].label).to.equal('setosa');
    });

    it('renders a label containing markup as text', async () => {
      const payload = '<img src=x onerror="window.__mlXss = 1">';
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/iris_mlp.wasm"></ml-classifier>`);
      await loaded(el);
      el.labels = [payload, 'b', 'c'];
      el.input = [5.1, 3.5, 1.4, 0.2];
      await el.updateComplete;
      await sleep(50);
      expect(renderedLabels(el)[0]).to.equal(payload);
      expect(shadow(el).querySelector('img')).to.equal(null);
      expect((window as { __mlXss?: number }).__mlXss).to.equal(undefined);
    });

    it('loading="lazy" waits until the element nears the viewport', async () => {
      const key = uid('lazy');
      const wrapper = await fixture<HTMLElement>(html`<div>
        <div style="height: 6000px"></div>
        <ml-classifier loading="lazy" src="/__test/count/${key}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      await sleep(300);
      expect((await requestStats(key)).requests, 'requests while far away').to.equal(0);
      expect(el.model).to.equal(undefined);
      const load = oneEvent(el, 'ml-load');
      el.scrollIntoView();
      await load;
      expect((await requestStats(key)).requests).to.equal(1);
      window.scrollTo(0, 0);
    });

    it('predict() on a lazy element far away starts its load', async () => {
      const key = uid('lazy-predict');
      const wrapper = await fixture<HTMLElement>(html`<div>
        <div style="height: 6000px"></div>
        <ml-classifier loading="lazy" src="/__test/count/${key}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      const { predictions } = await el.predict([5.1, 3.5, 1.4, 0.2]);
      expect((predictions as Prediction[])[0].label).to.equal('setosa');
    });

    it('loading="eager" and "auto" load at once, even far away', async () => {
      const key = uid('eager');
      const wrapper = await fixture<HTMLElement>(html`<div>
        <div style="height: 6000px"></div>
        <ml-classifier loading="eager" src="/__test/count/${key}/iris_mlp.wasm"></ml-classifier>
        <ml-classifier src="/__test/count/${key}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const els = Array.from(wrapper.querySelectorAll('ml-classifier'));
      await Promise.all(els.map(loaded));
      expect((await requestStats(key)).requests, 'one fetch shared by both').to.equal(1);
    });
  });

  describe('events', () => {
    it('fires ml-progress, ml-load and ml-prediction, bubbling and composed', async () => {
      const key = uid('events');
      const seen: Event[] = [];
      const record = (e: Event) => seen.push(e);
      const types = ['ml-progress', 'ml-load', 'ml-prediction', 'ml-error'];
      types.forEach((t) => document.addEventListener(t, record));
      try {
        const el = await fixture<MlClassifier>(
          html`<ml-classifier src="/__test/slow/${key}/300/digits_mlp.wasm" .input=${new Array(64).fill(0)}></ml-classifier>`,
        );
        const load = await oneEvent(el, 'ml-load');
        expect(load.detail.meta.inputs[0].shape).to.deep.equal(['N', 64]);
        await until(() => seen.some((e) => e.type === 'ml-prediction'), 2000, 'ml-prediction');
        const progress = seen.filter((e) => e.type === 'ml-progress') as CustomEvent[];
        expect(progress.length).to.be.at.least(2);
        const last = progress[progress.length - 1].detail;
        expect(last.total).to.be.greaterThan(0);
        expect(last.loaded).to.equal(last.total);
        for (const e of seen) {
          expect(e.bubbles, e.type).to.equal(true);
          expect(e.composed, e.type).to.equal(true);
        }
        const prediction = seen.find((e) => e.type === 'ml-prediction') as CustomEvent;
        expect(prediction.detail.predictions).to.have.length(3);
        expect(prediction.detail.outputs.output.data).to.be.instanceOf(Float32Array);
        expect(seen.filter((e) => e.type === 'ml-error')).to.have.length(0);
        expect(seen.findIndex((e) => e.type === 'ml-load')).to.be.greaterThan(
          seen.findIndex((e) => e.type === 'ml-progress'),
        );
      } finally {
        types.forEach((t) => document.removeEventListener(t, record));
      }
    });

    it('reaches listeners outside a shadow root that contains the element and its form', async () => {
      const host = await fixture<HTMLElement>(html`<div></div>`);
      const root = host.attachShadow({ mode: 'open' });
      root.innerHTML = `<form id="f"><input type="number" value="5.1"><input type="number" value="3.5"><input type="number" value="1.4"><input type="number" value="0.2"></form>
        <ml-classifier for="f" src="${MODELS}/iris_mlp.wasm"></ml-classifier>`;
      const el = root.querySelector('ml-classifier')!;
      const seen: Event[] = [];
      host.addEventListener('ml-prediction', (e) => seen.push(e));
      el.input = [5.1, 3.5, 1.4, 0.2];
      await until(() => seen.length > 0, 5000, 'ml-prediction outside the shadow root');
      expect((seen[0] as CustomEvent).detail.predictions[0].label).to.equal('setosa');
    });
  });

  describe('errors', () => {
    it('renders a 404 inside the element, fires ml-error, and works again when src changes', async () => {
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/missing-model.wasm" .input=${[5.1, 3.5, 1.4, 0.2]}></ml-classifier>`,
      );
      const { detail } = await oneEvent(el, 'ml-error');
      expect(detail.code).to.equal('http-error');
      await el.updateComplete;
      expect(errorBox(el)!.textContent).to.contain('404');
      expect(statusText(el)).to.contain('404');
      await expect(el).to.be.accessible();

      el.src = `${MODELS}/iris_mlp.wasm`;
      await oneEvent(el, 'ml-prediction');
      await el.updateComplete;
      expect(errorBox(el)).to.equal(null);
      expect(renderedLabels(el)[0]).to.equal('setosa');
    });

    for (const [path, code] of [
      ['/__test/html/page.wasm', 'not-wasm'],
      ['/__test/truncated/iris_mlp.wasm', 'invalid-wasm'],
      ['/__test/empty-module.wasm', 'not-a-model'],
    ] as const) {
      it(`reports ${code}`, async () => {
        const el = await fixture<MlClassifier>(html`<ml-classifier src=${path}></ml-classifier>`);
        const { detail } = await oneEvent(el, 'ml-error');
        expect(detail.code).to.equal(code);
        await el.updateComplete;
        expect(errorBox(el)!.textContent!.trim()).to.not.equal('');
      });
    }

    it('reports not-a-classifier for a regression model', async () => {
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-classifier>`,
      );
      await loaded(el);
      const failed = oneEvent(el, 'ml-error');
      el.input = new Array(10).fill(0);
      expect((await failed).detail.code).to.equal('not-a-classifier');
    });

    it('reports not-a-classifier for a label-only model (KMeans clusters), naming what to use instead', async () => {
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/wine_kmeans.wasm"></ml-classifier>`);
      await loaded(el);
      const failed = oneEvent(el, 'ml-error');
      el.input = new Array(13).fill(1);
      const { detail } = await failed;
      expect(detail.code).to.equal('not-a-classifier');
      expect(detail.message).to.contain('a label but no class scores');
      expect(detail.message).to.contain('<ml-regressor>');
    });

    it('reports bad-input for an input of the wrong length, then recovers', async () => {
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/iris_mlp.wasm"></ml-classifier>`);
      await loaded(el);
      const failed = oneEvent(el, 'ml-error');
      el.input = [1, 2];
      expect((await failed).detail.code).to.equal('bad-input');
      const ok = oneEvent(el, 'ml-prediction');
      el.input = [5.1, 3.5, 1.4, 0.2];
      await ok;
    });

    it('shows slotted error content instead of the default message', async () => {
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/missing-2.wasm"><span slot="error">Model unavailable.</span></ml-classifier>`,
      );
      await oneEvent(el, 'ml-error');
      await el.updateComplete;
      const slot = errorBox(el)!.querySelector<HTMLSlotElement>('slot[name=error]')!;
      expect(slot.assignedElements()[0].textContent).to.equal('Model unavailable.');
    });
  });

  describe('loading', () => {
    it('a new src mid-load aborts the old load, and the stale model never replaces the new one', async () => {
      const key = uid('switch');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="/__test/slow/${key}/1500/digits_mlp.wasm"></ml-classifier>`,
      );
      const loads: CustomEvent[] = [];
      el.addEventListener('ml-load', (e) => loads.push(e));
      await oneEvent(el, 'ml-progress');
      el.src = `${MODELS}/iris_mlp.wasm`;
      el.input = [5.1, 3.5, 1.4, 0.2];
      await oneEvent(el, 'ml-prediction');
      await until(async () => (await requestStats(key)).aborted === 1, 3000, 'the old download to be aborted');
      await sleep(300);
      expect(loads).to.have.length(1);
      expect(el.model!.meta.labels).to.deep.equal(['setosa', 'versicolor', 'virginica']);
      expect(el.predictions[0].label).to.equal('setosa');
      expect((await requestStats(key)).completed).to.equal(0);
    });

    it('a stale load finishing late is ignored (same model cached, different src order)', async () => {
      const slow = uid('stale');
      const el = await fixture<MlClassifier>(html`<ml-classifier src="${MODELS}/iris_mlp.wasm"></ml-classifier>`);
      await loaded(el);
      el.src = `/__test/slow/${slow}/600/digits_mlp.wasm`;
      await el.updateComplete;
      el.src = `${MODELS}/wine_leaky_logsoftmax_op9.wasm`;
      await oneEvent(el, 'ml-load');
      await sleep(800);
      expect(el.model!.meta.inputs[0].shape).to.deep.equal(['N', 13]);
    });

    it('shows a progress bar while loading: determinate with a length, with slotted loading content', async () => {
      const key = uid('bar');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="/__test/slow/${key}/1500/digits_mlp.wasm"><span slot="loading">Fetching the digits model…</span></ml-classifier>`,
      );
      await oneEvent(el, 'ml-progress');
      await until(
        () => el.shadowRoot!.querySelector('[part="progress"]')?.hasAttribute('aria-valuenow') ?? false,
        3000,
        'determinate bar',
      );
      const bar = shadow(el).querySelector('[part="progress"]')!;
      expect(bar.getAttribute('role')).to.equal('progressbar');
      expect(statusText(el)).to.equal('Loading model…');
      const slot = shadow(el).querySelector<HTMLSlotElement>('slot[name=loading]')!;
      expect(slot.assignedElements()[0].textContent).to.contain('digits');
      await expect(el).to.be.accessible();
      await oneEvent(el, 'ml-load');
      await el.updateComplete;
      expect(shadow(el).querySelector('[part="progress"]')).to.equal(null);
      expect(statusText(el)).to.equal('Model loaded.');
    });

    it('shows an indeterminate progress bar when the size is unknown', async () => {
      const key = uid('nolength');
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="/__test/slow/${key}/800/iris_mlp.wasm?nolength"></ml-classifier>`,
      );
      const { detail } = await oneEvent(el, 'ml-progress');
      expect(detail.total).to.equal(0);
      await el.updateComplete;
      const bar = shadow(el).querySelector('[part="progress"]')!;
      expect(bar.classList.contains('indeterminate')).to.equal(true);
      expect(bar.hasAttribute('aria-valuenow')).to.equal(false);
      await expect(el).to.be.accessible();
      await oneEvent(el, 'ml-load');
    });

    it('leaving the page mid-load aborts it; coming back resumes', async () => {
      const key = uid('detach');
      const wrapper = await fixture<HTMLElement>(
        html`<div><ml-classifier src="/__test/slow/${key}/1000/iris_mlp.wasm"></ml-classifier></div>`,
      );
      const el = wrapper.querySelector('ml-classifier')!;
      await oneEvent(el, 'ml-progress');
      el.remove();
      await until(async () => (await requestStats(key)).aborted === 1, 3000, 'abort on removal');
      const errors: Event[] = [];
      el.addEventListener('ml-error', (e) => errors.push(e));
      wrapper.append(el);
      await oneEvent(el, 'ml-load');
      expect(errors).to.have.length(0);
      expect((await requestStats(key)).requests).to.equal(2);
    });

    it('moving the element mid-load does not restart the download', async () => {
      const key = uid('move');
      const wrapper = await fixture<HTMLElement>(
        html`<div><div id="a"><ml-classifier src="/__test/slow/${key}/400/iris_mlp.wasm"></ml-classifier></div><div id="b"></div></div>`,
      );
      const el = wrapper.querySelector('ml-classifier')!;
      await oneEvent(el, 'ml-progress');
      wrapper.querySelector('#b')!.append(el);
      await oneEvent(el, 'ml-load');
      expect(await requestStats(key)).to.include({ requests: 1, aborted: 0 });
    });
  });

  describe('accessibility', () => {
    it('passes axe with predictions and exposes meters named by their labels', async () => {
      const el = await fixture<MlClassifier>(
        html`<ml-classifier src="${MODELS}/iris_mlp.wasm" .input=${[6.3, 2.9, 5.6, 1.8]}></ml-classifier>`,
      );
      await predicted(el);
      await el.updateComplete;
      await expect(el).to.be.accessible();
      const list = shadow(el).querySelector('ol')!;
      expect(list.getAttribute('aria-label')).to.equal('Predictions');
      const meters = Array.from(shadow(el).querySelectorAll('[role="meter"]'));
      expect(meters).to.have.length(3);
      const first = meters[0];
      const label = shadow(el).getElementById(first.getAttribute('aria-labelledby')!)!;
      expect(label.textContent).to.equal(el.predictions[0].label);
      expect(first.getAttribute('aria-valuetext')).to.match(/%$/);
      expect(Number(first.getAttribute('aria-valuenow'))).to.be.closeTo(el.predictions[0].score * 100, 0.06);
      expect(statusText(el)).to.equal(
        `Prediction: ${el.predictions[0].label}, ${Math.round(el.predictions[0].score * 100)}%`,
      );
      expect(shadow(el).querySelector('[role="status"]')!.getAttribute('part')).to.equal('status');
    });

    it('passes axe with a form error', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="a11y-form"><label>Only <input type="number" value="" /></label></form>
        <ml-classifier for="a11y-form" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      await failed(el);
      await el.updateComplete;
      await expect(wrapper).to.be.accessible();
    });
  });

  describe('definition', () => {
    it('is defined once; defining again is harmless', () => {
      expect(customElements.get('ml-classifier')).to.equal(MlClassifier);
      expect(() => define('ml-classifier', MlClassifier)).to.not.throw();
      expect(() => define('ml-classifier', class extends HTMLElement {})).to.not.throw();
      expect(customElements.get('ml-classifier')).to.equal(MlClassifier);
    });

    it('is a block, so themes keep it in their content column', async () => {
      const el = await fixture<MlClassifier>(html`<ml-classifier></ml-classifier>`);
      expect(getComputedStyle(el).display).to.equal('block');
    });
  });
});
