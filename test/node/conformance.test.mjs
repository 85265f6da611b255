// Conformance: ONNX's own backend node tests (test/fixtures/onnx-node/, every one onnxruntime-node
// passes; made by test/fixtures/make_onnx_node.mjs) through our compiler and runtime at their exact shapes,
// compared with ONNX's expected outputs as ONNX's runner compares (rtol 1e-3, atol 1e-7; integers, bools
// and strings exactly; names, dtypes and shapes). See test/conformance/ for the pieces.
//
// The ratchet: test/conformance/known-failures.json lists the cases we do not pass yet (written by
// `npm run conformance:update` from a real run). A case outside the list must pass; a case in it must
// still fail, so a fix takes it off the list and the list only shrinks. `npm run conformance` prints
// the per-op table.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { FIXTURES, cases, loadApi, readKnownFailures, runCase } from '../conformance/harness.mjs';
import { loadTest, readIndex } from '../conformance/fixtures.mjs';
import { ortAsCompiler } from '../conformance/ort.mjs';
import { compareOutputs } from '../conformance/compare.mjs';
import { totals } from '../conformance/summary.mjs';

const index = readIndex();
const all = cases(index);
const known = readKnownFailures();
const committed = index.tests.filter((t) => t.ort.status === 'pass');

// Each test's data is read once for its variants (they come one after the other).
let loaded = { name: null };
const testOf = (entry) => {
  if (loaded.name !== entry.name) loaded = { name: entry.name, test: loadTest(entry) };
  return loaded.test;
};

describe('ONNX node test fixtures', () => {
  test('the folder holds exactly the tests the index says onnxruntime-node passes', () => {
    const dirs = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory());
    assert.deepEqual(dirs.map((d) => d.name).sort(), committed.map((t) => t.name).sort());
  });

  test('onnxruntime-node, driven through the harness as run() would be, passes every committed case', async () => {
    // Checks the fixtures against the oracle and the harness's run() path (feeds, names, outputs) at once.
    const failures = [];
    for (const c of all) {
      if (c.variant === 'const' && c.entry.ortConst?.status !== 'pass') continue;
      const v = await runCase(ortAsCompiler, c, testOf(c.entry));
      if (!v.pass) failures.push(`${c.key}: ${v.reason}`);
    }
    assert.deepEqual(failures, [], 'regenerate the fixtures (npm run conformance:fixtures) if onnxruntime changed');
  });

  test("the comparison rejects what ONNX's runner rejects and accepts what it accepts", () => {
    const f32 = (...v) => ({ name: 'y', dtype: 'float32', shape: [v.length], data: Float32Array.from(v) });
    const i64 = (...v) => ({ name: 'y', dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v, BigInt) });
    const same = (a, e) => compareOutputs({ y: a }, [e]);
    assert.equal(same(f32(1.0009, NaN, Infinity, -0), f32(1, NaN, Infinity, 0)), null);
    assert.match(same(f32(1.0011), f32(1)), /1\/1 values differ/); // rtol 1e-3
    assert.match(same(f32(2e-7), f32(0)), /values differ/); // atol 1e-7
    assert.match(same(f32(NaN), f32(0)), /values differ/);
    assert.match(same(f32(-Infinity), f32(Infinity)), /values differ/);
    assert.match(same(i64(1001), i64(1000)), /exact/); // integers exactly, not within rtol
    assert.match(same(f32(1), i64(1)), /dtype float32, expected int64/);
    assert.match(same({ ...f32(1, 2), shape: [1, 2] }, f32(1, 2)), /shape \[1,2\], expected \[2\]/);
    assert.match(compareOutputs({ z: f32(1) }, [f32(1)]), /output "y" missing/);
    const str = (...v) => ({ name: 'y', dtype: 'string', shape: [v.length], data: v });
    assert.match(same(str('a', 'b'), str('a', 'c')), /1\/2 values differ/);
  });

  test('the known-failures list names only cases that run', () => {
    const runnable = new Set(all.filter((c) => !c.skip).map((c) => c.key));
    const stale = Object.keys(known).filter((k) => !runnable.has(k));
    assert.deepEqual(stale, [], 'regenerate the list: npm run conformance:update');
  });
});

describe('ONNX node tests through our compiler (ratchet: test/conformance/known-failures.json)', () => {
  let api;
  const results = [];
  before(async () => {
    api = await loadApi();
  });

  for (const c of all) {
    const e = c.entry;
    const title = `${c.key} [${e.domain ? `${e.domain}.` : ''}${e.op} opset ${e.opset}]${known[c.key] ? ' (known failure)' : ''}`;
    test(title, { skip: c.skip || false }, async (ctx) => {
      const verdict = await runCase(api, c, testOf(e));
      results.push({ ...c, verdict });
      if (known[c.key]) {
        assert.ok(
          !verdict.pass,
          `${c.key} passes now: take it off the list with \`npm run conformance:update\` (it said: ${known[c.key].reason})`,
        );
        ctx.diagnostic(verdict.reason);
      } else {
        assert.ok(verdict.pass, verdict.reason);
      }
    });
  }

  test('summary', (ctx) => {
    const skipped = all.filter((c) => c.skip);
    const line = totals([...results, ...skipped]).line;
    ctx.diagnostic(line);
  });
});
