// The threads benchmark page (bench/threads.mjs opens it twice in one run: cross-origin isolated, and plain).
// Each case times, interleaved sample by sample: ours on one thread (loadModel(url)), ours with
// `threads: n` (shared-memory slices when isolated, workers otherwise), and onnxruntime-web with as many
// threads as the page allows it (n when isolated, else 1: it silently falls back without isolation).
import * as ort from '../node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs';
import { loadModel, loadModelInWorker, releaseModel } from '../dist/runtime/index.js';
import { makeInput } from './inputs.mjs';
import { median } from './timing.mjs';

/** The pause before each side's samples (see runCase). */
const REST_MS = 50;

/** Largest difference between two outputs' float data, relative to the larger magnitude where over 1. */
function worst(a, b) {
  let w = 0;
  for (const name of Object.keys(b)) {
    const x = a[name]?.data;
    const y = b[name].data;
    if (!x || x.length !== y.length) return Infinity;
    if (!(y instanceof Float32Array)) continue;
    for (let i = 0; i < y.length; i++) w = Math.max(w, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  }
  return w;
}

window.setup = (threads) => {
  ort.env.wasm.numThreads = crossOriginIsolated ? threads : 1;
  return { isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, ortThreads: ort.env.wasm.numThreads };
};

window.runCase = async function runCase(spec) {
  const onnx = new Uint8Array(await (await fetch(spec.onnx)).arrayBuffer());
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const one = await loadModel(spec.wasm);
  const many = await loadModel(spec.wasm, { threads: spec.threads });
  const input = await makeInput(spec);
  const feed = session.inputNames[0];
  const runOrt = () => session.run({ [feed]: new ort.Tensor('float32', input, [spec.rows, ...spec.rowShape]) });
  const wantOurs = one.predict(input, spec.rows);
  const check = { threadsVsOne: worst(await many.predict(input, spec.rows), wantOurs) };
  check.oursVsOrt = worst(wantOurs, await runOrt());
  // Without isolation the threads are workers: the baseline there is the model in one worker.
  const inWorker = crossOriginIsolated ? null : await loadModelInWorker(spec.wasm, { timeout: 0 });
  const sides = {
    one: () => one.predict(input, spec.rows),
    threads: () => many.predict(input, spec.rows),
    ort: runOrt,
    ...(inWorker ? { worker: () => inWorker.predict(input, spec.rows) } : {}),
  };
  // On the isolated page, between sides the page rests a moment: the side that ran last leaves its threads
  // spinning for a while (both libraries spin before they sleep), and the engine's background compilers
  // finish tiering up the code; neither should be charged to the next side. After one untimed call each
  // side is timed as a page that runs only it. The plain page has no spinning threads (our workers wait
  // for messages, onnxruntime-web runs one thread), and a rest there only times a cold core on tiny calls.
  const rest = () => (crossOriginIsolated ? new Promise((r) => setTimeout(r, REST_MS)) : undefined);
  const k = {};
  for (const [side, run] of Object.entries(sides)) {
    for (let i = 0; i < 3; i++) await run();
    await rest();
    const t0 = performance.now();
    await run();
    await run();
    k[side] = Math.max(1, Math.ceil(spec.targetMs / Math.max((performance.now() - t0) / 2, 1e-3)));
  }
  const samples = Object.fromEntries(Object.keys(sides).map((side) => [side, []]));
  for (let s = 0; s < spec.samples; s++) {
    for (const [side, run] of Object.entries(sides)) {
      await rest();
      await run(); // untimed: wakes the side's threads after the rest
      const t0 = performance.now();
      for (let j = 0; j < k[side]; j++) await run();
      samples[side].push((performance.now() - t0) / k[side]);
    }
  }
  await session.release();
  if (inWorker) releaseModel(inWorker);
  return {
    medians: Object.fromEntries(Object.entries(samples).map(([s, xs]) => [s, median(xs)])),
    k,
    check,
    threadInfo: many.threads ?? { mode: 'one thread (a plain Model)', threads: 1, memoryBytes: many.meta.memoryBytes },
  };
};

window.benchReady = true;
