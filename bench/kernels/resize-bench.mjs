// Resize-kernel speed of dist/kernels*.wasm in headless Chromium (one thread). Not a test.
//   npm run build:kernels && node bench/kernels/resize-bench.mjs
// Cases: NCHW 1×3×224×224 → 448×448 (bilinear, nearest, bicubic; half_pixel, sizes given), the 2×
// downsample back, and NHWC 1×224×224×3 → 448×448 bilinear (the run path). ms per call, median and best.
import { benchEachBuild } from './each-build.mjs';
import { loadAbi } from '../../assembly/generate.mjs';

const { CODES } = await loadAbi();

const cases = [
  { name: 'bilinear 1x3x224x224 -> 448x448', inShape: [1, 3, 224, 224], outShape: [1, 3, 448, 448], mode: 'LINEAR' },
  { name: 'nearest 1x3x224x224 -> 448x448', inShape: [1, 3, 224, 224], outShape: [1, 3, 448, 448], mode: 'NEAREST' },
  { name: 'bicubic 1x3x224x224 -> 448x448', inShape: [1, 3, 224, 224], outShape: [1, 3, 448, 448], mode: 'CUBIC' },
  { name: 'bilinear 1x3x448x448 -> 224x224', inShape: [1, 3, 448, 448], outShape: [1, 3, 224, 224], mode: 'LINEAR' },
  {
    name: 'bilinear NHWC 1x224x224x3 -> 448x448',
    inShape: [1, 224, 224, 3],
    outShape: [1, 448, 448, 3],
    mode: 'LINEAR',
  },
].map((c) => ({
  ...c,
  mode: CODES.RESIZE[c.mode],
  coord: CODES.COORD.HALF_PIXEL,
  nearest: CODES.NEAREST.ROUND_PREFER_FLOOR,
}));

await benchEachBuild(
  async (bytesArr, cases) => {
    const bytes = new Uint8Array(bytesArr);
    if (!WebAssembly.validate(bytes)) return null;
    const { instance } = await WebAssembly.instantiate(bytes, {});
    const k = instance.exports;
    const need = 64 << 20;
    if (k.memory.buffer.byteLength < need) k.memory.grow((need - k.memory.buffer.byteLength) >> 16);
    const out = {};
    for (const c of cases) {
      const prod = (s) => s.reduce((a, b) => a * b, 1);
      const x = 1 << 20;
      const y = x + prod(c.inShape) * 4 + 64;
      const table = y + prod(c.outShape) * 4 + 64;
      const scratch = table + 256;
      const xs = new Float32Array(k.memory.buffer, x, prod(c.inShape));
      for (let i = 0; i < xs.length; i++) xs[i] = Math.random();
      const t = new Int32Array(k.memory.buffer, table, 12);
      c.inShape.forEach((n, a) => {
        t[3 * a] = n;
        t[3 * a + 1] = c.outShape[a];
        t[3 * a + 2] = 0;
      });
      const run = () => k.resize(x, y, 4, table, 0, scratch, c.mode, c.coord, c.nearest, -0.75, 0, 0);
      let reps = 1;
      for (;;) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) run();
        if (performance.now() - t0 > 40) break;
        reps *= 2;
      }
      const samples = [];
      for (let s = 0; s < 15; s++) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) run();
        samples.push((performance.now() - t0) / reps);
      }
      samples.sort((a, b) => a - b);
      out[c.name] = { ms: +samples[7].toFixed(3), bestMs: +samples[0].toFixed(3) };
    }
    return out;
  },
  undefined,
  cases,
);
