// GEMM throughput of dist/kernels*.wasm in headless Chromium (one thread). Not a test.
//   npm run build:kernels && node bench/kernels/gemm-bench.mjs
import { benchEachBuild } from './each-build.mjs';

await benchEachBuild(async (bytesArr) => {
  const bytes = new Uint8Array(bytesArr);
  if (!WebAssembly.validate(bytes)) return null;
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const k = instance.exports;
  const f32 = (p, n) => new Float32Array(k.memory.buffer, p, n);
  const base = 1 << 20;
  const out = {};
  // The machine is shared: report the median and the best sample (best = what the kernel can do).
  const stats = (xs) => {
    xs.sort((a, c) => a - c);
    return { median: +xs[xs.length >> 1].toFixed(1), best: +xs[xs.length - 1].toFixed(1) };
  };
  const SAMPLES = 15;
  for (const n of [64, 256, 512]) {
    const M = n,
      N = n,
      K = n;
    const a = base,
      w = a + M * K * 4,
      c = w + Math.ceil(N / 8) * 8 * K * 4;
    f32(a, M * K).forEach((_, i, arr) => {
      arr[i] = Math.random() - 0.5;
    });
    f32(w, Math.ceil(N / 8) * 8 * K).forEach((_, i, arr) => {
      arr[i] = Math.random() - 0.5;
    });
    const flops = 2 * M * N * K;
    // Calibrate to ~50 ms per sample (this also warms up), then take SAMPLES samples.
    let reps = 1;
    for (;;) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) k.gemm(a, K, w, 0, c, N, M, N, K, 0, 0, 0);
      if (performance.now() - t0 > 50) break;
      reps *= 2;
    }
    const samples = [];
    for (let s = 0; s < SAMPLES; s++) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) k.gemm(a, K, w, 0, c, N, M, N, K, 0, 0, 0);
      samples.push((flops * reps) / ((performance.now() - t0) * 1e6));
    }
    out[`gemm ${n}^3 GFLOP/s`] = stats(samples);
  }
  // Batch-1 GEMV: 1×64 · 64×128 (+bias, relu), ns per call.
  {
    const K = 64,
      N = 128,
      a = base,
      w = a + 4096,
      bias = w + K * N * 4,
      c = bias + N * 4;
    const reps = 50000;
    const samples = [];
    for (let s = 0; s < SAMPLES; s++) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) k.gemm(a, K, w, bias, c, N, 1, N, K, 1, 0, 0);
      samples.push(-((performance.now() - t0) * 1e6) / reps);
    }
    const st = stats(samples);
    out['gemv 1x64x128 (+bias, relu) ns'] = { median: -st.median, best: -st.best };
  }
  return out;
});
