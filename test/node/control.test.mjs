// Control flow (If, Loop, Scan): the models of test/fixtures/control/ (made by make_control.py with
// onnx.helper) on every case of their manifest, through our compiler's run() against onnxruntime-node on
// the same inputs: outputs' names, dtypes, shapes (which differ from case to case) and values.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, readJSON, loadApi, mismatch, ort } from './helpers.mjs';

const DIR = path.join(FIXTURES, 'control');
const manifest = readJSON(path.join(DIR, 'manifest.json'));
const ARRAYS = { float32: Float32Array, int64: BigInt64Array, bool: Uint8Array };

const typed = (t) =>
  t.dtype === 'int64' ? BigInt64Array.from(t.data.map(BigInt)) : ARRAYS[t.dtype].from(t.data.map(Number));

let api;
before(async () => {
  api = await loadApi();
});

describe('control flow against onnxruntime-node', () => {
  for (const m of manifest) {
    test(`${m.name}: ${m.note}`, async (t) => {
      const bytes = new Uint8Array(readFileSync(path.join(DIR, m.file)));
      const { wasm } = await api.compile(bytes, m.compile);
      const model = await api.loadModel(wasm);
      const session = await ort.InferenceSession.create(bytes);
      for (const c of m.cases) {
        const feeds = Object.fromEntries(
          Object.entries(c.inputs).map(([k, v]) => [k, { data: typed(v), shape: v.shape }]),
        );
        const want = await session.run(
          Object.fromEntries(
            Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(c.inputs[k].dtype, v.data, v.shape)]),
          ),
        );
        const got = model.run(feeds);
        for (const [name, w] of Object.entries(want)) {
          const g = got[name];
          assert.ok(g, `${c.name}: output "${name}" is missing`);
          assert.deepEqual(g.shape, Array.from(w.dims), `${c.name}: "${name}" shape`);
          assert.equal(g.dtype, w.type, `${c.name}: "${name}" dtype`);
          const msg = mismatch(g.data, w.data, { atol: 1e-6, rtol: 1e-5 });
          assert.equal(msg, null, `${c.name}: "${name}" ${msg}`);
        }
        t.diagnostic(
          `${c.name}: ${Object.entries(got)
            .map(([k, v]) => `${k} [${v.shape}]`)
            .join(', ')}`,
        );
      }
    });
  }
});

describe('control flow: errors and folding', () => {
  const file = (name) => new Uint8Array(readFileSync(path.join(DIR, `${name}.onnx`)));

  test('an If on an input fixed with --const keeps only the branch taken (no control in the module)', async () => {
    for (const c of [true, false]) {
      const { meta } = await api.compile(file('if_bool_input'), { const: { c } });
      assert.deepEqual(
        meta.inputs.map((i) => i.name),
        ['x'],
      );
      assert.ok(!meta.kernels.some((k) => k === 'copy'), `no branch copies: ${meta.kernels}`);
      const both = await api.compile(file('if_bool_input'), {});
      assert.ok(both.meta.kernels.includes('unary_relu') && both.meta.kernels.some((k) => k.includes('neg')));
      assert.ok(
        c ? meta.kernels.includes('unary_relu') : !meta.kernels.includes('unary_relu'),
        `${c}: ${meta.kernels}`,
      );
    }
  });

  test('a Loop beyond its iteration bound fails with shape-out-of-bounds naming the --dim, and the model keeps working', async () => {
    const { wasm } = await api.compile(file('loop_trip_count'), { dims: { 'Loop_2.iterations': '..4' } });
    const model = await api.loadModel(wasm);
    const feed = (m) => ({
      x: { data: Float32Array.of(1, 2, 3), shape: [3] },
      M: { data: BigInt64Array.of(BigInt(m)), shape: [] },
    });
    assert.throws(
      () => model.run(feed(5)),
      (err) =>
        err.code === 'shape-out-of-bounds' && /Loop_2\.iterations/.test(err.message) && /--dim/.test(err.message),
    );
    const ok = model.run(feed(4));
    assert.deepEqual(ok.partial.shape, [4, 3]);
    assert.deepEqual(Array.from(ok.s.data), [6, 12, 18]);
  });

  test('a Loop with neither a trip count nor a condition is refused at compile time', async () => {
    const m = (await import('onnx-proto')).default.onnx.ModelProto.decode(file('loop_condition'));
    const loop = m.graph.node.find((n) => n.opType === 'Loop');
    loop.input[0] = '';
    loop.input[1] = '';
    const bytes = (await import('onnx-proto')).default.onnx.ModelProto.encode(m).finish();
    await assert.rejects(
      api.compile(bytes, {}),
      (err) => err.code === 'invalid-graph' && /never end/.test(err.message),
    );
  });
});

describe('control flow: an If whose branches differ in rank', () => {
  const file = (name) => new Uint8Array(readFileSync(path.join(DIR, `${name}.onnx`)));
  const x = (n, t) => ({ x: { data: Float32Array.from({ length: n * t }, (_, i) => i - 2), shape: [n, t] } });

  test('is compiled for the branch what follows takes; a call taking the other fails naming the If, as onnxruntime fails too', async () => {
    for (const [name, taken] of [
      ['if_rank_squeeze', 'then'],
      ['if_rank_squeeze_else', 'else'],
    ]) {
      const { wasm, meta } = await api.compile(file(name), {});
      assert.ok(
        meta.checks.some((m) => m.includes(`compiled for its ${taken} branch`)),
        `${name}: ${meta.checks.join('; ')}`,
      );
      const model = await api.loadModel(wasm);
      assert.throws(
        () => model.run(x(2, 3)),
        (err) =>
          err.code === 'shape-mismatch' &&
          err.message.includes('If "squeeze_if"') &&
          err.message.includes(`compiled for its ${taken} branch`),
      );
      const session = await ort.InferenceSession.create(file(name));
      await assert.rejects(session.run({ x: new ort.Tensor('float32', new Float32Array(6), [2, 3]) }));
      // the model keeps working after the refused call
      const got = model.run(x(2, 1));
      assert.deepEqual(got.z.shape, [5]);
      assert.deepEqual(Array.from(got.z.data), [-2, -1, 0.5, -1.5, 2]);
    }
  });

  test('when what follows takes neither branch, a CompileError names the If and the output', async () => {
    const { onnx } = (await import('onnx-proto')).default;
    const m = onnx.ModelProto.decode(file('if_rank_squeeze'));
    const tail = m.graph.node.find((n) => n.output[0] === 'tail').attribute[0].t;
    tail.dims = [1, 1, 3];
    await assert.rejects(
      api.compile(onnx.ModelProto.encode(m).finish(), {}),
      (err) =>
        err.name === 'CompileError' &&
        err.problems.some(
          (p) =>
            p.op === 'If' &&
            p.node === 'squeeze_if' &&
            /output 0 has rank 1 in the then branch and 2 in the else branch/.test(p.message) &&
            /--dim/.test(p.message),
        ) &&
        // and what fails after it with the then branch chosen
        err.problems.some((p) => p.op === 'Concat'),
    );
  });
});

describe('control flow: Scan at opset 8', () => {
  const file = (name) => new Uint8Array(readFileSync(path.join(DIR, `${name}.onnx`)));
  const feeds = (b, t) => ({
    s0: { data: new Float32Array(b * 2), shape: [b, 2] },
    x: { data: new Float32Array(b * t * 2).fill(1), shape: [b, t, 2] },
    y: { data: new Float32Array(b * t * 2).fill(2), shape: [b, t, 2] },
  });

  test('sequence_lens shorter than the sequence is refused at run time (never a partial scan), and the model keeps working', async () => {
    const model = await api.loadModel((await api.compile(file('scan8_full_lengths'), {})).wasm);
    assert.throws(
      () => model.run(feeds(2, 4)),
      (err) => err.code === 'shape-mismatch' && /sequence_lens must be the full sequence length/.test(err.message),
    );
    const ok = model.run(feeds(2, 3));
    assert.deepEqual(ok.sums.shape, [2, 3, 2]);
    assert.deepEqual(Array.from(ok.total.data), [6, 6, 6, 6]);
  });

  test('sequence_lens computed at run time is a CompileError naming the Scan', async () => {
    const { onnx } = (await import('onnx-proto')).default;
    const m = onnx.ModelProto.decode(file('scan8_full_lengths'));
    const lens = m.graph.initializer.find((t) => t.name === 'lens');
    m.graph.initializer = m.graph.initializer.filter((t) => t !== lens);
    m.graph.input.push(
      onnx.ValueInfoProto.create({
        name: 'lens',
        type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 2 }] } } },
      }),
    );
    await assert.rejects(
      api.compile(onnx.ModelProto.encode(m).finish(), {}),
      (err) =>
        err.name === 'CompileError' &&
        err.problems.some((p) => p.op === 'Scan' && /sequence_lens computed at run time/.test(p.message)),
    );
  });
});
