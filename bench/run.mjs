// `npm run bench`: ml-widgets against onnxruntime-web (1 thread, wasm EP) on the same ONNX files, in one
// headless Chromium page and one run. Prints a markdown table (ratio = onnxruntime-web's time / ours, so
// > 1 means we are faster) and writes bench/results/<date>.json, latest.json and latest.md (a --quick run
// writes bench/build/quick.json and quick.md instead: the committed results are full runs only).
//
//   node bench/run.mjs [--quick] [--only <substring>] [--no-cold]
//
// Models come from bench/build/ (made by bench/make_models.py when missing: torch, torchvision, scikit-learn,
// xgboost, onnx, skl2onnx, onnxmltools from the PYTHONPATH you give; rows whose packages are missing are
// skipped) and test/fixtures/models/. Timings on a shared machine mean little alone: read
// the ratios, which are measured side by side with interleaved samples.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compiler/index.js';
import { launchChromium } from './chromium.mjs';
import { runShapeCases, shapeTable } from './shapes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD = path.join(ROOT, 'bench/build');
const RESULTS = path.join(ROOT, 'bench/results');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const cold = !args.includes('--no-cold');
const SAMPLES = quick ? 7 : 25;

const GEMM = (n) => ({
  id: `gemm${n}`,
  title: `MatMul ${n}³ (B constant)`,
  model: `matmul${n}`,
  rows: n,
  flops: 2 * n ** 3,
  relaxed: true,
  // Issue 16's GEMM target is end to end writing into a caller-owned output: run() with `outputs`.
  into: true,
  target: 1.5,
  targetNote: '≥ 1.5× (NOTES: 128-bit SIMD ceiling)',
});
const CNN = (model, title) => ({
  id: model,
  title: `${title} 224², batch 1`,
  model,
  rows: 1,
  target: 1.25,
  targetNote: 'latency ≤ 0.8×',
  arena: true,
  targetMs: 1,
});
const CLASSIC = (model, title) => [
  { id: `${model}-1`, title: `${title}, batch 1`, model, rows: 1, rowsFile: true, target: 3, targetNote: '≥ 3×' },
  {
    id: `${model}-10000`,
    title: `${title}, batch 10 000`,
    model,
    rows: 10_000,
    rowsFile: true,
    target: 1.5,
    targetNote: '≥ 1.5×',
  },
];
const MLP = 'test/fixtures/models/digits_mlp.onnx';
const CASES = [
  GEMM(64),
  GEMM(256),
  GEMM(512),
  { id: 'mlp-1', title: 'digits MLP, batch 1', onnx: MLP, rows: 1, target: 5, targetNote: '≥ 5×', cold: true },
  { id: 'mlp-1000', title: 'digits MLP, batch 1000', onnx: MLP, rows: 1000 },
  { ...CNN('mobilenet_v2', 'MobileNetV2'), cold: true },
  CNN('squeezenet1_1', 'SqueezeNet 1.1'),
  CNN('resnet18', 'ResNet18'),
  ...CLASSIC('rf100', 'random forest, 100 trees (breast cancer)'),
  ...CLASSIC('xgb', 'XGBoost, 100 trees depth 6 (breast cancer)'),
  ...CLASSIC('svc_rbf', 'RBF SVC with probabilities (digits)'),
].filter((c) => !only || c.id.includes(only) || c.title.toLowerCase().includes(only.toLowerCase()));

// ---------------------------------------------------------------- models

function ensureModels() {
  const missing = [
    ...new Set(CASES.filter((c) => c.model && !existsSync(path.join(BUILD, `${c.model}.onnx`))).map((c) => c.model)),
  ];
  if (!missing.length) return new Set();
  console.error(`making ${missing.join(', ')} with bench/make_models.py …`);
  // Debian's python3 has torch/sklearn/xgboost; a pyenv or venv python3 earlier on PATH may not.
  const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  // The caller's PYTHONPATH as given: that is where converters installed outside site-packages are found.
  const r = spawnSync(python, ['bench/make_models.py', ...missing], { cwd: ROOT, stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(
      `bench/make_models.py failed with ${python} (it needs torch, torchvision, scikit-learn, xgboost, onnx, skl2onnx ` +
        'and onnxmltools, importable from its site-packages or your PYTHONPATH; set PYTHON=… to choose another interpreter): the rows of models it did not write are skipped.',
    );
  }
  return new Set(missing.filter((m) => !existsSync(path.join(BUILD, `${m}.onnx`))));
}

async function prepare(c) {
  const onnxPath = c.onnx ? path.join(ROOT, c.onnx) : path.join(BUILD, `${c.model}.onnx`);
  const name = c.model ?? path.basename(onnxPath, '.onnx');
  const bytes = new Uint8Array(readFileSync(onnxPath));
  mkdirSync(BUILD, { recursive: true });
  const wasm = {};
  let meta;
  for (const [variant, options] of Object.entries(
    c.relaxed ? { simd: {}, relaxed: { relaxedSimd: true } } : { simd: {} },
  )) {
    const out = await compile(bytes, options);
    meta ??= out.meta;
    const file = path.join(BUILD, `${name}.${variant}.wasm`);
    writeFileSync(file, out.wasm);
    wasm[variant] = `/${path.relative(ROOT, file)}`;
  }
  const wasmBytes = readFileSync(path.join(ROOT, wasm.simd.slice(1)));
  return {
    spec: {
      onnx: `/${path.relative(ROOT, onnxPath)}`,
      wasm,
      rows: c.rows,
      rowShape: meta.inputs[0].shape.slice(1),
      rowsFile: c.rowsFile ? `/bench/build/${name}.f32` : null,
      into: !!c.into,
      samples: SAMPLES,
      warmupMs: quick ? 150 : 500,
      targetMs: c.targetMs ?? 20,
    },
    size: { onnx: bytes.length, wasm: wasmBytes.length, wasmGzip: gzipSync(wasmBytes).length },
  };
}

// ---------------------------------------------------------------- server

const TYPES = {
  '.html': 'text/html',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};
function serve() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(ROOT, decodeURIComponent(url.pathname));
    if (!file.startsWith(ROOT) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    // Cross-origin isolation gives performance.now() fine resolution (µs-scale cases need it).
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------- run

const fmtMs = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const mb = (b) => `${(b / 2 ** 20).toFixed(2)} MB`;

async function main() {
  const skipped = ensureModels();
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${origin}/bench/page.html`);
  await page.waitForFunction('window.benchReady === true');

  const rows = [];
  for (const c of CASES) {
    if (c.model && skipped.has(c.model)) {
      rows.push({ ...c, skipped: 'model not generated' });
      continue;
    }
    process.stderr.write(`${c.title} … `);
    try {
      const { spec, size } = await prepare(c);
      const r = await page.evaluate((s) => window.runCase(s), spec);
      const row = { ...c, spec, size, ...r, ratio: r.medians.ort / r.medians.simd };
      if (r.medians.relaxed) row.ratioRelaxed = r.medians.ort / r.medians.relaxed;
      row.ratioBest = r.mins.ort / Math.min(r.mins.simd, r.mins.relaxed ?? Infinity);
      if (cold && c.cold) row.coldStart = await coldStart(browser, origin, spec);
      rows.push(row);
      process.stderr.write(`ours ${fmtMs(r.medians.simd)}, ort ${fmtMs(r.medians.ort)}, ×${row.ratio.toFixed(2)}\n`);
    } catch (e) {
      rows.push({ ...c, error: String(e?.message ?? e).split('\n')[0] });
      process.stderr.write(`error: ${e?.message ?? e}\n`);
    }
  }
  const shapeRows = await runShapeCases(page, { root: ROOT, samples: SAMPLES, warmupMs: quick ? 150 : 500, only });
  const env = {
    date: new Date().toISOString(),
    chromium: await browser.version(),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    commit: gitHead(),
    onnxruntimeWeb: JSON.parse(readFileSync(path.join(ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8'))
      .version,
    samples: SAMPLES,
    peerBytes: peerBytes(),
    ourRuntimeBytes: await ourRuntimeBytes(),
  };
  await browser.close();
  server.close();
  report(rows, env, shapeRows);
}

/** Fresh browser context per sample (no HTTP, code or Cache API reuse), one library per page. */
async function coldStart(browser, origin, spec) {
  const n = quick ? 3 : 7;
  const out = { ours: [], ort: [] };
  for (let i = 0; i < n; i++) {
    for (const side of ['ours', 'ort']) {
      const ctx = await browser.createBrowserContext();
      const p = await ctx.newPage();
      await p.goto(`${origin}/bench/cold.html`);
      await p.waitForFunction('window.benchReady === true');
      out[side].push(await p.evaluate((s, side) => window.coldStart(s, side), spec, side));
      await ctx.close();
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { ours: median(out.ours), ort: median(out.ort), samples: n };
}

function gitHead() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return null;
  }
}

/** What a page fetches to run onnxruntime-web's wasm EP: the ESM bundle, its loader and the wasm binary. */
function peerBytes() {
  const dir = path.join(ROOT, 'node_modules/onnxruntime-web/dist');
  let raw = 0;
  let gzip = 0;
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
    const b = readFileSync(path.join(dir, f));
    raw += b.length;
    gzip += gzipSync(b).length;
  }
  return { raw, gzip };
}

/** Our runtime as a page would ship it: dist/runtime/index.js bundled and minified (esbuild). */
async function ourRuntimeBytes() {
  try {
    const { build } = await import('esbuild');
    const out = await build({
      entryPoints: [path.join(ROOT, 'dist/runtime/index.js')],
      bundle: true,
      minify: true,
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const b = out.outputFiles[0].contents;
    return { raw: b.length, gzip: gzipSync(b).length };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  }
}

function report(rows, env, shapeRows = []) {
  const lines = [];
  lines.push(`ml-widgets vs onnxruntime-web ${env.onnxruntimeWeb} (wasm EP, 1 thread), same ONNX file, same page`);
  lines.push(
    `${env.date} · ${env.chromium} · ${env.cpu} ×${env.cores} · commit ${env.commit} · median per call of ${env.samples} interleaved samples (${env.samples * 2} for sub-ms cases) after warm-up${quick ? ' (--quick)' : ''}`,
  );
  lines.push('');
  lines.push(
    '| case | ours (SIMD) | ours (relaxed SIMD) | onnxruntime-web | ratio (ort ÷ ours) | target | met | best-sample ratio | outputs vs ort |',
  );
  lines.push('|---|---:|---:|---:|---:|---|---|---:|---|');
  for (const r of rows) {
    if (r.skipped || r.error) {
      lines.push(`| ${r.title} | ${r.skipped ? 'skipped: ' + r.skipped : 'ERROR: ' + r.error} ||||||||`);
      continue;
    }
    const cell = (ms) => (r.flops ? `${fmtMs(ms)} (${(r.flops / ms / 1e6).toFixed(1)} GFLOP/s)` : fmtMs(ms));
    const ratio = `×${r.ratio.toFixed(2)}${r.ratioRelaxed ? ` (relaxed ×${r.ratioRelaxed.toFixed(2)})` : ''}`;
    const met = !r.target
      ? '—'
      : r.ratio >= r.target
        ? 'yes'
        : (r.ratioRelaxed ?? 0) >= r.target
          ? 'yes (relaxed)'
          : 'no';
    const ok = Object.values(r.checks).every((c) => c.ok);
    const many = Object.keys(r.checks).length > 1;
    const worst = Object.entries(r.checks)
      .flatMap(([variant, c]) => c.report.map((x) => ({ ...x, name: many ? `${variant} ${x.name}` : x.name })))
      .map((x) =>
        x.maxRelDiff !== undefined
          ? `${x.name} ${x.maxRelDiff.toExponential(1)}`
          : x.labelsDiffer !== undefined
            ? `${x.name} ${x.labelsDiffer}/${x.of} differ`
            : `${x.name} ${x.missing ? 'missing' : `length ${x.lengths?.join(' vs ')}`}`,
      )
      .join(', ');
    lines.push(
      `| ${r.title} | ${cell(r.medians.simd)} | ${r.medians.relaxed ? cell(r.medians.relaxed) : '—'} | ${cell(r.medians.ort)} | ${ratio} | ${r.targetNote ?? '—'} | ${met} | ×${r.ratioBest.toFixed(2)} | ${ok ? 'ok' : 'FAIL'}: ${worst} |`,
    );
  }
  lines.push('');
  lines.push('| model | .onnx | our .wasm (gzip) | arena | peak live set | cold start ours | cold start ort |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  const seen = new Set();
  for (const r of rows) {
    if (!r.size || seen.has(r.spec.onnx)) continue;
    seen.add(r.spec.onnx);
    const coldRow = rows.find((x) => x.spec?.onnx === r.spec.onnx && x.coldStart)?.coldStart;
    lines.push(
      `| ${r.model ?? path.basename(r.spec.onnx)} | ${kb(r.size.onnx)} | ${kb(r.size.wasm)} (${kb(r.size.wasmGzip)}) | ${mb(r.arenaBytes)} | ${r.peakLiveBytes ? mb(r.peakLiveBytes) : '—'} | ${coldRow ? fmtMs(coldRow.ours) : '—'} | ${coldRow ? `${fmtMs(coldRow.ort)} (×${(coldRow.ort / coldRow.ours).toFixed(1)})` : '—'} |`,
    );
  }
  lines.push(...shapeTable(shapeRows));
  lines.push('');
  const rt = env.ourRuntimeBytes.error
    ? 'could not be measured'
    : `${kb(env.ourRuntimeBytes.raw)} (${kb(env.ourRuntimeBytes.gzip)} gzip, bundled and minified) of JS plus the model's .wasm above`;
  lines.push(
    `Bytes before the first prediction: onnxruntime-web ${mb(env.peerBytes.raw)} (${mb(env.peerBytes.gzip)} gzip) of JS + wasm plus the .onnx; ours ${rt}.`,
  );
  lines.push(
    'Cold start = import + fetch + compile/create + first prediction in a fresh browser context (median of the samples). Ratios = onnxruntime-web time ÷ ours: above 1 we are faster. "met" judges the median ratio (GEMM: the SIMD build, else the relaxed one); the best-sample ratio (fastest sample of each side, ours the faster build) is a check on how much other load on the machine moved the medians.',
  );
  lines.push(
    'MobileNetV2 and ResNet18 have random weights with BatchNorm statistics estimated from noise (bench/make_models.py), so the outputs compared are O(1), not vanishing. Float outputs: max abs diff, relative to the largest |value| where that exceeds 1; FAIL above 1e-4.',
  );
  lines.push(
    'Classic models are exported with zipmap=False: onnxruntime-web cannot return ZipMap outputs, and both sides run the same file.',
  );
  const md = lines.join('\n');
  console.log(md);
  const json = JSON.stringify(
    { env, rows: rows.map(({ spec, ...r }) => ({ ...r, rowShape: spec?.rowShape })), shapes: shapeRows },
    null,
    1,
  );
  if (quick || only) {
    // A smoke run or a subset is no result to commit: it goes beside the (gitignored) bench models.
    mkdirSync(BUILD, { recursive: true });
    writeFileSync(path.join(BUILD, 'quick.json'), json);
    writeFileSync(path.join(BUILD, 'quick.md'), md + '\n');
    console.error(
      `(${quick ? '--quick' : '--only'} run: written to bench/build/quick.json and quick.md, not bench/results/)`,
    );
    return;
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, `${env.date.slice(0, 19).replace(/:/g, '-')}.json`), json);
  writeFileSync(path.join(RESULTS, 'latest.json'), json);
  writeFileSync(path.join(RESULTS, 'latest.md'), md + '\n');
}

await main();
