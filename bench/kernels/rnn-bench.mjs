// LSTM (input 64, hidden 128, batch 1) at seq 1 (a streaming step, state fed back) and seq 100: our `lstm`
// kernel called directly (both builds) against onnxruntime-web 1.30 (wasm EP, 1 thread) running the same
// weights as a one-node ONNX model, in one headless Chromium page. Not a test.
//   npm run build:kernels && npm run build:ts && node bench/kernels/rnn-bench.mjs
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { onnx } from '../../test/conformance/tensors.mjs';
import { packRecurrent, recurrentScratchFloats } from '../../dist/compiler/pack-recurrent.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const I = 64,
  H = 128;

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const W = Float32Array.from({ length: 4 * H * I }, () => rand() * 0.15);
const R = Float32Array.from({ length: 4 * H * H }, () => rand() * 0.1);
const B = Float32Array.from({ length: 8 * H }, () => rand() * 0.1);

/** LSTM(X [seq, 1, 64], W, R, B, '', initial_h, initial_c) -> Y, Y_h, Y_c, opset 14, seq symbolic. */
function lstmModel() {
  const T = onnx.TensorProto.DataType.FLOAT;
  const init = (name, dims, data) => ({ name, dims, dataType: T, rawData: new Uint8Array(data.buffer) });
  const value = (name, dims) => ({
    name,
    type: {
      tensorType: {
        elemType: T,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
  const graph = {
    name: 'lstm',
    node: [
      {
        opType: 'LSTM',
        input: ['X', 'W', 'R', 'B', '', 'initial_h', 'initial_c'],
        output: ['Y', 'Y_h', 'Y_c'],
        attribute: [{ name: 'hidden_size', type: onnx.AttributeProto.AttributeType.INT, i: H }],
      },
    ],
    initializer: [init('W', [1, 4 * H, I], W), init('R', [1, 4 * H, H], R), init('B', [1, 8 * H], B)],
    input: [value('X', ['seq', 1, I]), value('initial_h', [1, 1, H]), value('initial_c', [1, 1, H])],
    output: [value('Y', ['seq', 1, 1, H]), value('Y_h', [1, 1, H]), value('Y_c', [1, 1, H])],
  };
  const model = { irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph };
  return Array.from(onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish());
}

const packed = packRecurrent({ kind: 'lstm', hidden: H, inputSize: I, W, R, B }, 0);
const TYPES = {
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
};
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') {
    res.writeHead(200, {
      'Content-Type': 'text/html',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    res.end('<!doctype html><title>rnn bench</title>');
    return;
  }
  const file = path.join(ROOT, decodeURIComponent(url.pathname));
  if (!file.startsWith(ROOT) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  res.end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const result = await page.evaluate(
    async (modelBytes, w, r, bias, scratch4, I, H) => {
      const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = { wasm: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm' };
      const session = await ort.InferenceSession.create(new Uint8Array(modelBytes));
      const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      /** µs per call: reps sized so a sample lasts ≥ 20 ms, 15 samples, the median. */
      async function time(fn) {
        let reps = 1;
        for (;;) {
          const t0 = performance.now();
          for (let i = 0; i < reps; i++) await fn();
          if (performance.now() - t0 > 20) break;
          reps *= 2;
        }
        const samples = [];
        for (let s = 0; s < 15; s++) {
          const t0 = performance.now();
          for (let i = 0; i < reps; i++) await fn();
          samples.push(((performance.now() - t0) * 1000) / reps);
        }
        return median(samples);
      }
      const out = {};
      const builds = {};
      for (const name of ['kernels.wasm', 'kernels-relaxed.wasm']) {
        const bytes = await (await fetch(`/dist/${name}`)).arrayBuffer();
        if (WebAssembly.validate(bytes)) builds[name] = (await WebAssembly.instantiate(bytes, {})).instance.exports;
      }
      for (const seq of [1, 100]) {
        const X = Float32Array.from({ length: seq * I }, (_, i) => Math.sin(i * 0.37));
        const h0 = new Float32Array(H),
          c0 = new Float32Array(H);
        // onnxruntime-web, state fed back from its own outputs.
        let state = { h: new ort.Tensor('float32', h0, [1, 1, H]), c: new ort.Tensor('float32', c0, [1, 1, H]) };
        const xT = new ort.Tensor('float32', X, [seq, 1, I]);
        const first = await session.run({ X: xT, initial_h: state.h, initial_c: state.c });
        const ortMs = await time(async () => {
          const o = await session.run({ X: xT, initial_h: state.h, initial_c: state.c });
          if (seq === 1) state = { h: o.Y_h, c: o.Y_c };
        });
        out[`onnxruntime-web seq ${seq} µs`] = +ortMs.toFixed(1);
        for (const [name, k] of Object.entries(builds)) {
          const f32 = (p, n) => new Float32Array(k.memory.buffer, p, n);
          let at = 1 << 20;
          const put = (a) => {
            const p = at;
            f32(p, a.length).set(a);
            at = (p + a.length * 4 + 63) & ~63;
            return p;
          };
          const pw = put(w),
            pr = put(r),
            pb = put(bias),
            px = put(X);
          const y = put(new Float32Array(seq * H)),
            yh = put(h0),
            yc = put(c0);
          const scratch = put(new Float32Array(seq === 1 ? scratch4[0] : scratch4[1]));
          const run = () =>
            k.lstm(
              px,
              pw,
              pr,
              pb,
              0,
              0,
              0,
              yh,
              yc,
              y,
              yh,
              yc,
              scratch,
              seq,
              1,
              I,
              H,
              0,
              1,
              0,
              0,
              0,
              Infinity,
              2,
              0,
              0,
              1,
              0,
              0,
              1,
              0,
              0,
            );
          // Check against onnxruntime-web from the zero state, before timing.
          f32(yh, H).fill(0);
          f32(yc, H).fill(0);
          run();
          let diff = 0;
          const want = first.Y.data;
          f32(y, seq * H).forEach((v, i) => (diff = Math.max(diff, Math.abs(v - want[i]))));
          out[`${name} seq ${seq} max |Y − onnxruntime|`] = diff;
          // Streaming: initial_h/c are the Y_h/Y_c buffers, fed back in place.
          out[`${name} seq ${seq} µs`] = +(await time(run)).toFixed(2);
        }
      }
      return out;
    },
    lstmModel(),
    Array.from(packed.w),
    Array.from(packed.r),
    Array.from(packed.bias),
    [recurrentScratchFloats('lstm', 1, 1, H), recurrentScratchFloats('lstm', 100, 1, H)],
    I,
    H,
  );
  console.log(`LSTM input ${I}, hidden ${H}, batch 1 (Chromium ${await browser.version()}):`);
  for (const [key, v] of Object.entries(result)) console.log(`  ${key}: ${v}`);
} finally {
  await browser.close();
  server.close();
}
