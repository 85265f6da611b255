// Input `features` metadata: which columns a model one-hot encodes and with which categories, so forms can
// map <select>s. Oracle: onnxruntime-node running the same skl2onnx export — its OneHotEncoder
// (zeros=0, scikit-learn's handle_unknown='error') refuses a code it does not know and accepts the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, readJSON, loadApi, ortSession, ortRun } from './helpers.mjs';

const NAME = 'diabetes_onehot_ridge';
const bytes = readFileSync(path.join(FIXTURES, 'models', `${NAME}.onnx`));
const ref = readJSON(path.join(FIXTURES, 'models', `${NAME}.json`));

async function ortAccepts(row) {
  const session = await ortSession(NAME, bytes);
  try {
    await ortRun(session, { X: { data: Float32Array.from(row), shape: [1, row.length] } });
    return true;
  } catch {
    return false;
  }
}

test(`${NAME}: features lists exactly the codes onnxruntime's encoder accepts, column by column`, async () => {
  const api = await loadApi();
  const { meta } = await api.compile(new Uint8Array(bytes));
  const features = meta.inputs[0].features;
  assert.ok(Array.isArray(features), 'features metadata present');
  const width = ref.inputs.X.shape[1];
  assert.equal(features.length, width);
  const base = ref.inputs.X.data.slice(0, width);
  for (let c = 0; c < width; c++) {
    // Codes around the observed range, plus one far away: a categorical column accepts only its own.
    const seen = new Set(ref.inputs.X.data.filter((_, i) => i % width === c).map(Math.trunc));
    const candidates = [...new Set([...seen, Math.min(...seen) - 1, Math.max(...seen) + 1, 99])].slice(0, 12);
    const accepted = [];
    for (const v of candidates) {
      const row = base.slice();
      row[c] = v;
      if (await ortAccepts(row)) accepted.push(v);
    }
    if (features[c] === null) {
      assert.deepEqual(accepted, candidates, `column ${c}: a plain number, onnxruntime takes any value`);
    } else {
      assert.equal(features[c].unknown, 'error');
      assert.deepEqual(
        accepted.sort((a, b) => a - b),
        candidates.filter((v) => features[c].categories.includes(v)).sort((a, b) => a - b),
        `column ${c}: categories ${features[c].categories}`,
      );
      assert.ok(accepted.length >= 2, `column ${c}: some codes are accepted`);
      assert.ok(accepted.length < candidates.length, `column ${c}: some codes are refused`);
    }
  }
  assert.deepEqual(
    features.map((f) => f?.categories ?? null).slice(0, 2),
    [
      [2, 3, 4, 5, 6, 7],
      [1, 2],
    ],
    'age decade codes and sex codes, as the fixture script encodes them',
  );
});

test('models without encoders have no features metadata', async () => {
  const api = await loadApi();
  const { meta } = await api.compile(
    new Uint8Array(readFileSync(path.join(FIXTURES, 'models', 'linnerud_ridge.onnx'))),
  );
  assert.equal(meta.inputs[0].features, undefined);
});
