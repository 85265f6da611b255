// Symbolic shapes in `npm run bench`: a model compiled with a bound and run below it against the same
// model compiled with that size fixed (the budget: ≤ 1.1× the fixed time), and both against
// onnxruntime-web on the same inputs. Models: the PyTorch exports of test/fixtures/shapes/ (a conv net over
// any height and width, a transformer text classifier over any length). Browser side: bench/shapes-page.mjs.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { compile } from '../dist/compiler/index.js';

const fmtMs = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);

/** One row: `at` is the size the call runs at, `bounds` the dims of the bounded build. */
const TEXTURE = (hw) => ({
  id: `texture-cnn-${hw}`,
  title: `conv net, dynamic H×W (≤ 256²), run at ${hw}×${hw}`,
  onnx: 'test/fixtures/shapes/texture_cnn.onnx',
  bounded: { batch: '..1', height: '..256', width: '..256' },
  fixed: { batch: '1', height: String(hw), width: String(hw) },
  feeds: { image: { dtype: 'float32', shape: [1, 3, hw, hw] } },
});
const TRANSFORMER = (seq) => ({
  id: `transformer-${seq}`,
  title: `transformer text classifier, dynamic length (≤ 256), length ${seq}`,
  onnx: 'test/fixtures/shapes/text_transformer.onnx',
  bounded: { batch: '..1', seq: '..256' },
  fixed: { batch: '1', seq: String(seq) },
  feeds: {
    input_ids: { dtype: 'int64', shape: [1, seq], ids: 50 },
    attention_mask: { dtype: 'int64', shape: [1, seq], ones: true },
  },
});

export const SHAPE_CASES = [TEXTURE(32), TEXTURE(64), TEXTURE(128), TRANSFORMER(16), TRANSFORMER(64), TRANSFORMER(256)];

/** Compile the bounded and the fixed build of each case into bench/build/. */
async function prepare(root, c, samples, warmupMs) {
  const bytes = new Uint8Array(readFileSync(path.join(root, c.onnx)));
  const build = path.join(root, 'bench/build');
  mkdirSync(build, { recursive: true });
  const wasm = {};
  for (const [variant, dims] of Object.entries({ bounded: c.bounded, fixed: c.fixed })) {
    const out = await compile(bytes, { dims });
    const file = path.join(build, `${c.id}.${variant}.wasm`);
    writeFileSync(file, out.wasm);
    wasm[variant] = `/${path.relative(root, file)}`;
  }
  return { onnx: `/${c.onnx}`, wasm, feeds: c.feeds, samples, warmupMs, targetMs: 20 };
}

/** Run every case (those `only` selects) in the bench page; rows for shapeTable. */
export async function runShapeCases(page, { root, samples, warmupMs, only }) {
  const rows = [];
  for (const c of SHAPE_CASES.filter((x) => !only || x.id.includes(only) || x.title.includes(only))) {
    process.stderr.write(`${c.title} … `);
    try {
      const spec = await prepare(root, c, samples, warmupMs);
      const r = await page.evaluate((s) => window.runShapesCase(s), spec);
      rows.push({ ...c, ...r });
      const m = r.medians;
      process.stderr.write(
        `bounded ${fmtMs(m.bounded)}, fixed ${fmtMs(m.fixed)} (×${(m.bounded / m.fixed).toFixed(2)}), ort ${fmtMs(m.ort)}\n`,
      );
    } catch (e) {
      rows.push({ ...c, error: String(e?.message ?? e).split('\n')[0] });
      process.stderr.write(`error: ${e?.message ?? e}\n`);
    }
  }
  return rows;
}

/** The markdown table of the shape rows. */
export function shapeTable(rows) {
  if (!rows.length) return [];
  const lines = [
    '',
    'Symbolic shapes: the bounded build (compiled with the bound) and the fixed build (compiled at the size it runs at), same inputs; `model.run()` writing into caller-owned outputs vs `session.run()`.',
    '',
    '| case | ours, bounded | ours, fixed | bounded ÷ fixed (≤ 1.1) | onnxruntime-web | ratio (ort ÷ bounded) | outputs vs ort |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.title} | ERROR: ${r.error} ||||||`);
      continue;
    }
    const m = r.medians;
    const ok = Object.values(r.checks).every((c) => c.ok);
    const worst = Object.entries(r.checks)
      .map(([v, c]) => `${v} ${c.worst.toExponential(1)}`)
      .join(', ');
    lines.push(
      `| ${r.title} | ${fmtMs(m.bounded)} | ${fmtMs(m.fixed)} | ×${(m.bounded / m.fixed).toFixed(2)} | ${fmtMs(m.ort)} | ×${(m.ort / m.bounded).toFixed(2)} | ${ok ? 'ok' : 'FAIL'}: ${worst} |`,
    );
  }
  return lines;
}
