// Form binding (components/controllers/form-controller.ts) through the elements' public API: `for` a form
// of number inputs, selects, checkboxes and radio groups, in document order or by data-feature, with
// predictions compared with the source library's reference rows (test/fixtures/models/<name>.json).
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import type { MlClassifier, MlRegressionDetail, MlRegressor, Prediction } from '../../components/index.js';
import { argmax, MODELS, reference, row, rowCount, type Reference, failOnUnhandledRejections } from './helpers.js';

const refs = new Map<string, Promise<Reference>>();
const ref = (name: string) => {
  if (!refs.has(name)) refs.set(name, reference(name));
  return refs.get(name)!;
};

type Element_ = MlClassifier | MlRegressor;
async function firstError(el: Element_): Promise<{ code: string; message: string }> {
  if (el.error) return el.error;
  return (await oneEvent(el, 'ml-error')).detail;
}
async function classified(el: MlClassifier): Promise<readonly Prediction[]> {
  if (el.predictions.length) return el.predictions;
  return (await oneEvent(el, 'ml-prediction')).detail.predictions;
}
async function regressed(el: MlRegressor): Promise<number> {
  if (el.values.length) return el.value!;
  return ((await oneEvent(el, 'ml-prediction')) as CustomEvent<MlRegressionDetail>).detail.value;
}
const fire = (field: Element, type: 'input' | 'change' = 'change') =>
  field.dispatchEvent(new Event(type, { bubbles: true }));
const errorText = (el: Element_) => el.shadowRoot!.querySelector('[part="error"]')?.textContent ?? null;

function expectClose(ours: number, theirs: number, where: string): void {
  expect(Math.abs(ours - theirs), `${where}: ${ours} vs ${theirs}`).to.be.at.most(1e-4 * Math.max(1, Math.abs(theirs)));
}
function expectClassification(
  predictions: readonly Prediction[],
  expected: number[],
  labels: string[],
  where: string,
): void {
  expect(predictions[0].label, where).to.equal(labels[argmax(expected)]);
  for (const p of predictions) expectClose(p.score, expected[p.index], `${where}: ${p.label}`);
}

describe('form binding', () => {
  failOnUnhandledRejections((reasons) => expect(reasons, 'unhandled rejections').to.deep.equal([]));

  it('reads <select>s with numeric option values as numbers, and re-predicts on change', async () => {
    const r = await ref('iris_mlp');
    const rows = [0, 5, 11].map((i) => row(r.inputs.input, i));
    const names = ['Sepal length', 'Sepal width', 'Petal length', 'Petal width'];
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-selects">
        ${names.map(
          (n, j) => html`<label>${n}
            <select name=${'f' + j}>
              ${rows.map((values, k) => html`<option value=${String(values[j])} ?selected=${k === 0}>${values[j]}</option>`)}
            </select></label
          >`,
        )}
      </form>
      <ml-classifier for="fb-selects" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    expectClassification(await classified(el), row(r.outputs.output, 0), r.labels, 'row 0');
    const selects = Array.from(wrapper.querySelectorAll('select'));
    for (const [k, i] of [
      [1, 5],
      [2, 11],
    ]) {
      selects.forEach((s) => (s.selectedIndex = k));
      const next = oneEvent(el, 'ml-prediction');
      fire(selects[0]);
      expectClassification((await next).detail.predictions, row(r.outputs.output, i), r.labels, `row ${i}`);
    }
  });

  it('a 13-field form drives a scikit-learn random forest (ZipMap, string labels): its labels and probabilities', async () => {
    const r = await ref('wine_rf');
    const x0 = row(r.inputs.X, 0);
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-wine">${x0.map((v, j) => html`<label>F${j} <input type="number" step="any" .value=${String(v)} /></label>`)}</form>
      <ml-classifier for="fb-wine" src="${MODELS}/wine_rf.wasm" top-k="3"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    expectClassification(await classified(el), row(r.outputs.output_probability, 0), r.labels, 'row 0');
    const inputs = Array.from(wrapper.querySelectorAll('input'));
    for (let i = 1; i < rowCount(r.inputs.X); i++) {
      row(r.inputs.X, i).forEach((v, j) => (inputs[j].value = String(v)));
      const next = oneEvent(el, 'ml-prediction');
      fire(inputs[12], 'input');
      const { detail } = await next;
      const expected = row(r.outputs.output_probability, i);
      for (const p of detail.predictions) expectClose(p.score, expected[p.index], `row ${i}: ${p.label}`);
      // Ties between classes keep either label; otherwise the label is scikit-learn's.
      const sorted = [...expected].sort((a, b) => b - a);
      if (sorted[0] - sorted[1] > 1e-6)
        expect(detail.predictions[0].label, `row ${i}`).to.equal(r.outputs.output_label.data[i]);
    }
  });

  it('reads a radio group as the checked radio’s value (diabetes sex), in document order', async () => {
    const r = await ref('diabetes_sklearn_mlpreg');
    const output = Object.keys(r.outputs)[0];
    const pick = [0, 1, 2, 3, 4, 5].map((i) => ({ i, x: row(r.inputs.X, i) }));
    const codes = [-0.44641638, 0.5068012];
    const first = pick[0].x;
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-radio">
        <label>Age <input type="number" step="any" name="age" .value=${String(first[0])} /></label>
        <fieldset>
          <legend>Sex</legend>
          ${codes.map((c) => html`<label><input type="radio" name="sex" value=${String(c)} ?checked=${c === first[1]} /> ${c}</label>`)}
        </fieldset>
        ${first.slice(2).map((v, j) => html`<label>F${j + 2} <input type="number" step="any" .value=${String(v)} /></label>`)}
        <input type="text" name="comment" value="not a feature" />
      </form>
      <ml-regressor for="fb-radio" src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-regressor>
    </div>`);
    const el = wrapper.querySelector('ml-regressor')!;
    expectClose(await regressed(el), r.outputs[output].data[0] as number, 'row 0');
    const numbers = Array.from(wrapper.querySelectorAll<HTMLInputElement>('input[type=number]'));
    const radios = Array.from(wrapper.querySelectorAll<HTMLInputElement>('input[type=radio]'));
    // Rows of both sexes: the radio group must carry the code into column 1.
    expect(new Set(pick.map((p) => p.x[1])).size).to.equal(2);
    for (const { i, x } of pick.slice(1)) {
      numbers[0].value = String(x[0]);
      x.slice(2).forEach((v, j) => (numbers[j + 1].value = String(v)));
      radios[codes.indexOf(x[1])].checked = true;
      const next = oneEvent(el, 'ml-prediction') as Promise<CustomEvent<MlRegressionDetail>>;
      fire(radios[0]);
      expectClose((await next).detail.value, r.outputs[output].data[i] as number, `row ${i}`);
    }

    // No radio checked: the element says which group, and sends nothing to the model.
    radios.forEach((radio) => (radio.checked = false));
    const error = oneEvent(el, 'ml-error');
    fire(radios[0]);
    const { detail } = await error;
    expect(detail.code).to.equal('bad-input');
    expect(detail.message).to.contain('Sex').and.contain('choose');
    expect(el.values).to.deep.equal([]);
  });

  it('reads a checkbox as 1 when checked and 0 when not, like the same row given as numbers', async () => {
    const r = await ref('iris_mlp');
    const x = row(r.inputs.input, 3);
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-check">
        <label>Sepal length <input type="number" step="any" .value=${String(x[0])} /></label>
        <label>Sepal width <input type="number" step="any" .value=${String(x[1])} /></label>
        <label>Petal length <input type="number" step="any" .value=${String(x[2])} /></label>
        <label>Petal width is one <input type="checkbox" name="pw" /></label>
      </form>
      <ml-classifier for="fb-check" src="${MODELS}/iris_mlp.wasm" top-k="3"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    const unchecked = await classified(el);
    const zero = (await el.predict([x[0], x[1], x[2], 0])).predictions as Prediction[];
    expect(unchecked).to.deep.equal(zero);
    const box = wrapper.querySelector<HTMLInputElement>('input[type=checkbox]')!;
    box.checked = true;
    const next = oneEvent(el, 'ml-prediction');
    fire(box);
    const one = (await el.predict([x[0], x[1], x[2], 1])).predictions as Prediction[];
    expect((await next).detail.predictions).to.deep.equal(one);
    expect(one.map((p) => p.score)).to.not.deep.equal(zero.map((p) => p.score));
  });

  it('orders by data-feature on fields and fieldsets, and ignores untagged fields', async () => {
    const r = await ref('diabetes_sklearn_mlpreg');
    const output = Object.keys(r.outputs)[0];
    const x = row(r.inputs.X, 7);
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-tagged">
        ${[9, 8, 7, 6, 5, 4, 3, 2].map((j) => html`<label>F${j} <input data-feature=${String(j)} type="number" step="any" .value=${String(x[j])} /></label>`)}
        <label>Untagged <input type="number" value="123" /></label>
        <fieldset data-feature="1">
          <legend>Sex</legend>
          <label><input type="radio" name="s" value="-0.44641638" ?checked=${x[1] < 0} /> one</label>
          <label><input type="radio" name="s" value="0.5068012" ?checked=${x[1] > 0} /> two</label>
        </fieldset>
        <label>Age <select data-feature="0"><option value=${String(x[0])}>age</option></select></label>
      </form>
      <ml-regressor for="fb-tagged" src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-regressor>
    </div>`);
    const el = wrapper.querySelector('ml-regressor')!;
    expectClose(await regressed(el), r.outputs[output].data[7] as number, 'tagged row 7');
  });

  it('a data-feature on one radio tags its whole group', async () => {
    const r = await ref('iris_mlp');
    const x = row(r.inputs.input, 9);
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-radio-tag">
        <input data-feature="3" type="radio" name="pw" value="99" aria-label="99" />
        <input type="radio" name="pw" .value=${String(x[3])} checked aria-label=${String(x[3])} />
        ${[0, 1, 2].map((j) => html`<input data-feature=${String(j)} type="number" step="any" .value=${String(x[j])} aria-label=${'f' + j} />`)}
      </form>
      <ml-classifier for="fb-radio-tag" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    expectClassification(await classified(el), row(r.outputs.output, 9), r.labels, 'row 9');
  });

  it('reports a data-feature that is neither a column number nor an input name', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-badname">
        <label>Sepal length <input data-feature="sepal_length" type="number" value="5" /></label>
        <input data-feature="1" type="number" value="3" /><input data-feature="2" type="number" value="1" />
        <input data-feature="3" type="number" value="0.2" />
      </form>
      <ml-classifier for="fb-badname" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    const detail = await firstError(el);
    expect(detail.code).to.equal('bad-input');
    expect(detail.message).to.contain('sepal_length').and.contain('Sepal length').and.contain('input');
  });

  it('an empty select (placeholder) or empty number is a clear message, never NaN sent to the model', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-empty">
        <label>Sepal length <input type="number" value="5.1" /></label>
        <label>Sepal width <input type="number" value="3.5" /></label>
        <label>Petal length <input type="number" value="1.4" /></label>
        <label>Petal width
          <select required>
            <option value="">Choose…</option>
            <option value="0.2">0.2</option>
          </select>
        </label>
      </form>
      <ml-regressor for="fb-empty" src="${MODELS}/diabetes_sklearn_mlpreg.wasm"></ml-regressor>
      <ml-classifier for="fb-empty" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    const detail = await firstError(el);
    expect(detail.code).to.equal('bad-input');
    expect(detail.message).to.equal('“Petal width” is empty: choose an option.');
    await el.updateComplete;
    expect(errorText(el)).to.contain('Petal width');

    const select = wrapper.querySelector('select')!;
    select.selectedIndex = 1;
    const ok = oneEvent(el, 'ml-prediction');
    fire(select);
    expect((await ok).detail.predictions[0].label).to.equal('setosa');

    const number = wrapper.querySelector<HTMLInputElement>('input')!;
    number.value = '';
    const again = oneEvent(el, 'ml-error');
    fire(number, 'input');
    expect((await again).detail.message).to.equal('“Sepal length” is empty: enter a number.');
    // The regressor on the same form counts 4 features against its model's 10.
    const reg = wrapper.querySelector('ml-regressor')!;
    const mismatch = await firstError(reg);
    expect(mismatch.message).to.contain('4 numeric fields').and.contain('10 features');
  });

  describe('one-hot encoded columns (diabetes_onehot_ridge: age decade and sex one-hot, Ridge)', () => {
    const MEASURES = ['BMI', 'Blood pressure', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6'];
    const DECADES = [2, 3, 4, 5, 6, 7];
    /** A form: age and sex as selects (values, or option positions when `byPosition`), 8 number inputs. */
    const form = (id: string, x: number[], byPosition: boolean) => html`
      <form id=${id}>
        <label>Age
          <select name="age">
            <option value="">Choose…</option>
            ${DECADES.map((d) =>
              byPosition
                ? html`<option ?selected=${d === x[0]}>${d}0–${d}9 years</option>`
                : html`<option value=${String(d)} ?selected=${d === x[0]}>${d}0s</option>`,
            )}
          </select>
        </label>
        <label>Sex
          <select name="sex">
            ${[1, 2].map((c) => (byPosition ? html`<option ?selected=${c === x[1]}>Group ${c === 1 ? 'A' : 'B'}</option>` : html`<option value=${String(c)} ?selected=${c === x[1]}>${c}</option>`))}
          </select>
        </label>
        ${MEASURES.map((m, j) => html`<label>${m} <input type="number" step="any" name=${m} .value=${String(x[j + 2])} /></label>`)}
      </form>
    `;

    for (const byPosition of [false, true]) {
      it(`maps select ${byPosition ? 'option positions' : 'values'} to the encoder's categories: same values as scikit-learn`, async () => {
        const r = await ref('diabetes_onehot_ridge');
        const id = `fb-onehot-${byPosition}`;
        const wrapper = await fixture<HTMLElement>(html`<div>
          ${form(id, row(r.inputs.X, 0), byPosition)}
          <ml-regressor for=${id} src="${MODELS}/diabetes_onehot_ridge.wasm"></ml-regressor>
        </div>`);
        const el = wrapper.querySelector('ml-regressor')!;
        expectClose(await regressed(el), r.outputs.variable.data[0] as number, 'row 0');
        expect(el.model!.meta.inputs[0].features![0]!.categories).to.deep.equal(DECADES);
        const [age, sex] = Array.from(wrapper.querySelectorAll('select'));
        const numbers = Array.from(wrapper.querySelectorAll<HTMLInputElement>('input'));
        const decades = new Set<number>();
        for (let i = 1; i < rowCount(r.inputs.X); i++) {
          const x = row(r.inputs.X, i);
          decades.add(x[0]);
          // +1: the placeholder option comes first.
          age.selectedIndex = DECADES.indexOf(x[0]) + 1;
          sex.selectedIndex = x[1] - 1;
          x.slice(2).forEach((v, j) => (numbers[j].value = String(v)));
          const next = oneEvent(el, 'ml-prediction') as Promise<CustomEvent<MlRegressionDetail>>;
          fire(age);
          expectClose((await next).detail.value, r.outputs.variable.data[i] as number, `row ${i}`);
        }
        expect(decades.size, 'rows cover several age groups').to.be.greaterThan(3);
      });
    }

    it('<ml-classifier> with day and time selects named by text (tips_onehot): scikit-learn’s probabilities', async () => {
      const r = await ref('tips_onehot');
      const x0 = row(r.inputs.X, 0);
      const DAYS = ['Thursday', 'Friday', 'Saturday', 'Sunday'];
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="fb-tips">
          <label>Total bill <input type="number" step="any" .value=${String(x0[0])} /></label>
          <label>Party size <input type="number" step="1" .value=${String(x0[1])} /></label>
          <label>Day <select>${DAYS.map((d, k) => html`<option ?selected=${k === x0[2]}>${d}</option>`)}</select></label>
          <fieldset>
            <legend>Time</legend>
            <label><input type="radio" name="time" ?checked=${x0[3] === 0} /> Lunch</label>
            <label><input type="radio" name="time" ?checked=${x0[3] === 1} /> Dinner</label>
          </fieldset>
        </form>
        <ml-classifier for="fb-tips" src="${MODELS}/tips_onehot.wasm"></ml-classifier>
      </div>`);
      const el = wrapper.querySelector('ml-classifier')!;
      expectClassification(await classified(el), row(r.outputs.output_probability, 0), r.labels, 'row 0');
      const [bill, size] = Array.from(wrapper.querySelectorAll<HTMLInputElement>('input[type=number]'));
      const day = wrapper.querySelector('select')!;
      const times = Array.from(wrapper.querySelectorAll<HTMLInputElement>('input[type=radio]'));
      for (let i = 1; i < rowCount(r.inputs.X); i++) {
        const x = row(r.inputs.X, i);
        bill.value = String(x[0]);
        size.value = String(x[1]);
        day.selectedIndex = x[2];
        times[x[3]].checked = true;
        const next = oneEvent(el, 'ml-prediction');
        fire(day);
        expectClassification(
          (await next).detail.predictions,
          row(r.outputs.output_probability, i),
          r.labels,
          `row ${i}`,
        );
      }
    });

    it('a code the encoder does not know is a clear message (the encoder would refuse it)', async () => {
      const r = await ref('diabetes_onehot_ridge');
      const x = row(r.inputs.X, 2);
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="fb-unknown">
          <label>Age group <input type="number" name="age" value="9" /></label>
          <label>Sex <select name="sex"><option value=${String(x[1])}>x</option></select></label>
          ${MEASURES.map((m, j) => html`<label>${m} <input type="number" step="any" .value=${String(x[j + 2])} /></label>`)}
        </form>
        <ml-regressor for="fb-unknown" src="${MODELS}/diabetes_onehot_ridge.wasm"></ml-regressor>
      </div>`);
      const el = wrapper.querySelector('ml-regressor')!;
      const detail = await firstError(el);
      expect(detail.code).to.equal('bad-input');
      expect(detail.message).to.equal(
        "“Age group” is 9, which is not one of the model's categories (2, 3, 4, 5, 6, 7).",
      );
      const ok = oneEvent(el, 'ml-prediction') as Promise<CustomEvent<MlRegressionDetail>>;
      const age = wrapper.querySelector<HTMLInputElement>('input[name=age]')!;
      age.value = String(x[0]);
      fire(age, 'input');
      expectClose((await ok).detail.value, r.outputs.variable.data[2] as number, 'fixed row 2');

      // A text option on a select whose option count does not match the categories cannot be mapped.
      const sex = wrapper.querySelector('select')!;
      sex.append(new Option('Other'), new Option('Unknown'));
      sex.selectedIndex = 2;
      const bad = oneEvent(el, 'ml-error');
      fire(sex);
      expect((await bad).detail.message)
        .to.contain('“Sex” is “Unknown”')
        .and.contain('1, 2');
    });

    it('a radio group of plain radios maps by position too', async () => {
      const r = await ref('diabetes_onehot_ridge');
      const x = row(r.inputs.X, 5);
      const wrapper = await fixture<HTMLElement>(html`<div>
        <form id="fb-onehot-radio">
          <label>Age <select>${DECADES.map((d) => html`<option value=${String(d)} ?selected=${d === x[0]}>${d}0s</option>`)}</select></label>
          <fieldset>
            <legend>Sex</legend>
            <label><input type="radio" name="sex" ?checked=${x[1] === 1} /> A</label>
            <label><input type="radio" name="sex" ?checked=${x[1] === 2} /> B</label>
          </fieldset>
          ${MEASURES.map((m, j) => html`<label>${m} <input type="number" step="any" .value=${String(x[j + 2])} /></label>`)}
        </form>
        <ml-regressor for="fb-onehot-radio" src="${MODELS}/diabetes_onehot_ridge.wasm"></ml-regressor>
      </div>`);
      expectClose(
        await regressed(wrapper.querySelector('ml-regressor')!),
        r.outputs.variable.data[5] as number,
        'row 5',
      );
    });
  });

  it('an empty field is a missing value for a model that handles them (SimpleImputer), unless required', async () => {
    const r = (await ref('diabetes_imputer_ridge')) as Reference & {
      missing: { row: number; column: number; value: number }[];
    };
    const names = ['Age', 'Sex', 'BMI', 'Blood pressure', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6'];
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-missing">
        ${names.map((n, j) => html`<label>${n} <input type="number" step="any" .value=${String(row(r.inputs.X, 0)[j])} /></label>`)}
      </form>
      <ml-regressor for="fb-missing" src="${MODELS}/diabetes_imputer_ridge.wasm"></ml-regressor>
    </div>`);
    const el = wrapper.querySelector('ml-regressor')!;
    expectClose(await regressed(el), r.outputs.variable.data[0] as number, 'complete row 0');
    expect(el.model!.meta.inputs[0].missing).to.equal(true);
    const inputs = Array.from(wrapper.querySelectorAll('input'));
    for (const { row: i, column, value } of r.missing.slice(0, 12)) {
      row(r.inputs.X, i).forEach((v, j) => (inputs[j].value = j === column ? '' : String(v)));
      const next = oneEvent(el, 'ml-prediction') as Promise<CustomEvent<MlRegressionDetail>>;
      fire(inputs[0], 'input');
      expectClose((await next).detail.value, value, `row ${i} without ${names[column]}`);
    }
    // `required` still means required.
    inputs[3].value = '';
    inputs[3].required = true;
    const error = oneEvent(el, 'ml-error');
    fire(inputs[3], 'input');
    expect((await error).detail.message).to.equal('“Blood pressure” is empty: enter a number.');
  });

  it('is accessible beside its form', async () => {
    const wrapper = await fixture<HTMLElement>(html`<div>
      <form id="fb-a11y">
        <label>Sepal length <input type="number" value="5.1" /></label>
        <label>Sepal width <input type="number" value="3.5" /></label>
        <label>Petal length <select><option value="1.4">1.4</option><option value="4.5">4.5</option></select></label>
        <fieldset>
          <legend>Petal width</legend>
          <label><input type="radio" name="pw" value="0.2" checked /> 0.2</label>
          <label><input type="radio" name="pw" value="1.5" /> 1.5</label>
        </fieldset>
      </form>
      <ml-classifier for="fb-a11y" src="${MODELS}/iris_mlp.wasm"></ml-classifier>
    </div>`);
    const el = wrapper.querySelector('ml-classifier')!;
    expect((await classified(el))[0].label).to.equal('setosa');
    await el.updateComplete;
    await expect(wrapper).to.be.accessible();
  });
});
