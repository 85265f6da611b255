// Threads benchmark: one headless Chromium, one run, two pages — cross-origin isolated (COOP/COEP: our
// shared-memory slices vs onnxruntime-web's threads) and plain (no isolation: our workers, also against the
// model in one worker, loadModelInWorker; onnxruntime-web runs one thread there). Each case: ours on one
// thread, ours with --threads N (default 2), the peer; the median per call over interleaved samples, and
// the ratios. Models: bench/build/ (bench/make_models.py, as for bench/run.mjs) and the digits MLP fixture.
//   node bench/threads.mjs [--quick] [--threads N] [--only ID]
// Writes bench/results/threads-latest.{md,json} (--quick: bench/build/threads-quick.{md,json}).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compiler/index.js';
import { launchChromium } from './chromium.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD = path.join(ROOT, 'bench/build');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const THREADS = args.includes('--threads') ? Number(args[args.indexOf('--threads') + 1]) : 2;
const SAMPLES = quick ? 5 : 15;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const chosen = (c) => !only || c.id.includes(only);

const bench = (m) => path.join(BUILD, `${m}.onnx`);
const ISOLATED = [
  { id: 'gemm512', title: 'MatMul 512³ (B constant)', onnx: bench('matmul512'), rows: 512 },
  { id: 'mobilenet_v2', title: 'MobileNetV2 224², batch 1', onnx: bench('mobilenet_v2'), rows: 1, targetMs: 1 },
  { id: 'squeezenet1_1', title: 'SqueezeNet 1.1 224², batch 1', onnx: bench('squeezenet1_1'), rows: 1, targetMs: 1 },
  { id: 'resnet18', title: 'ResNet18 224², batch 1', onnx: bench('resnet18'), rows: 1, targetMs: 1 },
];
const MLP = path.join(ROOT, 'test/fixtures/models/digits_mlp.onnx');
const PLAIN = [
  { id: 'mlp-20000', title: 'digits MLP, batch 20 000', onnx: MLP, rows: 20_000 },
  {
    id: 'rf100-20000',
    title: 'random forest 100 trees, batch 20 000',
    onnx: bench('rf100'),
    rows: 20_000,
    rowsFile: 'rf100',
  },
  { id: 'mlp-1-auto', title: 'digits MLP, batch 1 (threads auto)', onnx: MLP, rows: 1, threads: 'auto' },
];

const TYPES = {
  '.html': 'text/html',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
};
/** The repository; under /iso/ with COOP/COEP (cross-origin isolated), elsewhere without. */
function serve() {
  const server = createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const isolated = p.startsWith('/iso/');
    if (isolated) p = p.slice(4);
    const file = path.join(ROOT, p);
    if (!file.startsWith(ROOT) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      ...(isolated
        ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
        : {}),
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function prepare(c, prefix) {
  const out = await compile(new Uint8Array(readFileSync(c.onnx)));
  mkdirSync(BUILD, { recursive: true });
  const file = path.join(BUILD, `${c.id}.threads.wasm`);
  writeFileSync(file, out.wasm);
  const rel = (f) => `${prefix}/${path.relative(ROOT, f)}`;
  return {
    onnx: rel(c.onnx),
    wasm: rel(file),
    rows: c.rows,
    rowShape: out.meta.inputs[0].shape.slice(1),
    rowsFile: c.rowsFile ? rel(path.join(BUILD, `${c.rowsFile}.f32`)) : null,
    threads: c.threads ?? THREADS,
    samples: SAMPLES,
    targetMs: c.targetMs ?? 20,
  };
}

const fmt = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);

async function main() {
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  const version = await browser.version();
  const rows = [];
  const pages = {};
  for (const [kind, prefix, cases] of [
    ['isolated', '/iso', ISOLATED],
    ['plain', '', PLAIN],
  ]) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${origin}${prefix}/bench/threads.html`);
    await page.waitForFunction('window.benchReady === true');
    pages[kind] = await page.evaluate((n) => window.setup(n), THREADS);
    for (const c of cases.filter(chosen)) {
      if (!existsSync(c.onnx)) {
        rows.push({ kind, ...c, skipped: `${c.onnx} is missing (bench/make_models.py)` });
        continue;
      }
      process.stderr.write(`${kind}: ${c.title} … `);
      const spec = await prepare(c, prefix);
      const r = await page.evaluate((s) => window.runCase(s), spec);
      const row = {
        kind,
        ...c,
        spec,
        ...r,
        speedup: r.medians.one / r.medians.threads,
        overWorker: r.medians.worker ? r.medians.worker / r.medians.threads : null,
        vsOrt: r.medians.ort / r.medians.threads,
      };
      process.stderr.write(`${fmt(r.medians.threads)} (${row.speedup.toFixed(2)}× one thread)\n`);
      rows.push(row);
    }
    await page.close();
  }
  await browser.close();
  server.close();

  const lines = [
    `Threads: ${THREADS} asked; ${version}; ${pages.isolated.cores} cores; isolated page: onnxruntime-web ${pages.isolated.ortThreads} threads; plain page: onnxruntime-web ${pages.plain.ortThreads} thread; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}.`,
    '',
    '| page | case | ours, 1 thread | ours, threads | how | onnxruntime-web | threads ÷ 1 thread (speed-up) | ort ÷ ours threaded | ours in one worker | one worker ÷ threads | threads vs 1 thread (max rel diff) |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.kind} | ${r.title} | skipped: ${r.skipped} | | | | | | | | |`);
      continue;
    }
    const how = `${r.threadInfo.mode}, ${r.threadInfo.threads}`;
    lines.push(
      `| ${r.kind} | ${r.title} | ${fmt(r.medians.one)} | ${fmt(r.medians.threads)} | ${how} | ${fmt(r.medians.ort)} | ${r.speedup.toFixed(2)}× | ${r.vsOrt.toFixed(2)}× | ${r.medians.worker ? fmt(r.medians.worker) : '—'} | ${r.overWorker ? `${r.overWorker.toFixed(2)}×` : '—'} | ${r.check.threadsVsOne.toExponential(1)} |`,
    );
  }
  const md = lines.join('\n');
  console.log(md);
  const out = quick ? path.join(BUILD, 'threads-quick') : path.join(ROOT, 'bench/results/threads-latest');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(`${out}.md`, md + '\n');
  writeFileSync(
    `${out}.json`,
    JSON.stringify({ date: new Date().toISOString(), threads: THREADS, pages, rows }, null, 1),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
