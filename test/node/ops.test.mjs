// Op conformance: every model in test/fixtures/ops/manifest.json (made by test/fixtures/make_ops.py).
//  - expect "ok": compile with our compiler, run batches of 1, 3 and 17 seeded random rows through our
//    model and through onnxruntime-node, assert every output has ORT's shape and
//    max |ours − ort| ≤ 1e-4 + 1e-4·|ort|.
//    Entries marked batchCoupled (the op mixes rows or changes dim 0) may instead be refused with a
//    CompileError naming the node; if they compile, the numbers must match ORT all the same.
//  - expect "compile-error": compile must throw CompileError listing every unsupported op with its
//    node name, opset and domain, and the message must name them.
//  - expect "refused": bad input; compile must throw CompileError with the entry's refusal code and a
//    message containing its text (and onnxruntime-node refuses it too where refusal.ort says so).
// A separate suite checks the fixtures themselves against onnxruntime-node (needs no dist/).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  FIXTURES,
  readJSON,
  loadApi,
  compileAndLoad,
  rng,
  seedOf,
  randomFloats,
  product,
  mismatch,
  maxAbsDiff,
  sameShape,
  ortSession,
  ortRun,
  checkProblems,
} from './helpers.mjs';

const OPS_DIR = path.join(FIXTURES, 'ops');
const manifest = readJSON(path.join(OPS_DIR, 'manifest.json'));
const BATCHES = [1, 3, 17];
const TOL = { atol: 1e-4, rtol: 1e-4 };

const bytesOf = (e) => readFileSync(path.join(OPS_DIR, e.file));

/** Seeded random inputs for `rows` rows: { name: { data, shape } }. */
function makeInputs(e, rows) {
  const random = rng(seedOf(`${e.name}/${rows}`));
  const inputs = {};
  for (const inp of e.inputs) {
    const shape = [rows, ...inp.shape.slice(1)];
    const [lo, hi] = inp.range ?? [-3, 3];
    inputs[inp.name] = { data: randomFloats(product(shape), random, lo, hi), shape };
  }
  return inputs;
}

const label = (e) => `${e.name} (opset ${e.opset})`;

describe('op fixtures run in onnxruntime-node (oracle sanity)', () => {
  for (const e of manifest) {
    if (e.problems?.some((p) => p.domain && p.domain !== 'ai.onnx')) continue; // ORT cannot run custom domains
    if (e.refusal?.ort === 'refuses') {
      test(`${label(e)} is refused by onnxruntime-node too`, async () => {
        await assert.rejects(async () => ortRun(await ortSession(e.file, bytesOf(e)), makeInputs(e, 1)));
      });
      continue;
    }
    test(`${label(e)} runs in onnxruntime-node with batch 1, 3, 17`, async () => {
      const session = await ortSession(e.file, bytesOf(e));
      assert.deepEqual(
        session.inputNames,
        e.inputs.map((i) => i.name),
      );
      for (const rows of BATCHES) {
        const out = await ortRun(session, makeInputs(e, rows));
        for (const [name, t] of Object.entries(out)) {
          assert.ok(t.data.length > 0 || rows === 0, `${name} is empty`);
          if (!e.batchCoupled && e.expect === 'ok') {
            assert.equal(t.dims[0], rows, `${name}: dim 0 should be the batch (${rows}), got [${t.dims}]`);
          }
          for (const v of t.data) assert.ok(Number.isFinite(Number(v)), `${name}: non-finite value ${v}`);
        }
      }
    });
  }
});

describe('op models: our compiler + runtime against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  for (const e of manifest) {
    if (e.expect === 'refused') {
      test(`${label(e)}: ${e.note} is refused (${e.refusal.code})`, async () => {
        await assert.rejects(
          () => api.compile(new Uint8Array(bytesOf(e))),
          (err) => {
            assert.ok(err instanceof api.CompileError, `expected CompileError, got ${err?.name}: ${err?.message}`);
            assert.equal(err.code, e.refusal.code, err.message);
            assert.ok(err.message.includes(e.refusal.message), `message lacks "${e.refusal.message}": ${err.message}`);
            return true;
          },
        );
      });
      continue;
    }
    if (e.expect === 'compile-error') {
      const names = e.problems.map((p) => `${p.op} "${p.node}"`).join(', ');
      test(`${label(e)}: CompileError names ${names}`, async () => {
        await assert.rejects(
          () => api.compile(new Uint8Array(bytesOf(e))),
          (err) => {
            assert.ok(err instanceof api.CompileError, `expected CompileError, got ${err?.name}: ${err?.message}`);
            assert.equal(err.code, 'unsupported-ops');
            const msg = checkProblems(err, e.problems);
            assert.equal(msg, null, msg);
            // the supported ops of the model are not reported
            for (const p of err.problems) {
              assert.ok(
                e.problems.some((q) => q.node === p.node),
                `unexpected problem ${JSON.stringify(p)}`,
              );
            }
            return true;
          },
        );
      });
      continue;
    }

    test(`${label(e)}: ${e.note}`, async (t) => {
      let compiled;
      try {
        compiled = await compileAndLoad(api, bytesOf(e));
      } catch (err) {
        if (e.batchCoupled && err instanceof api.CompileError && err.problems?.length) {
          t.diagnostic(`refused (batch-coupled op, allowed): ${err.code}: ${err.message}`);
          return;
        }
        throw err;
      }
      const { model } = compiled;
      const session = await ortSession(e.file, bytesOf(e));
      for (const rows of BATCHES) {
        await t.test(`${e.name} batch ${rows}`, async () => {
          const inputs = makeInputs(e, rows);
          const expected = await ortRun(session, inputs);
          const feed =
            e.inputs.length === 1
              ? inputs[e.inputs[0].name].data
              : Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.data]));
          const ours = model.predict(feed, rows);
          for (const [name, want] of Object.entries(expected)) {
            const got = ours[name];
            assert.ok(got, `output "${name}" missing; ours has ${Object.keys(ours)}`);
            assert.ok(
              sameShape(got.shape, want.dims),
              `output "${name}" shape [${got.shape}] != onnxruntime [${want.dims}]`,
            );
            const msg = mismatch(got.data, want.data, TOL);
            assert.equal(msg, null, `output "${name}", batch ${rows}: ${msg}`);
            t.diagnostic(`${name} batch ${rows}: max |ours-ort| = ${maxAbsDiff(got.data, want.data).toExponential(2)}`);
          }
        });
      }
    });
  }
});
