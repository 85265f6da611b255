// Where a model's time goes: compiles it with every kernel call exported as its own function and
// times each (median of runs). Usage: node bench/profile.mjs model.onnx [rows] [runs]
import { readFileSync } from 'node:fs';
import { compile } from '../dist/compiler/index.js';
import { STATUS_WORDS } from '../dist/runtime/abi.js';

const [file, rowsArg = '1', runsArg = '15'] = process.argv.slice(2);
const rows = Number(rowsArg);
const { wasm, meta } = await compile(new Uint8Array(readFileSync(file)), { exportSteps: true });
const { instance } = await WebAssembly.instantiate(wasm, {});
// Bind the inputs' shapes (the I/O header after its status record) with one run(), so the steps see sizes.
const header = new Int32Array(instance.exports.memory.buffer, instance.exports.headerPtr());
let word = STATUS_WORDS;
for (const t of meta.inputs) for (const d of t.shape) header[word++] = typeof d === 'number' ? d : rows;
const status = instance.exports.run();
if (status !== 0) throw new Error(`run() failed with status ${status}`);
const steps = Object.keys(instance.exports)
  .filter((k) => k.startsWith('step'))
  .sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)));
const times = new Map(steps.map((s) => [s, []]));
for (let r = 0; r < Number(runsArg); r++) {
  for (const s of steps) {
    const t = performance.now();
    instance.exports[s](rows);
    times.get(s).push(performance.now() - t);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const byKernel = new Map();
let total = 0;
for (const s of steps) {
  const m = median(times.get(s));
  total += m;
  const kernel = s.split(':')[1];
  byKernel.set(kernel, (byKernel.get(kernel) ?? 0) + m);
}
console.log(
  `${file}: ${steps.length} kernel calls, ${total.toFixed(2)} ms per run of ${rows} row(s); ops ${meta.ops.join(' ')}`,
);
for (const [k, t] of [...byKernel].sort((a, b) => b[1] - a[1]))
  console.log(`  ${k.padEnd(24)} ${t.toFixed(2).padStart(8)} ms  ${((100 * t) / total).toFixed(1).padStart(5)}%`);
const top = steps
  .map((s) => [s, median(times.get(s))])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8);
console.log('  slowest calls:', top.map(([s, t]) => `${s} ${t.toFixed(2)}ms`).join(', '));
