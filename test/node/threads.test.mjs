// Threads on a shared memory (runtime/threads/, compiler/emit/threads.ts), in Node: every fixture model
// compiled by our compiler, run once as a plain model and once as a threaded one — its memory imported as a
// shared memory of exactly the planned size, every step that can be split cut into as many slices as it has
// units (up to 16) — must give bit-identical outputs (each slice computes its outputs with the whole call's
// arithmetic). Then the same with a real second thread (a worker_threads helper taking slices beside the
// leader), and the checks a threaded model file gets at load (its one import, its memory's limits).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DIST, FIXTURES, loadApi } from './helpers.mjs';
import { readRefs, realModels, variantsOf } from './real-models.mjs';

const threadsDir = path.join(DIST, 'runtime/threads');
const { SharedMemoryRewriter, sharedMemoryFor } = await import(
  pathToFileURL(path.join(threadsDir, 'shared-module.js'))
);
const { threadedRun, endHelpers, CONTROL, CONTROL_WORDS } = await import(
  pathToFileURL(path.join(threadsDir, 'schedule.js'))
);
const { Model } = await import(pathToFileURL(path.join(DIST, 'runtime/model.js')));
const { ranges, nextShare } = await import(pathToFileURL(path.join(threadsDir, 'split.js')));

const DIR = path.join(FIXTURES, 'models');
const trained = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ id: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) }));
const inputOf = (r) => {
  const names = Object.keys(r.inputs);
  if (names.length === 1) return Float32Array.from(r.inputs[names[0]].data);
  return Object.fromEntries(names.map((n) => [n, Float32Array.from(r.inputs[n].data)]));
};
const rowsOf = (r) => Object.values(r.inputs)[0].shape[0];
const firstRow = (r) => {
  const cut = (v) => Float32Array.from(v.data.slice(0, v.data.length / v.shape[0]));
  const names = Object.keys(r.inputs);
  if (names.length === 1) return cut(r.inputs[names[0]]);
  return Object.fromEntries(names.map((n) => [n, cut(r.inputs[n])]));
};

/** The model file as the threads load it: its memory an import of a shared one. */
function sharedBytes(wasm) {
  const rewriter = new SharedMemoryRewriter();
  const parts = [...rewriter.push(wasm), ...rewriter.end()];
  assert.ok(rewriter.rewritten, 'the memory became an import');
  return Buffer.concat(parts);
}

/** A threaded instance: the rewritten module on a new shared memory, and its control block. */
async function threadedInstance(wasm, meta) {
  const module = await WebAssembly.compile(sharedBytes(wasm));
  const memory = sharedMemoryFor(meta);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  return { module, memory, exports: instance.exports, control };
}

/** A Model whose calls run phase by phase, each parallel step in slices (sliceWork 1: as many as it has units). */
const slicedModel = (meta, t, threads = 4) =>
  new Model(meta, t.exports, () => threadedRun(t.exports, t.control, threads, meta.threads.steps, 1));

/** null when every output is bit for bit the same (NaN payloads aside), else the first difference. */
function difference(a, b) {
  for (const name of Object.keys(a)) {
    const [x, y] = [a[name].data, b[name]?.data];
    if (!y) return `output ${name} missing`;
    assert.deepEqual(b[name].shape, a[name].shape, `${name} shape`);
    for (let i = 0; i < x.length; i++) {
      const same =
        typeof x[i] === 'number' ? Object.is(x[i], y[i]) || (Number.isNaN(x[i]) && Number.isNaN(y[i])) : x[i] === y[i];
      if (!same) return `${name}[${i}]: ${x[i]} whole, ${y[i]} in slices`;
    }
  }
  return null;
}

let api;
before(async () => {
  api = await loadApi();
});

describe('threaded results are bit-identical to one thread, every fixture model', () => {
  const split = [];
  for (const r of trained) {
    test(`${r.id}: predict() in slices equals predict() whole`, async () => {
      const { wasm, meta } = await api.compile(new Uint8Array(readFileSync(path.join(DIR, r.model))));
      assert.ok(meta.threads, 'meta.threads is there');
      const whole = (await api.loadModel(wasm)).predict(inputOf(r), rowsOf(r));
      const t = await threadedInstance(wasm, meta);
      const sliced = slicedModel(meta, t).predict(inputOf(r), rowsOf(r));
      assert.equal(difference(whole, sliced), null);
      // Then one row: the sizes the slices see change between calls.
      const row = firstRow(r);
      assert.equal(difference((await api.loadModel(wasm)).predict(row, 1), slicedModel(meta, t).predict(row, 1)), null);
      if (meta.threads.steps > 0) split.push(r.id);
    });
  }

  for (const m of realModels()) {
    test(`${m.folder}/${m.name}: run() in slices equals run() whole, every case`, async (t) => {
      const ref = readRefs(m.json);
      for (const variant of variantsOf(m.name, ref)) {
        let compiled;
        try {
          compiled = await api.compile(ref.bytes, variant.options);
        } catch (err) {
          if (err instanceof api.CompileError) continue; // not compiled yet (shapes-models.test.mjs tracks it)
          throw err;
        }
        const { wasm, meta } = compiled;
        const model = await api.loadModel(wasm);
        const threaded = await threadedInstance(wasm, meta);
        if (meta.threads.steps === 0) {
          // Nothing splits (a model with If, Loop or Scan runs on one thread): no slicing exports either.
          assert.equal(threaded.exports.phase, undefined, `${variant.id} has no phase export`);
          t.diagnostic(`${variant.id}: one thread`);
          continue;
        }
        const sliced = slicedModel(meta, threaded);
        const fixed = variant.fixed ?? {};
        const feeds = (inputs) => Object.fromEntries(Object.entries(inputs).filter(([k]) => !(k in fixed)));
        for (const c of variant.cases) {
          assert.equal(
            difference(model.run(feeds(c.inputs)), sliced.run(feeds(c.inputs))),
            null,
            `${variant.id} ${c.name}`,
          );
        }
        if (meta.threads.steps > 0) split.push(variant.id);
        t.diagnostic(`${variant.id}: ${meta.threads.steps} steps split`);
      }
    });
  }

  test('the suite is not vacuous: the nets split their steps', () => {
    for (const id of ['digits_mlp', 'colors_cnn', 'conv1d_net'])
      assert.ok(split.includes(id), `${id} has steps that split (${split.join(', ')})`);
    assert.ok(split.length >= 40, `${split.length} models split`);
  });
});

/** A worker_threads helper running helperLoop on `t`'s memory and control block; resolves once it waits for jobs. */
async function startHelper(t) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.schedule).then(async ({ helperLoop }) => {
      const { module, memory, control } = workerData;
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      parentPort.postMessage('ready');
      helperLoop(instance.exports, new Int32Array(control));
    });`;
  const schedule = pathToFileURL(path.join(threadsDir, 'schedule.js')).href;
  const worker = new Worker(code, {
    eval: true,
    workerData: { schedule, module: t.module, memory: t.memory, control: t.control.buffer },
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return worker;
}

describe('two threads at once on one shared memory', () => {
  const helpers = [];
  after(() => Promise.all(helpers.map((w) => w.terminate())));

  for (const id of ['colors_cnn', 'conv1d_net', 'digits_mlp', 'cancer_rf']) {
    test(`${id}: the leader and a helper thread taking slices give the one-thread result, call after call`, async () => {
      const r = trained.find((x) => x.id === id);
      const { wasm, meta } = await api.compile(new Uint8Array(readFileSync(path.join(DIR, r.model))));
      assert.ok(meta.threads.steps > 0, `${id} has steps to split`);
      const whole = (await api.loadModel(wasm)).predict(inputOf(r), rowsOf(r));
      const t = await threadedInstance(wasm, meta);
      const helper = await startHelper(t);
      helpers.push(helper);
      const model = slicedModel(meta, t, 2);
      for (let call = 0; call < 20; call++) assert.equal(difference(whole, model.predict(inputOf(r), rowsOf(r))), null);
      endHelpers(t.control);
      const code = await new Promise((resolve) => helper.once('exit', resolve));
      assert.equal(code, 0, 'the helper left its loop when told to');
    });
  }

  test('a helper that dies holding a slice fails the call with thread-failed after the stall time; nothing hangs', async () => {
    const r = trained.find((x) => x.id === 'colors_cnn');
    const { wasm, meta } = await api.compile(new Uint8Array(readFileSync(path.join(DIR, r.model))));
    const t = await threadedInstance(wasm, meta);
    // The control block's protocol (schedule.ts) by hand: claim a slice of a job as a helper does, then end.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const ctl = new Int32Array(workerData.control);
      const { JOB, TILES, NEXT } = workerData.words;
      parentPort.postMessage('ready');
      for (;;) {
        const cur = Atomics.load(ctl, NEXT);
        const open = cur >>> 16 === (Atomics.load(ctl, JOB) & 0x7fff) && (cur & 0xffff) < Atomics.load(ctl, TILES);
        if (open && Atomics.compareExchange(ctl, NEXT, cur, cur + 1) === cur) process.exit(0);
      }`;
    const dying = new Worker(code, { eval: true, workerData: { control: t.control.buffer, words: CONTROL } });
    await new Promise((resolve) => dying.once('message', resolve));
    const model = new Model(meta, t.exports, () => threadedRun(t.exports, t.control, 2, meta.threads.steps, 1, 300));
    const started = performance.now();
    let error;
    // The page's thread claims slices too: within a few calls the helper wins one and dies with it.
    for (let call = 0; call < 200 && !error; call++) {
      try {
        model.predict(inputOf(r), rowsOf(r));
      } catch (e) {
        error = e;
      }
    }
    assert.equal(error?.code, 'thread-failed', String(error));
    assert.match(error.message, /held a slice of step \d+ for 0\.3 s/);
    assert.ok(performance.now() - started < 10_000, 'the call gave up within seconds');
    await new Promise((resolve) => (dying.threadId === -1 ? resolve() : dying.once('exit', resolve)));
  });
});

describe('a threaded model file: exactly one import, its shared memory of the planned size', () => {
  let wasm;
  before(async () => {
    ({ wasm } = await api.compile(new Uint8Array(readFileSync(path.join(DIR, 'digits_mlp.onnx')))));
  });

  test('the rewritten file loads (one thread here) and predicts what the original does', async () => {
    const r = trained.find((x) => x.id === 'digits_mlp');
    const module = await WebAssembly.compile(sharedBytes(wasm));
    assert.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
    const threadedFile = await api.loadModel(sharedBytes(wasm));
    const plain = await api.loadModel(wasm);
    assert.equal(difference(plain.predict(inputOf(r), rowsOf(r)), threadedFile.predict(inputOf(r), rowsOf(r))), null);
  });

  /** The bytes of the import's limits (flags, initial, maximum) in the rewritten file. */
  const limitsAt = (bytes) => {
    const name = Buffer.from('\x03env\x06memory\x02', 'latin1');
    return bytes.indexOf(name) + name.length;
  };

  test('a larger maximum than the planned size is refused (memory-mismatch)', async () => {
    const bytes = sharedBytes(wasm);
    const at = limitsAt(bytes);
    assert.equal(bytes[at], 3, 'shared, with a maximum');
    // initial and maximum are equal LEBs: make the maximum's low byte one page more.
    const lebLength = (p) => {
      let n = 1;
      while (bytes[p + n - 1] & 0x80) n++;
      return n;
    };
    const max = at + 1 + lebLength(at + 1);
    bytes[max] = (bytes[max] & 0x80) | (((bytes[max] & 0x7f) + 1) & 0x7f);
    await assert.rejects(api.loadModel(bytes), (err) => {
      assert.equal(err.code, 'memory-mismatch');
      assert.match(err.message, /shared memory is exactly its planned size/);
      return true;
    });
  });

  test('an unshared imported memory is refused (memory-mismatch)', async () => {
    const bytes = sharedBytes(wasm);
    bytes[limitsAt(bytes)] = 1; // a maximum, not shared
    await assert.rejects(api.loadModel(bytes), (err) => {
      assert.equal(err.code, 'memory-mismatch');
      assert.match(err.message, /an unshared memory/);
      return true;
    });
  });

  test('an import under another name is refused (has-imports)', async () => {
    const bytes = sharedBytes(wasm);
    bytes.set(Buffer.from('mem0ry'), bytes.indexOf(Buffer.from('\x06memory\x02', 'latin1')) + 1);
    await assert.rejects(api.loadModel(bytes), (err) => {
      assert.equal(err.code, 'has-imports');
      assert.match(err.message, /env\.mem0ry \(memory\)/);
      return true;
    });
  });
});

describe("a batch over the page's thread and workers: the parts and the page's share", () => {
  test('the parts cover the rows in order, the first about its share, none empty', () => {
    for (const [rows, parts, first] of [
      [20000, 2, 0.5],
      [20000, 3, 0.1],
      [1003, 2, 0.9],
      [5, 4, 0.9],
      [2, 2, 0.01],
    ]) {
      const r = ranges(rows, parts, first);
      assert.equal(r.length, parts);
      assert.equal(r[0][0], 0);
      assert.equal(r[parts - 1][1], rows);
      for (let j = 1; j < parts; j++) assert.equal(r[j][0], r[j - 1][1], `part ${j} starts where ${j - 1} ends`);
      for (const [a, b] of r) assert.ok(b > a, `[${a}, ${b}) of ${rows} rows in ${parts} parts is not empty`);
      assert.ok(Math.abs(r[0][1] - rows * first) <= Math.max(1, parts), `first part ${r[0][1]} of ${rows} at ${first}`);
    }
    assert.deepEqual(ranges(10, 3), [
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
  });

  test("the page's share moves toward where both sides end together, and stays within [0.1, 0.9]", () => {
    // Equal speeds at an equal split: it stays.
    assert.equal(nextShare(0.5, 1000, 10, 1000, 1, 10), 0.5);
    // The worker took twice as long for its rows: the page should take 2/3; half the way there.
    assert.ok(Math.abs(nextShare(0.5, 1000, 10, 1000, 1, 20) - (0.5 + 2 / 3) / 2) < 1e-12);
    // Two workers, each as fast as the page: a third each.
    assert.ok(Math.abs(nextShare(1 / 3, 100, 5, 100, 2, 5) - 1 / 3) < 1e-12);
    let share = 0.5;
    for (let i = 0; i < 20; i++) share = nextShare(share, 1000 * share, 10 * share, 1000 * (1 - share), 1, 1e6);
    assert.equal(share, 0.9, 'a worker that hardly gets anything done leaves the page at most 0.9');
    assert.equal(nextShare(0.4, 10, 0, 10, 1, 5), 0.4, 'no time measured: unchanged');
  });
});
