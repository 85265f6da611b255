// The symbolic-shape rows of the bench page (bench/shapes.mjs drives them): a bounded and a fixed build of
// one model and onnxruntime-web on the same typed inputs, through run() with caller-owned outputs.
import * as ort from '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { loadModel } from '/dist/runtime/index.js';
import { timeSides } from './timing.mjs';

/** Seeded inputs: noise in [-1, 1) for floats, ids in [1, ids) or ones for int64. */
function makeFeeds(specs) {
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const feeds = {};
  for (const [name, f] of Object.entries(specs)) {
    const n = f.shape.reduce((a, b) => a * b, 1);
    const data =
      f.dtype === 'int64'
        ? BigInt64Array.from({ length: n }, () => (f.ones ? 1n : BigInt(1 + Math.floor(next() * (f.ids - 1)))))
        : Float32Array.from({ length: n }, () => next() * 2 - 1);
    feeds[name] = { data, shape: f.shape, dtype: f.dtype };
  }
  return feeds;
}

/** Worst float difference over every output, relative to the output's scale where that exceeds 1. */
function worstDiff(ours, theirs) {
  let worst = 0;
  for (const [name, t] of Object.entries(theirs)) {
    const a = ours[name].data;
    const b = t.data;
    if (a.length !== b.length) return Infinity;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < b.length; i++) {
      const d = Math.abs(Number(a[i]) - Number(b[i]));
      diff = d > diff || Number.isNaN(d) ? d : diff;
      scale = Math.max(scale, Math.abs(Number(b[i])));
    }
    worst = Math.max(worst, diff / Math.max(1, scale));
  }
  return worst;
}

window.runShapesCase = async function runShapesCase(spec) {
  const onnx = new Uint8Array(await (await fetch(spec.onnx)).arrayBuffer());
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const feeds = makeFeeds(spec.feeds);
  const ortFeeds = () =>
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.dtype, v.data, v.shape)]));
  const theirs = await session.run(ortFeeds());
  const sides = { ort: () => session.run(ortFeeds()) };
  const checks = {};
  for (const [variant, url] of Object.entries(spec.wasm)) {
    const model = await loadModel(url);
    const first = model.run(feeds);
    const worst = worstDiff(first, theirs);
    checks[variant] = { ok: worst <= 1e-4, worst };
    // Outputs into arrays made once: nothing allocated per call.
    const outputs = Object.fromEntries(Object.entries(first).map(([k, t]) => [k, t.data]));
    sides[variant] = () => {
      model.run(feeds, { outputs });
    };
  }
  const timed = await timeSides(sides, spec);
  await session.release();
  return { ...timed, checks };
};
