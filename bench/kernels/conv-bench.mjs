// Conv-kernel throughput of dist/kernels*.wasm in headless Chromium (one thread). Not a test.
//   npm run build:kernels && node bench/kernels/conv-bench.mjs
import { benchEachBuild } from './each-build.mjs';

await benchEachBuild(
  async (bytesArr) => {
    const bytes = new Uint8Array(bytesArr);
    if (!WebAssembly.validate(bytes)) return null;
    const { instance } = await WebAssembly.instantiate(bytes, {});
    const k = instance.exports;
    const f32 = (p, n) => new Float32Array(k.memory.buffer, p, n);
    let next = 1 << 20;
    const alloc = (n) => {
      const p = next;
      next = (p + n * 4 + 63) & ~63;
      return p;
    };
    const random = (p, n) => {
      const a = f32(p, n);
      for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
    };
    // Median and best (the machine is shared; best = what the kernel can do) of ms per call.
    const time = (f) => {
      let reps = 1;
      for (;;) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) f();
        if (performance.now() - t0 > 40) break;
        reps *= 2;
      }
      const xs = [];
      for (let s = 0; s < 15; s++) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) f();
        xs.push((performance.now() - t0) / reps);
      }
      xs.sort((a, c) => a - c);
      return { median: xs[xs.length >> 1], best: xs[0] };
    };
    const fmt = (t, flops) => ({
      ms: +t.median.toFixed(3),
      bestMs: +t.best.toFixed(3),
      ...(flops
        ? { gflops: +(flops / t.median / 1e6).toFixed(1), bestGflops: +(flops / t.best / 1e6).toFixed(1) }
        : {}),
    });
    const out = {};

    // 3×3 conv 56×56×64 → 64, stride 1, pad 1: im2col (3136 × 576) + packed GEMM, bias + relu.
    {
      const H = 56,
        W = 56,
        C = 64,
        Co = 64,
        K = 9 * C,
        M = H * W;
      const x = alloc(H * W * C),
        col = alloc(M * K),
        w = alloc(K * Co),
        bias = alloc(Co),
        y = alloc(M * Co);
      random(x, H * W * C);
      random(w, K * Co);
      random(bias, Co);
      const im = () => k.im2col(x, col, 1, H, W, C, 0, C, 3, 3, 1, 1, 1, 1, 1, 1, H, W);
      const mm = () => k.gemm(col, K, w, bias, y, Co, M, Co, K, 1, 0, 0);
      const flops = 2 * M * K * Co;
      out['conv3x3 56x56x64->64 im2col'] = fmt(time(im));
      out['conv3x3 56x56x64->64 gemm'] = fmt(time(mm), flops);
      out['conv3x3 56x56x64->64 total'] = fmt(
        time(() => {
          im();
          mm();
        }),
        flops,
      );
    }
    // Depthwise 3×3 pad 1 (+bias, relu6 = clip): MobileNetV2's 112×112×32 s1 and 56×56×144 s2.
    for (const [H, C, s] of [
      [112, 32, 1],
      [56, 144, 2],
    ]) {
      next = 1 << 20;
      const OH = Math.floor((H + 2 - 3) / s) + 1;
      const Cp = Math.ceil(C / 4) * 4;
      const x = alloc(H * H * C),
        w = alloc(9 * Cp),
        bias = alloc(Cp),
        y = alloc(OH * OH * C);
      random(x, H * H * C);
      random(w, 9 * Cp);
      random(bias, Cp);
      const flops = 2 * OH * OH * C * 9;
      out[`depthwise3x3 ${H}x${H}x${C} s${s}`] = fmt(
        time(() => k.conv_depthwise(x, w, bias, y, 1, H, H, C, 3, 3, s, s, 1, 1, 1, 1, OH, OH, 5, 0, 6)),
        flops,
      );
    }
    // Layout and pooling at typical sizes.
    {
      next = 1 << 20;
      const x = alloc(224 * 224 * 3),
        y = alloc(224 * 224 * 3);
      random(x, 224 * 224 * 3);
      out['nchw_to_nhwc 3x224x224'] = fmt(time(() => k.nchw_to_nhwc(x, y, 1, 3, 224 * 224)));
      const a = alloc(56 * 56 * 64),
        b = alloc(56 * 56 * 64);
      random(a, 56 * 56 * 64);
      out['nhwc_to_nchw 56x56x64'] = fmt(time(() => k.nhwc_to_nchw(a, b, 1, 64, 56 * 56)));
      const p = alloc(112 * 112 * 64),
        q = alloc(56 * 56 * 64);
      random(p, 112 * 112 * 64);
      out['maxpool 3x3 s2 112x112x64'] = fmt(
        time(() => k.maxpool(p, q, 1, 112, 112, 64, 3, 3, 2, 2, 1, 1, 1, 1, 56, 56)),
      );
      out['global_avgpool 7x7x1280'] = fmt(time(() => k.global_avgpool(p, q, 1, 49, 1280)));
    }
    return out;
  },
  (build, result) => {
    console.log(build);
    for (const [name, r] of Object.entries(result)) console.log(`  ${name.padEnd(34)} ${JSON.stringify(r)}`);
  },
);
