// The LSTM, GRU and RNN op handlers (compiler/ops/recurrent.ts) on one-node models (test/fixtures/recurrent/,
// made by make_recurrent.py): compiled once with symbolic seq and batch, run through model.run() at several
// sizes (one step, a few, more than one 16-step chunk; sequence_lens shorter than seq and 0) and compared with
// onnxruntime-node on the same file. onnxruntime refuses layout 1, so a layout-1 model is compared with
// onnxruntime on its layout-0 twin (the same node and weights), inputs and outputs transposed here.
// Also: stream() over one-step calls gives the bits of one call over the whole sequence; sequence_lens
// beyond seq is a run-time bad-input error that leaves the model working; graphs ONNX or we refuse are
// CompileErrors naming the cause. ONNX's own layout-1 node tests (onnx-batchwise/, which onnxruntime refuses)
// are run against the outputs ONNX's reference computes.
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
  mismatch,
  maxAbsDiff,
  ortSession,
  ortRun,
} from './helpers.mjs';
import { readIndex, loadTest } from '../conformance/fixtures.mjs';
import { runCase } from '../conformance/harness.mjs';

const DIR = path.join(FIXTURES, 'recurrent');
const manifest = readJSON(path.join(DIR, 'manifest.json'));
const TOL = { atol: 2e-6, rtol: 2e-5 };
const bytesOf = (file) => readFileSync(path.join(DIR, file));
const product = (dims) => dims.reduce((a, b) => a * b, 1);

/** A row-major tensor's axes permuted: out dims[i] = dims[perm[i]]. */
function transpose(data, dims, perm) {
  const outDims = perm.map((p) => dims[p]);
  const strides = dims.map((_, i) => product(dims.slice(i + 1)));
  const out = new data.constructor(data.length);
  const idx = new Array(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let at = 0;
    for (let k = 0; k < perm.length; k++) at += idx[k] * strides[perm[k]];
    out[o] = data[at];
    for (let k = perm.length - 1; k >= 0 && ++idx[k] === outDims[k]; k--) idx[k] = 0;
  }
  return { data: out, dims: outDims };
}

/** An input's shape for a run: its symbolic dims filled in. */
const shapeOf = (input, run) => input.shape.map((d) => (d === 'seq' ? run.seq : d === 'batch' ? run.batch : d));

/** Seeded inputs for run k of a model: { name: { data, shape } } (sequence_lens from the run, as int32). */
function inputsFor(e, run, k) {
  const random = rng(seedOf(`${e.name}/${k}`));
  const feeds = {};
  for (const input of e.inputs) {
    const shape = shapeOf(input, run);
    if (input.role === 'sequence_lens') {
      feeds[input.name] = { data: Int32Array.from(run.lens), shape, type: 'int32' };
      continue;
    }
    const scale = input.role === 'X' ? 2 : 1;
    feeds[input.name] = {
      data: Float32Array.from({ length: product(shape) }, () => (random() * 2 - 1) * scale),
      shape,
    };
  }
  return feeds;
}

/** What onnxruntime-node computes for these inputs (layout 1: through the layout-0 twin). */
async function expected(e, feeds) {
  if (e.layout === 0) return ortRun(await ortSession(`recurrent/${e.file}`, bytesOf(e.file)), feeds);
  const twin = {};
  const batchFirst = new Set(
    e.inputs.filter((i) => ['X', 'initial_h', 'initial_c'].includes(i.role)).map((i) => i.name),
  );
  for (const [name, f] of Object.entries(feeds))
    twin[name] = batchFirst.has(name) ? { ...f, ...relayout(f.data, f.shape, [1, 0, 2]) } : f;
  const out = await ortRun(await ortSession(`recurrent/${e.twin}`, bytesOf(e.twin)), twin);
  const back = {};
  for (const [name, t] of Object.entries(out)) {
    const { data, dims } = transpose(t.data, t.dims, name === 'Y' ? [2, 0, 1, 3] : [1, 0, 2]);
    back[name] = { data, dims };
  }
  return back;
}

const relayout = (data, shape, perm) => {
  const t = transpose(data, shape, perm);
  return { data: t.data, shape: t.dims };
};

const runFeeds = (feeds) =>
  Object.fromEntries(Object.entries(feeds).map(([k, { data, shape }]) => [k, { data, shape }]));

let api;
before(async () => {
  api = await loadApi();
});

describe('recurrent op models: our compiler and run() against onnxruntime-node', () => {
  for (const e of manifest.filter((m) => m.expect === 'ok')) {
    test(`${e.name} (${e.op} opset ${e.opset}, layout ${e.layout}): ${e.note}`, async (t) => {
      const { model } = await compileAndLoad(api, bytesOf(e.file), { dims: e.dims });
      assert.deepEqual(
        model.meta.outputs.map((o) => o.name),
        e.outputs,
        'the outputs are the named ones',
      );
      for (const [k, run] of e.runs.entries()) {
        const feeds = inputsFor(e, run, k);
        const want = await expected(e, feeds);
        const got = model.run(runFeeds(feeds));
        assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
        for (const [name, w] of Object.entries(want)) {
          const label = `${name} at seq ${run.seq}, batch ${run.batch}${run.lens ? `, lens [${run.lens}]` : ''}`;
          assert.deepEqual(got[name].shape, w.dims, `${label}: shape`);
          assert.equal(got[name].dtype, 'float32');
          const m = mismatch(got[name].data, w.data, TOL);
          assert.equal(m, null, `${label}: ${m}`);
        }
        const worst = Math.max(...Object.entries(want).map(([n, w]) => maxAbsDiff(got[n].data, w.data)));
        t.diagnostic(`seq ${run.seq} batch ${run.batch}: max |ours − onnxruntime| ${worst.toExponential(1)}`);
      }
    });
  }

  test('the comparisons are not vacuous: outputs vary, and a length-0 entry gives zeros', async () => {
    const e = manifest.find((m) => m.name === 'lstm_states_lens');
    const run = e.runs[0];
    assert.equal(run.lens[2], 0);
    const want = await expected(e, inputsFor(e, run, 0));
    const H = 6;
    const yh = want.Y_h.data;
    assert.ok(
      yh.slice(2 * H, 3 * H).every((v) => v === 0),
      'Y_h of the length-0 entry is zeros',
    );
    assert.ok(Math.max(...yh) - Math.min(...yh) > 0.1, 'Y_h varies');
  });

  // Rows kept apart (meta.rows): predict() runs 7 rows as chunks of at most 5, which is only right if the
  // handler put the rows on the axes where the kernels keep batch entries apart.
  for (const name of ['lstm_layout1_only_y_h', 'lstm_stream_layout1']) {
    test(`${name}: layout 1 keeps the batch rows apart; predict() of 7 rows in chunks of 5 matches`, async () => {
      const e = manifest.find((m) => m.name === name);
      const { model, meta } = await compileAndLoad(api, bytesOf(e.file), { dims: { seq: '4', batch: '..5' } });
      assert.equal(meta.rows?.symbol, 'batch');
      assert.equal(meta.maxBatch, 5);
      const feeds = inputsFor(e, { seq: 4, batch: 7 }, 99);
      const got = model.predict(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, f.data])), 7);
      const want = await expected(e, feeds);
      for (const [out, w] of Object.entries(want)) {
        assert.deepEqual(Array.from(got[out].shape), w.dims, out);
        assert.equal(mismatch(got[out].data, w.data, TOL), null, out);
      }
    });
  }

  test('a PyTorch batch-first LSTM (layout 0 between Transposes) keeps rows apart: 9 rows in chunks of 4', async () => {
    const file = path.join(FIXTURES, 'shapes', 'lstm_tagger.onnx');
    const { model, meta } = await compileAndLoad(api, readFileSync(file), { dims: { seq: '6', batch: '..4' } });
    assert.equal(meta.rows?.symbol, 'batch');
    const random = rng(seedOf('lstm_tagger rows'));
    const x = Float32Array.from({ length: 9 * 6 * 4 }, () => random() * 2 - 1);
    const got = model.predict({ x }, 9);
    const session = await ortSession('shapes/lstm_tagger.onnx', readFileSync(file));
    const want = await ortRun(session, { x: { data: x, shape: [9, 6, 4] } });
    assert.deepEqual(Array.from(got.logits.shape), want.logits.dims);
    assert.equal(mismatch(got.logits.data, want.logits.data, TOL), null);
  });
});

describe("ONNX's layout-1 node tests (onnxruntime refuses them): ours against ONNX's reference outputs", () => {
  const BATCHWISE = path.join(DIR, 'onnx-batchwise');
  const entries = readIndex().tests.filter(
    (t) => t.name.endsWith('_batchwise') && ['LSTM', 'GRU', 'RNN'].includes(t.op),
  );
  test('the index has all three, and onnxruntime refuses them for layout 1', () => {
    assert.deepEqual(entries.map((t) => t.op).sort(), ['GRU', 'LSTM', 'RNN']);
    for (const t of entries) assert.match(t.ort.reason, /layout/);
  });
  for (const entry of entries) {
    for (const [variant, what] of [
      ['as-is', 'every operand a graph input'],
      ['const', 'weights as initializers'],
    ]) {
      test(`${entry.name} (${variant}: ${what}), at the test's exact shapes`, async () => {
        const verdict = await runCase(api, { entry, variant }, loadTest(entry, BATCHWISE));
        assert.deepEqual(verdict, { pass: true });
      });
    }
  }
});

describe('stream(): one step per call gives the bits of one call over the whole sequence', () => {
  const streams = manifest.filter((m) => m.name.endsWith('_stream') || m.name.endsWith('_stream_layout1'));
  test('there are streaming models of every op', () => {
    assert.deepEqual([...new Set(streams.map((e) => e.op))].sort(), ['GRU', 'LSTM', 'RNN']);
  });
  for (const e of streams) {
    for (const from of ['given states', 'zero states']) {
      test(`${e.name}: 37 steps of batch 3 from ${from}`, async () => {
        const { model } = await compileAndLoad(api, bytesOf(e.file), { dims: e.dims });
        const [seq, batch] = [37, 3];
        const feeds = inputsFor(e, { seq, batch }, 7);
        const states = e.inputs.filter((i) => i.role !== 'X').map((i) => i.name);
        if (from === 'zero states') for (const s of states) feeds[s].data.fill(0);
        const whole = model.run(runFeeds(feeds));
        const pairs = Object.fromEntries(states.map((s) => [s, s === 'initial_h' ? 'Y_h' : 'Y_c']));
        const stream = model.stream(pairs);
        const X = feeds.X;
        const timeAxis = e.layout === 0 ? 0 : 1;
        const yTimeAxis = e.layout === 0 ? 0 : 1;
        let last;
        for (let t = 0; t < seq; t++) {
          const step = {
            X: { data: slice(X.data, X.shape, timeAxis, t), shape: X.shape.map((d, a) => (a === timeAxis ? 1 : d)) },
          };
          if (t === 0 && from === 'given states') for (const s of states) step[s] = runFeeds(feeds)[s];
          last = stream.run(step);
          const want = slice(whole.Y.data, whole.Y.shape, yTimeAxis, t);
          assert.ok(sameBits(last.Y.data, want), `Y at step ${t} differs from the whole-sequence call`);
        }
        for (const name of Object.values(pairs))
          assert.ok(sameBits(last[name].data, whole[name].data), `${name} after the last step`);
        assert.ok(Math.max(...last.Y_h.data) - Math.min(...last.Y_h.data) > 0.05, 'the state is not degenerate');
      });
    }
  }
});

/** Index `t` of axis `axis` of a row-major tensor (the axis kept as size 1). */
function slice(data, shape, axis, t) {
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++)
    out.set(data.subarray((o * shape[axis] + t) * inner, (o * shape[axis] + t + 1) * inner), o * inner);
  return out;
}

const sameBits = (a, b) =>
  a.length === b.length &&
  new Uint32Array(a.buffer, a.byteOffset, a.length).every(
    (v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i],
  );

describe('recurrent ops: bad input', () => {
  test('sequence_lens beyond seq, or negative, is a bad-input error at run time; the model keeps working', async () => {
    const e = manifest.find((m) => m.name === 'lstm_states_lens');
    const { model } = await compileAndLoad(api, bytesOf(e.file), { dims: e.dims });
    for (const [lens, entry] of [
      [[2, 5, 1], 1],
      [[-1, 2, 3], 0],
      [[4, 4, 4], -1],
    ]) {
      const run = { seq: 4, batch: 3, lens };
      const feeds = inputsFor(e, run, 5);
      if (entry < 0) {
        const want = await expected(e, feeds);
        const got = model.run(runFeeds(feeds));
        assert.equal(mismatch(got.Y.data, want.Y.data, TOL), null, 'a valid call after the refused ones');
        continue;
      }
      assert.throws(
        () => model.run(runFeeds(feeds)),
        (err) => {
          assert.equal(err.name, 'ModelError');
          assert.equal(err.code, 'bad-input');
          assert.match(err.message, new RegExp(`LSTM "lstm_node": sequence_lens\\[${entry}\\] is outside 0\\.\\.4`));
          return true;
        },
      );
    }
  });

  test("onnxruntime refuses the same lengths (the check is the op's, not ours)", async () => {
    const e = manifest.find((m) => m.name === 'lstm_states_lens');
    const session = await ortSession(`recurrent/${e.file}`, bytesOf(e.file));
    await assert.rejects(
      () => ortRun(session, inputsFor(e, { seq: 4, batch: 3, lens: [2, 5, 1] }, 5)),
      /sequence_lens/,
    );
  });

  test('initial_h of another batch than X is a shape-mismatch', async () => {
    const e = manifest.find((m) => m.name === 'rnn_forward');
    const { model } = await compileAndLoad(api, bytesOf(e.file), { dims: e.dims });
    const feeds = runFeeds(inputsFor(e, { seq: 3, batch: 2 }, 1));
    feeds.initial_h = { data: new Float32Array(3 * 5), shape: [1, 3, 5] };
    assert.throws(
      () => model.run(feeds),
      (err) => err.code === 'shape-mismatch',
    );
  });

  for (const e of manifest.filter((m) => m.expect !== 'ok')) {
    test(`${e.name}: ${e.note} is a CompileError naming the node`, async () => {
      await assert.rejects(
        () => api.compile(new Uint8Array(bytesOf(e.file)), { dims: e.dims }),
        (err) => {
          assert.ok(err instanceof api.CompileError, `expected a CompileError, got ${err}`);
          // (Graphs ONNX rejects are NodeProblems of code invalid-graph; the CompileError reports them as
          // unsupported-ops today, so only the refusal of run-time weights pins the code.)
          if (e.expect.code) assert.equal(err.code, e.expect.code, err.message);
          const text = `${err.message} ${err.problems?.map((p) => p.message).join(' ')}`;
          for (const s of e.expect.includes) assert.ok(text.includes(s), `the message names "${s}": ${text}`);
          assert.ok(err.problems?.some((p) => p.op === e.op && p.node === `${e.op.toLowerCase()}_node`));
          return true;
        },
      );
    });
  }
});
