// The benchmark page: ml-widgets and onnxruntime-web side by side on the same ONNX file, in one page.
// bench/run.mjs calls window.runCase(spec) per case and window.coldStart(spec) in fresh contexts.
import * as ort from '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { loadModel } from '/dist/runtime/index.js';
import { makeInput } from './inputs.mjs';
import { timeSides } from './timing.mjs';
import './shapes-page.mjs';

ort.env.wasm.numThreads = 1; // the peer's single-threaded figure; threads need COOP/COEP on the host page
ort.env.wasm.wasmPaths = { wasm: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm' };

export { median } from './timing.mjs';

/** Worst difference of every output both sides return: floats relative to the output's scale, labels by count. */
function compare(ours, theirs) {
  const report = [];
  for (const [name, t] of Object.entries(theirs)) {
    const o = ours[name];
    if (!o) {
      report.push({ name, missing: true });
      continue;
    }
    const a = o.data;
    const b = t.data;
    if (a.length !== b.length) {
      report.push({ name, lengths: [a.length, b.length] });
      continue;
    }
    if (t.type === 'float32') {
      // Absolute below 1, relative to the output's largest magnitude above it (large logits). A NaN
      // anywhere makes diff NaN, which fails the check.
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < b.length; i++) {
        const d = Math.abs(a[i] - b[i]);
        diff = d > diff || Number.isNaN(d) ? d : diff;
        scale = Math.max(scale, Math.abs(b[i]));
      }
      report.push({ name, maxRelDiff: diff / Math.max(1, scale), maxAbsDiff: diff, scale });
    } else {
      let differ = 0;
      for (let i = 0; i < b.length; i++) if (Number(a[i]) !== Number(b[i])) differ++;
      report.push({ name, labelsDiffer: differ, of: b.length });
    }
  }
  const ok = report.every((r) => (r.maxRelDiff !== undefined ? r.maxRelDiff <= 1e-4 : r.labelsDiffer === 0));
  return { ok, report };
}

/**
 * Time both sides on one case. Each sample is k back-to-back calls sized to last ≥ targetMs; samples of
 * the two sides alternate so machine noise hits both alike. Returns per-call medians in ms.
 */
window.runCase = async function runCase(spec) {
  const onnx = new Uint8Array(await (await fetch(spec.onnx)).arrayBuffer());
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const models = {};
  for (const [variant, url] of Object.entries(spec.wasm)) models[variant] = await loadModel(url);
  const input = await makeInput(spec);
  const dims = [spec.rows, ...spec.rowShape];
  const feedName = session.inputNames[0];
  const runOrt = () => session.run({ [feedName]: new ort.Tensor('float32', input, dims) });

  const theirs = await runOrt();
  // Ours: predict() (new output arrays per call), or with spec.into run() writing into output arrays the
  // caller made once (the GEMM rows: how issue 16 states their target).
  const call = {};
  for (const [variant, model] of Object.entries(models)) {
    if (!spec.into) {
      call[variant] = () => model.predict(input, spec.rows);
      continue;
    }
    const first = model.predict(input, spec.rows);
    const outputs = Object.fromEntries(Object.entries(first).map(([name, t]) => [name, t.data.slice()]));
    const feeds = { [model.meta.inputs[0].name]: { data: input, shape: dims } };
    call[variant] = () => model.run(feeds, { outputs });
  }
  const checks = {};
  for (const [variant, run] of Object.entries(call)) checks[variant] = compare(run(), theirs);

  const sides = {
    ort: async () => {
      await runOrt();
    },
  };
  for (const [variant, run] of Object.entries(call))
    sides[variant] = () => {
      run();
    };

  const timed = await timeSides(sides, spec);
  await session.release();
  const meta = Object.values(models)[0].meta;
  return {
    ...timed,
    checks,
    arenaBytes: meta.arenaBytes,
    peakLiveBytes: meta.peakLiveBytes ?? null,
    weightBytes: meta.weightBytes,
    crossOriginIsolated: globalThis.crossOriginIsolated,
  };
};

window.benchReady = true;
