// A bound form is resolved live, as <label for> resolves its control: when the form leaves the page the
// element stops showing its old result and reports no-form; a new form with that id is picked up. And a
// field's own limits (min, max, step) are the form's rules: a value outside them is named, not predicted.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../components/index.js';
import type { MlClassifier, MlRegressor } from '../../components/index.js';
import { MODELS, failOnUnhandledRejections, reference, row, until, type Reference } from './helpers.js';

const IRIS = `${MODELS}/iris_mlp.wasm`;
const NAMES = ['Sepal length', 'Sepal width', 'Petal length', 'Petal width'];

function irisForm(id: string, values: number[]): HTMLFormElement {
  const form = document.createElement('form');
  form.id = id;
  form.innerHTML = NAMES.map(
    (n, i) => `<label>${n} <input type="number" min="0" max="10" step="0.1" value="${values[i]}" name="f${i}"></label>`,
  ).join('');
  return form;
}

const setField = (field: HTMLInputElement, value: string) => {
  field.value = value;
  field.dispatchEvent(new Event('input', { bubbles: true }));
};
const error = (el: MlClassifier | MlRegressor) =>
  el.error ? Promise.resolve(el.error) : oneEvent(el, 'ml-error').then((e) => e.detail);

describe('a bound form is live', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));
  let iris: Reference;
  before(async () => (iris = await reference('iris_mlp')));
  const label = (r: number) => {
    const p = row(iris.outputs.output, r);
    return iris.labels[p.indexOf(Math.max(...p))];
  };
  /** The first reference row whose class differs from row 0's. */
  const other = () =>
    Array.from({ length: iris.outputs.output.shape[0] }, (_, i) => i).find((i) => label(i) !== label(0))!;

  it('<ml-classifier>: the form removed clears the result and reports no-form; a new form with the id is picked up', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div></div>`);
    wrapper.append(irisForm('live-form', row(iris.inputs.input, 0)));
    const el = document.createElement('ml-classifier');
    el.setAttribute('for', 'live-form');
    el.setAttribute('src', IRIS);
    wrapper.append(el);
    await until(() => el.predictions.length > 0, 5000, 'a prediction');
    expect(el.predictions[0].label).to.equal(label(0));

    const missing = error(el);
    wrapper.querySelector('form')!.remove();
    expect((await missing).code).to.equal('no-form');
    await el.updateComplete;
    expect(el.predictions, 'no old result on show').to.deep.equal([]);
    expect(el.shadowRoot!.querySelectorAll('[part~="row"]')).to.have.length(0);
    expect(el.shadowRoot!.querySelector('[part="error"]'), 'the error is shown').to.not.equal(null);

    const r = other();
    const back = oneEvent(el, 'ml-prediction');
    wrapper.append(irisForm('live-form', row(iris.inputs.input, r)));
    expect((await back).detail.predictions[0].label, 'read from the new form').to.equal(label(r));
    await el.updateComplete;
    expect(el.error).to.equal(undefined);
    // Typing in the new form predicts from it.
    const again = oneEvent(el, 'ml-prediction');
    const fields = wrapper.querySelectorAll<HTMLInputElement>('input');
    row(iris.inputs.input, 0).forEach((v, i) => (fields[i].value = String(v)));
    fields[0].dispatchEvent(new Event('input', { bubbles: true }));
    expect((await again).detail.predictions[0].label).to.equal(label(0));
  });

  it('<ml-regressor>: the same, on scikit-learn’s diabetes regressor', async () => {
    const diabetes = await reference('diabetes_sklearn_mlpreg');
    const form = (id: string, r: number) => {
      const f = document.createElement('form');
      f.id = id;
      f.innerHTML = row(diabetes.inputs.X, r)
        .map((v, i) => `<label>Feature ${i + 1} <input type="number" step="any" value="${v}"></label>`)
        .join('');
      return f;
    };
    const expected = (r: number) => diabetes.outputs.variable.data[r] as number;
    const wrapper = await fixture<HTMLElement>(html`<div></div>`);
    wrapper.append(form('live-reg', 0));
    const el = document.createElement('ml-regressor');
    el.setAttribute('for', 'live-reg');
    el.setAttribute('src', `${MODELS}/diabetes_sklearn_mlpreg.wasm`);
    wrapper.append(el);
    await until(() => el.values.length > 0, 5000, 'a value');
    expect(el.value!).to.be.closeTo(expected(0), 1e-3 * Math.max(1, Math.abs(expected(0))));

    const missing = error(el);
    wrapper.querySelector('form')!.remove();
    expect((await missing).code).to.equal('no-form');
    await el.updateComplete;
    expect(el.values, 'no old value on show').to.deep.equal([]);

    const back = oneEvent(el, 'ml-prediction');
    wrapper.append(form('live-reg', 5));
    const { detail } = await back;
    expect(detail.value, 'read from the new form').to.be.closeTo(
      expected(5),
      1e-3 * Math.max(1, Math.abs(expected(5))),
    );
  });

  it('a form that takes the id later (renamed) is bound, and one that gives it up is let go', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div>
      <ml-classifier for="renamed" src=${IRIS}></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    expect((await error(el)).code).to.equal('no-form');
    const form = irisForm('not-yet', row(iris.inputs.input, 0));
    wrapper.append(form);
    const predicted = oneEvent(el, 'ml-prediction');
    form.id = 'renamed';
    expect((await predicted).detail.predictions[0].label).to.equal(label(0));
    const gone = oneEvent(el, 'ml-error');
    form.id = 'something-else';
    expect((await gone).detail.code).to.equal('no-form');
    expect(el.predictions).to.deep.equal([]);
  });
});

describe('a field’s own limits', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));

  for (const [value, says] of [
    ['-5', /“Sepal width” must be at least 0\./],
    ['11', /“Sepal width” must be at most 10\./],
    ['3.05', /“Sepal width” goes in steps of 0\.1\./],
  ] as const) {
    it(`${value} in a field with min="0" max="10" step="0.1" is named, not predicted`, async () => {
      const wrapper = await fixture<HTMLElement>(html`<div></div>`);
      wrapper.append(irisForm('limits', [5.1, 3.5, 1.4, 0.2]));
      const el = document.createElement('ml-classifier');
      el.setAttribute('for', 'limits');
      el.setAttribute('src', IRIS);
      wrapper.append(el);
      await until(() => el.predictions.length > 0, 5000, 'a prediction');
      const failed = oneEvent(el, 'ml-error');
      setField(wrapper.querySelector<HTMLInputElement>('input[name=f1]')!, value);
      const { detail } = await failed;
      expect(detail.code).to.equal('bad-input');
      expect(detail.message).to.match(says);
      await el.updateComplete;
      expect(el.predictions).to.deep.equal([]);
      expect(el.shadowRoot!.querySelector('[part="error"]')!.textContent, 'shown as is').to.match(says);
      const ok = oneEvent(el, 'ml-prediction');
      setField(wrapper.querySelector<HTMLInputElement>('input[name=f1]')!, '3.5');
      await ok;
    });
  }

  it('typed text that is no number ("1e") is "not a number", not "empty"', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div></div>`);
    wrapper.append(irisForm('typed', [5.1, 3.5, 1.4, 0.2]));
    const el = document.createElement('ml-classifier');
    el.setAttribute('for', 'typed');
    el.setAttribute('src', IRIS);
    wrapper.append(el);
    await until(() => el.predictions.length > 0, 5000, 'a prediction');
    const field = wrapper.querySelector<HTMLInputElement>('input[name=f1]')!;
    field.value = '';
    field.focus();
    const failed = oneEvent(el, 'ml-error');
    await sendKeys({ type: '1e' });
    const { detail } = await failed;
    expect(field.validity.badInput, 'the browser could not read it').to.equal(true);
    expect(detail.message).to.equal('“Sepal width” is not a number.');
  });
});
