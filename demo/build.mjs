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
];
for (const m of models) {
  const { wasm, meta } = await compile(new Uint8Array(await readFile(new URL(m.onnx, fixtures))), { labels: m.labels });
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
