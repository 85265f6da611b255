// Compiles the demo models from the committed fixtures (real PyTorch training, see test/fixtures/make.py)
// into demo/models/, plus a few sample digits from the held-out set. Run by `npm run build:demo`.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { compile } from '../dist/compiler/index.js';

const fixtures = new URL('../test/fixtures/models/', import.meta.url);
const out = new URL('./models/', import.meta.url);
await mkdir(out, { recursive: true });

const models = [
  { onnx: 'iris_mlp.onnx', wasm: 'iris.wasm', labels: ['setosa', 'versicolor', 'virginica'] },
  { onnx: 'digits_mlp.onnx', wasm: 'digits.wasm', labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  // vision.html: the digits CNN for the sketch pad (ink high, 0..1 as scikit-learn's digits / 16) and the
  // colour-square CNN for the image classifier (ImageNet mean/std), preprocessing recorded in the model.
  {
    onnx: 'digits_cnn.onnx',
    wasm: 'digits-cnn.wasm',
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    image: { channels: 'L', scale: 1 / 255, invert: true, resize: 'fit' },
  },
  {
    onnx: 'colors_cnn.onnx',
    wasm: 'colors.wasm',
    image: { channels: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  },
];
for (const m of models) {
  const { wasm, meta } = await compile(new Uint8Array(await readFile(new URL(m.onnx, fixtures))), {
    labels: m.labels,
    image: m.image,
  });
  await writeFile(new URL(m.wasm, out), wasm);
  console.log(`demo/models/${m.wasm}: ${wasm.byteLength} bytes (${meta.ops.join(', ')})`);
}

// One held-out example per digit (as PyTorch classified it), as the 0–16 pixel intensities of scikit-learn's digits (the
// model was trained on intensity / 16).
const ref = JSON.parse(await readFile(new URL('digits_mlp.json', fixtures), 'utf8'));
const x = ref.inputs.input;
const y = ref.outputs.output;
const samples = {};
for (let r = 0; r < x.shape[0]; r++) {
  const logits = y.data.slice(r * 10, r * 10 + 10);
  const digit = logits.indexOf(Math.max(...logits));
  samples[digit] ??= x.data.slice(r * 64, r * 64 + 64).map((v) => Math.round(v * 16));
}
await writeFile(new URL('digit-samples.json', out), JSON.stringify(samples));
console.log(`demo/models/digit-samples.json: ${Object.keys(samples).length} sample digits`);

// classic.html: form-driven models from the fixtures (test/fixtures/make.py), and a few held-out rows per
// model, named by what the source library itself predicted for them.
const classic = [
  // scikit-learn names the wine data set's three cultivars class_0…class_2: the page calls them by number.
  { id: 'wine', onnx: 'wine_rf', wasm: 'wine-rf.wasm', labels: ['Cultivar 1', 'Cultivar 2', 'Cultivar 3'] },
  { id: 'diabetes', onnx: 'diabetes_onehot_ridge', wasm: 'diabetes.wasm' },
  { id: 'tips', onnx: 'tips_onehot', wasm: 'tips.wasm' },
];
const classicSamples = {};
for (const m of classic) {
  const ref = JSON.parse(await readFile(new URL(`${m.onnx}.json`, fixtures), 'utf8'));
  const own = Array.isArray(ref.labels) ? ref.labels.map(String) : undefined; // PyTorch exports carry none
  const labels = m.labels ?? own;
  const named = (label) => labels?.[own?.indexOf(label) ?? -1] ?? label;
  const { wasm, meta } = await compile(new Uint8Array(await readFile(new URL(`${m.onnx}.onnx`, fixtures))), { labels });
  await writeFile(new URL(m.wasm, out), wasm);
  console.log(`demo/models/${m.wasm}: ${wasm.byteLength} bytes (${meta.ops.join(', ')})`);
  const x = Object.values(ref.inputs)[0];
  const per = x.shape[1];
  const rowAt = (r) => x.data.slice(r * per, (r + 1) * per);
  const outputs = Object.values(ref.outputs);
  const picked = [];
  if (ref.task === 'regression') {
    // Lowest, middle and highest prediction.
    const values = outputs[0].data;
    const order = values.map((v, r) => r).sort((a, b) => values[a] - values[b]);
    for (const [name, r] of [
      ['Low', order[0]],
      ['Middle', order[order.length >> 1]],
      ['High', order.at(-1)],
    ]) {
      picked.push({ name: `${name} (${Math.round(values[r])})`, row: rowAt(r) });
    }
  } else {
    // One row per class, as the model's label output (or best score) has it.
    const label = outputs.find((o) => o.dtype === 'string' || o.dtype === 'int64');
    const scores = outputs.find((o) => o !== label);
    const classes = scores.shape[1];
    const labelOf = (r) => {
      if (label) return named(String(label.data[r]));
      const row = scores.data.slice(r * classes, (r + 1) * classes);
      return named(String(ref.labels?.[row.indexOf(Math.max(...row))]));
    };
    const seen = new Set();
    for (let r = 0; r < x.shape[0] && seen.size < 4; r++) {
      const name = labelOf(r);
      if (seen.has(name)) continue;
      seen.add(name);
      picked.push({ name, row: rowAt(r) });
    }
  }
  classicSamples[m.id] = picked;
}
await writeFile(new URL('classic-samples.json', out), JSON.stringify(classicSamples));
console.log(`demo/models/classic-samples.json: ${Object.values(classicSamples).flat().length} example rows`);
