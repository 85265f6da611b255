// <ml-regressor> in Chromium against real scikit-learn regressors (test/fixtures/build/*.wasm). Values are
// compared with scikit-learn's own predictions (test/fixtures/models/<name>.json), and rendered text
// with those predictions formatted here by Intl.NumberFormat.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import { MlRegressor, type MlRegressionDetail } from '../../components/index.js';
import {
  MODELS,
  reference,
  row,
  rowCount,
  sleep,
  type Reference,
  failOnUnhandledRejections,
  watchWarnings,
} from './helpers.js';

const refs = new Map<string, Promise<Reference>>();
const ref = (name: string) => {
  if (!refs.has(name)) refs.set(name, reference(name));
  return refs.get(name)!;
};

async function loaded(el: MlRegressor): Promise<void> {
  if (!el.model) await oneEvent(el, 'ml-load');
  await el.updateComplete;
}
async function predicted(el: MlRegressor): Promise<readonly number[]> {
  if (el.values.length) return el.values;
  return ((await oneEvent(el, 'ml-prediction')) as CustomEvent<MlRegressionDetail>).detail.values;
}
async function failed(el: MlRegressor): Promise<{ code: string; message: string }> {
  if (el.error) return el.error;
  return (await oneEvent(el, 'ml-error')).detail;
}
const nextPrediction = (el: MlRegressor) => oneEvent(el, 'ml-prediction') as Promise<CustomEvent<MlRegressionDetail>>;

const shadow = (el: MlRegressor) => el.shadowRoot!;
const renderedValues = (el: MlRegressor) =>
  Array.from(shadow(el).querySelectorAll('[part="value"]')).map((e) => e.textContent!.trim());
const renderedNames = (el: MlRegressor) =>
  Array.from(shadow(el).querySelectorAll('[part="label"]')).map((e) => e.textContent!.trim());
const errorBox = (el: MlRegressor) => shadow(el).querySelector('[part="error"]');
const statusText = (el: MlRegressor) => shadow(el).querySelector('[role="status"]')!.textContent!.trim();

/** scikit-learn's value and ours agree within 1e-4, relative to the value's size. */
function expectClose(ours: number, theirs: number, where: string): void {
  expect(Math.abs(ours - theirs), `${where}: ${ours} vs ${theirs}`).to.be.at.most(1e-4 * Math.max(1, Math.abs(theirs)));
}

describe('<ml-regressor>', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));

  describe('values against scikit-learn', () => {
    it('matches MLPRegressor on every diabetes reference row, rendered with Intl.NumberFormat', async () => {
      const r = await ref('diabetes_sklearn_mlpreg');
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/diabetes_sklearn_mlpreg.wasm" label="Disease progression" digits="1" locale="en-US"></ml-regressor>`,
      );
      await loaded(el);
      const format = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
      const output = Object.keys(r.outputs)[0];
      for (let i = 0; i < rowCount(r.inputs.X); i++) {
        el.input = row(r.inputs.X, i);
        await el.updateComplete;
        const expected = r.outputs[output].data[i] as number;
        expectClose(el.value!, expected, `row ${i}`);
        expect(renderedValues(el), `row ${i}`).to.deep.equal([format.format(expected)]);
      }
      expect(renderedNames(el)).to.deep.equal(['Disease progression']);
      expect(statusText(el)).to.equal(`Disease progression: ${format.format(el.value!)}`);
    });

    it('matches GradientBoostingRegressor (tree ensemble) on every diabetes reference row', async () => {
      const r = await ref('diabetes_gbr');
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/diabetes_gbr.wasm" currency="USD" locale="en-US"></ml-regressor>`,
      );
      await loaded(el);
      const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
      const x = Object.values(r.inputs)[0];
      const y = Object.values(r.outputs)[0];
      for (let i = 0; i < rowCount(x); i++) {
        el.input = row(x, i);
        await el.updateComplete;
        expectClose(el.value!, y.data[i] as number, `row ${i}`);
        expect(renderedValues(el)[0], `row ${i}`).to.equal(usd.format(y.data[i] as number));
      }
      expect(renderedNames(el)).to.deep.equal(['Prediction']);
    });

    it("shows an outlier detector's score: IsolationForest's decision_function on every reference row", async () => {
      const r = await ref('cancer_isolation_forest');
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/cancer_isolation_forest.wasm" digits="4" locale="en-US"></ml-regressor>`,
      );
      await loaded(el);
      const x = Object.values(r.inputs)[0];
      const scores = r.outputs.scores;
      const format = new Intl.NumberFormat('en-US', { minimumFractionDigits: 4, maximumFractionDigits: 4 });
      for (let i = 0; i < rowCount(x); i++) {
        el.input = row(x, i);
        await el.updateComplete;
        expectClose(el.value!, scores.data[i] as number, `row ${i}`);
        expect(renderedValues(el)[0], `row ${i}`).to.equal(format.format(el.value!));
      }
    });

    it('shows every output of a multi-output regressor, named by the model, or by labels', async () => {
      const r = await ref('linnerud_ridge');
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/linnerud_ridge.wasm" digits="2" locale="en-US" label="Body"></ml-regressor>`,
      );
      await loaded(el);
      const format = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      for (let i = 0; i < rowCount(r.inputs.X); i++) {
        const next = nextPrediction(el);
        el.input = row(r.inputs.X, i);
        const { detail } = await next;
        const expected = row(r.outputs.variable, i);
        detail.values.forEach((v, j) => expectClose(v, expected[j], `row ${i} output ${j}`));
        expect(detail.value).to.equal(detail.values[0]);
        expect(detail.names).to.deep.equal(['Weight', 'Waist', 'Pulse']);
        expect(Array.from(detail.outputs.variable.data as Float32Array)).to.have.length(3);
        await el.updateComplete;
        expect(renderedValues(el)).to.deep.equal(expected.map((v) => format.format(v)));
      }
      expect(renderedNames(el)).to.deep.equal(r.labels);
      expect(shadow(el).querySelector('[part="caption"]')!.textContent).to.equal('Body');
      expect(statusText(el)).to.match(/^Body\. Weight: .*; Waist: .*; Pulse: /);

      el.labels = ['Weight (lb)', 'Waist (in)', 'Pulse (bpm)'];
      await el.updateComplete;
      expect(renderedNames(el)).to.deep.equal(['Weight (lb)', 'Waist (in)', 'Pulse (bpm)']);
      el.setAttribute('labels', 'A, B');
      await el.updateComplete;
      expect(renderedNames(el)).to.deep.equal(['A', 'B', 'Pulse']);
    });

    it('predict() gives one row as its outputs and a batch row by row, without changing the display', async () => {
      const r = await ref('linnerud_ridge');
      const el = await fixture<MlRegressor>(html`<ml-regressor src="${MODELS}/linnerud_ridge.wasm"></ml-regressor>`);
      const n = rowCount(r.inputs.X);
      const rows = Array.from({ length: n }, (_, i) => row(r.inputs.X, i));
      const batch = (await el.predict(rows)).values as number[][];
      expect(batch).to.have.length(n);
      batch.forEach((values, i) =>
        values.forEach((v, j) => expectClose(v, row(r.outputs.variable, i)[j], `batch ${i}.${j}`)),
      );
      const one = (await el.predict(rows[3])).values as number[];
      one.forEach((v, j) => expectClose(v, row(r.outputs.variable, 3)[j], `single ${j}`));
      const flat = await el.predict(new Float32Array(r.inputs.X.data as number[]), n);
      expect(flat.values).to.have.length(n);
      expect(el.values).to.have.length(0);
      expect(renderedValues(el)).to.deep.equal([]);
    });
  });

  describe('worker', () => {
    it('runs the model in a worker with the same values (worker attribute)', async () => {
      const r = await ref('linnerud_ridge');
      const el = await fixture<MlRegressor>(
        html`<ml-regressor worker src="${MODELS}/linnerud_ridge.wasm?worker"></ml-regressor>`,
      );
      await loaded(el);
      for (const i of [0, 7, 19]) {
        const next = nextPrediction(el);
        el.input = row(r.inputs.X, i);
        const { detail } = await next;
        detail.values.forEach((v, j) => expectClose(v, row(r.outputs.variable, i)[j], `worker row ${i}.${j}`));
      }
      const batch = (await el.predict([row(r.inputs.X, 2), row(r.inputs.X, 4)])).values as number[][];
      batch[1].forEach((v, j) => expectClose(v, row(r.outputs.variable, 4)[j], `worker batch ${j}`));
    });
  });

  describe('formatting attributes', () => {
    it('formats with a unit, a currency, digits and a locale like Intl.NumberFormat', async () => {
      const r = await ref('diabetes_sklearn_mlpreg');
      const expected = r.outputs[Object.keys(r.outputs)[0]].data[0] as number;
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/diabetes_sklearn_mlpreg.wasm" unit="kilometer-per-hour" digits="2" locale="en-US"></ml-regressor>`,
      );
      await loaded(el);
      el.input = row(r.inputs.X, 0);
      await el.updateComplete;
      const kmh = new Intl.NumberFormat('en-US', {
        style: 'unit',
        unit: 'kilometer-per-hour',
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
      expect(renderedValues(el)).to.deep.equal([kmh.format(expected)]);
      expect(renderedValues(el)[0]).to.contain('km/h');

      el.unitDisplay = 'long';
      await el.updateComplete;
      expect(renderedValues(el)[0]).to.contain('kilometers per hour');

      el.currency = 'EUR';
      el.locale = 'de-DE';
      el.digits = 0;
      await el.updateComplete;
      const eur = new Intl.NumberFormat('de-DE', {
        style: 'currency',
        currency: 'EUR',
        minimumFractionDigits: 0,
        maximumFractionDigits: 0,
      });
      expect(renderedValues(el)).to.deep.equal([eur.format(expected)]);
      expect(renderedValues(el)[0]).to.contain('€');
      expect(el.format(1234.5)).to.equal(eur.format(1234.5));

      el.removeAttribute('digits');
      el.currency = '';
      el.unit = '';
      el.locale = 'en-US';
      await el.updateComplete;
      expect(renderedValues(el)).to.deep.equal([new Intl.NumberFormat('en-US').format(expected)]);
    });

    it('reports an invalid unit, currency or locale as bad-format and recovers when it is fixed', async () => {
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-regressor>`,
      );
      await loaded(el);
      el.input = new Array(10).fill(0);
      await el.updateComplete;
      expect(renderedValues(el)).to.have.length(1);
      for (const [attr, value] of [
        ['unit', 'furlongs-per-fortnight'],
        ['currency', 'EURO'],
        ['locale', 'not a locale!'],
        ['digits', '-3'],
      ]) {
        const error = oneEvent(el, 'ml-error');
        const warnings = watchWarnings();
        el.setAttribute(attr, value);
        const { detail } = await error.finally(() => warnings.stop());
        expect(detail.code, attr).to.equal('bad-format');
        expect(detail.message, attr).to.contain(value);
        await el.updateComplete;
        expect(errorBox(el)!.textContent, attr).to.contain('The value cannot be shown.');
        expect(
          warnings.logged.filter((l) => l.includes(detail.message)),
          attr,
        ).to.have.length(1);
        expect(renderedValues(el), attr).to.deep.equal([]);
        el.removeAttribute(attr);
        await el.updateComplete;
        expect(errorBox(el), attr).to.equal(null);
        expect(renderedValues(el), attr).to.have.length(1);
      }
    });
  });

  describe('form', () => {
    it('predicts from a form of the 10 diabetes features and again on input', async () => {
      const r = await ref('diabetes_sklearn_mlpreg');
      const names = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];
      const first = row(r.inputs.X, 0);
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="diabetes-a">
          ${names.map((n, i) => html`<label>${n} <input type="number" name=${n} step="any" .value=${String(first[i])} /></label>`)}
        </form>
        <ml-regressor for="diabetes-a" src="${MODELS}/diabetes_sklearn_mlpreg.wasm" label="Progression"></ml-regressor>
      </div>`);
      const el = wrapper.querySelector('ml-regressor')!;
      const output = Object.keys(r.outputs)[0];
      expectClose((await predicted(el))[0], r.outputs[output].data[0] as number, 'form row 0');
      const inputs = Array.from(wrapper.querySelectorAll('input'));
      for (const i of [3, 9, 17]) {
        row(r.inputs.X, i).forEach((v, j) => (inputs[j].value = String(v)));
        const next = nextPrediction(el);
        inputs[5].dispatchEvent(new Event('input', { bubbles: true }));
        expectClose((await next).detail.value, r.outputs[output].data[i] as number, `form row ${i}`);
      }
    });

    it('names an empty field, reports a wrong field count, then recovers', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="diabetes-b">
          ${Array.from({ length: 10 }, (_, i) => html`<label>Feature ${i + 1} <input type="number" step="any" value="0" /></label>`)}
        </form>
        <ml-regressor for="diabetes-b" src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-regressor>
      </div>`);
      const el = wrapper.querySelector('ml-regressor')!;
      await predicted(el);
      const inputs = Array.from(wrapper.querySelectorAll('input'));
      const error = oneEvent(el, 'ml-error');
      inputs[4].value = '';
      inputs[4].dispatchEvent(new Event('input', { bubbles: true }));
      const { detail } = await error;
      expect(detail.code).to.equal('bad-input');
      expect(detail.message).to.contain('Feature 5').and.contain('empty');
      await el.updateComplete;
      expect(errorBox(el)!.textContent).to.contain('Feature 5');
      expect(renderedValues(el)).to.deep.equal([]);
      expect(el.value).to.equal(undefined);

      const ok = nextPrediction(el);
      inputs[4].value = '0.01';
      inputs[4].dispatchEvent(new Event('change', { bubbles: true }));
      await ok;
      await el.updateComplete;
      expect(errorBox(el)).to.equal(null);

      const short = oneEvent(el, 'ml-error');
      inputs[9].closest('label')!.remove();
      inputs[0].dispatchEvent(new Event('input', { bubbles: true }));
      const shortError = (await short).detail;
      expect(shortError.code).to.equal('bad-input');
      expect(shortError.message).to.contain('9 numeric fields').and.contain('10 features');
    });
  });

  describe('events, loading and errors', () => {
    it('fires ml-progress, ml-load and ml-prediction, bubbling and composed', async () => {
      const seen: string[] = [];
      const wrapper = document.createElement('div');
      for (const type of ['ml-progress', 'ml-load', 'ml-prediction'])
        wrapper.addEventListener(type, () => seen.push(type));
      document.body.append(wrapper);
      try {
        const el = document.createElement('ml-regressor');
        el.input = new Array(10).fill(0.01);
        const prediction = nextPrediction(el);
        el.src = `${MODELS}/diabetes_sklearn_mlpreg.wasm?events`;
        wrapper.append(el);
        const { detail } = await prediction;
        expect(detail.values).to.have.length(1);
        expect(Number.isFinite(detail.value)).to.equal(true);
        expect(seen.indexOf('ml-load')).to.be.lessThan(seen.indexOf('ml-prediction'));
        expect(seen[0]).to.equal('ml-progress');
      } finally {
        wrapper.remove();
      }
    });

    it('renders a 404 inside the element, fires ml-error, and works again when src changes', async () => {
      const el = await fixture<MlRegressor>(html`<ml-regressor src="${MODELS}/no-such-regressor.wasm"></ml-regressor>`);
      const detail = await failed(el);
      expect(detail.code).to.equal('http-error');
      await el.updateComplete;
      expect(errorBox(el)!.textContent).to.contain('404');
      expect(statusText(el)).to.contain('could not be loaded');
      el.input = new Array(10).fill(0);
      const next = nextPrediction(el);
      el.src = `${MODELS}/diabetes_sklearn_mlpreg.wasm`;
      await next;
      await el.updateComplete;
      expect(errorBox(el)).to.equal(null);
      expect(renderedValues(el)).to.have.length(1);
    });

    it('reports bad-input for the wrong number of features, and not-a-regressor for a classifier', async () => {
      const el = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-regressor>`,
      );
      await loaded(el);
      const bad = oneEvent(el, 'ml-error');
      el.input = [1, 2, 3];
      const { detail } = await bad;
      expect(detail.code).to.equal('bad-input');
      expect(detail.message).to.contain('10');
      let rejected: { code?: string } | undefined;
      await el.predict([1, 2]).catch((e) => (rejected = e));
      expect(rejected?.code).to.equal('bad-input');

      const cls = await fixture<MlRegressor>(html`<ml-regressor src="${MODELS}/iris_sklearn_mlp.wasm"></ml-regressor>`);
      await loaded(cls);
      const notReg = oneEvent(cls, 'ml-error');
      cls.input = [5.1, 3.5, 1.4, 0.2];
      expect((await notReg).detail.code).to.equal('not-a-regressor');
    });

    it('loading="lazy" waits until the element nears the viewport', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div>
        <div style="height: 5000px"></div>
        <ml-regressor loading="lazy" src="${MODELS}/linnerud_ridge.wasm?lazy"></ml-regressor>
      </div>`);
      const el = wrapper.querySelector('ml-regressor')!;
      await sleep(150);
      expect(el.model).to.equal(undefined);
      const load = oneEvent(el, 'ml-load');
      el.scrollIntoView();
      await load;
    });
  });

  describe('accessibility', () => {
    it('is accessible with values, several outputs, and an error', async () => {
      const one = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/diabetes_sklearn_mlpreg.wasm" label="Disease progression" unit="percent"></ml-regressor>`,
      );
      await loaded(one);
      one.input = new Array(10).fill(0.02);
      await one.updateComplete;
      const status = shadow(one).querySelector('[role="status"]')!;
      expect(status.getAttribute('aria-live')).to.equal('polite');
      await expect(one).to.be.accessible();

      const many = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/linnerud_ridge.wasm" label="Body"></ml-regressor>`,
      );
      await loaded(many);
      many.input = [10, 100, 50];
      await many.updateComplete;
      expect(renderedValues(many)).to.have.length(3);
      await expect(many).to.be.accessible();

      const broken = await fixture<MlRegressor>(
        html`<ml-regressor src="${MODELS}/missing-regressor.wasm"></ml-regressor>`,
      );
      await failed(broken);
      await broken.updateComplete;
      await expect(broken).to.be.accessible();
    });
  });
});
