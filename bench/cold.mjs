// Cold start, run by bench/run.mjs in a fresh browser context per sample: import the library, fetch the
// model, compile (ours) or create a session (onnxruntime-web), first prediction. Only one side's
// library is imported per page, so each pays for its own code.
const ORT = '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';

window.coldStart = async function coldStart(spec, side) {
  const t0 = performance.now();
  const x = new Float32Array(spec.rows * spec.rowShape.reduce((a, b) => a * b, 1)).fill(0.5);
  if (side === 'ort') {
    const ort = await import(ORT);
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = { wasm: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm' };
    const onnx = new Uint8Array(await (await fetch(spec.onnx)).arrayBuffer());
    const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
    await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [spec.rows, ...spec.rowShape]) });
  } else {
    const { loadModel } = await import('/dist/runtime/index.js');
    const model = await loadModel(spec.wasm.simd);
    model.predict(x, spec.rows);
  }
  return performance.now() - t0;
};
window.benchReady = true;
