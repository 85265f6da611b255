// Compiler fuzz: 1 000+ mutated ONNX files made from the committed fixtures (truncation, bit flips, byte
// overwrites, and protobuf-level mutations: wrong element types, data lengths, negative or huge dims,
// missing/duplicate names, cycles, dangling inputs, unknown attribute types, wrong opset/domain, empty
// graphs, huge repeated fields). Each must end in a CompileError — or compile into a valid module when the
// mutation happened to be harmless — never another exception, a crash, or a hang.
//
// Compiles run in a pool of worker threads with a per-case time limit (a hang is killed and reported)
// and a heap limit (running out of memory is reported, not fatal to the test). Every case is made from its
// own seed, so a failure reproduces from the printed line:
//   FUZZ_SEED=<base> FUZZ_ONLY=<case> node --test test/node/fuzz.test.mjs
// FUZZ_CASES (default 1200) and FUZZ_SEED (default fixed) widen or vary the search.
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { rng } from './rng.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { onnx } = onnxProto;

if (!isMainThread) {
  // Worker: compile whatever bytes arrive, answer with how it ended.
  const { compile, CompileError } = await import(path.join(ROOT, 'dist/compiler/index.js'));
  const kernels = new Uint8Array(readFileSync(path.join(ROOT, 'dist/kernels.wasm')));
  parentPort.on('message', async ({ id, bytes }) => {
    let result;
    try {
      const { wasm, meta } = await compile(bytes, { kernels });
      // A success must be a real model: a valid module within wasm's memory limits.
      const valid = WebAssembly.validate(wasm);
      result =
        valid && meta.memoryBytes <= 2 ** 31
          ? { kind: 'ok' }
          : { kind: 'bad-output', message: `valid=${valid} memoryBytes=${meta.memoryBytes}` };
    } catch (err) {
      result =
        // 'internal' is the compiler's net for exceptions it did not expect: a bug to fix with a real check.
        err instanceof CompileError && err.code !== 'internal'
          ? { kind: 'compile-error', code: err.code, message: err.message }
          : err instanceof CompileError
            ? {
                kind: 'internal',
                name: 'CompileError(internal)',
                message: err.message.split('\n').slice(0, 3).join(' | '),
              }
            : {
                kind: 'other',
                name: err?.constructor?.name ?? typeof err,
                message: String(err?.message ?? err),
                stack: String(err?.stack ?? ''),
              };
    }
    parentPort.postMessage({ id, ...result });
  });
} else {
  const { test } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;

  const CASES = Number(process.env.FUZZ_CASES ?? 1200);
  const BASE = Number(process.env.FUZZ_SEED ?? 0x5eed);
  const ONLY = process.env.FUZZ_ONLY !== undefined ? Number(process.env.FUZZ_ONLY) : null;
  const TIMEOUT_MS = 10_000;
  const WORKERS = 2;
  const HEAP_MB = 512;

  // Small sources, so 1 000+ compiles fit in about a minute: every small trained model and a spread of
  // single-op models (sorted by name, so the set is the same on every machine).
  const pick = (dir, maxBytes) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.onnx'))
      .sort()
      .map((f) => path.join(dir, f))
      .filter((f) => statSync(path.join(ROOT, f)).size <= maxBytes);
  const opFiles = pick('test/fixtures/ops', 1500);
  // Control flow (If, Loop, Scan with their subgraphs) and symbolic shapes (PyTorch exports with named
  // dimensions) are sources too.
  const SOURCES = [
    ...pick('test/fixtures/models', 2500),
    ...opFiles.filter((_, i) => i % 3 === 0),
    ...pick('test/fixtures/control', 4000),
    ...pick('test/fixtures/shapes', 60000),
    // 3-D windows, and the node tests of the ops with the most attributes to break (n-gram pools, EyeLike's
    // k and dtype, training BatchNorm's momentum, 3-D pools and transposed convolutions).
    ...pick('test/fixtures/conv3d', 20000),
    ...[
      'tfidfvectorizer_tf_uniandbigrams_skip5',
      'tfidfvectorizer_tf_batch_onlybigrams_skip5',
      'eyelike_populate_off_main_diagonal',
      'batchnorm_example_training_mode',
      'averagepool_3d_default',
      'convtranspose_3d',
    ].map((name) => `test/fixtures/onnx-node/test_${name}/model.onnx`),
  ].map((file) => ({
    file,
    bytes: new Uint8Array(readFileSync(path.join(ROOT, file))),
  }));

  const HUGE = [2 ** 40, 2 ** 31, 2 ** 32 + 1, -1, -(2 ** 40), 0, 1e15, 65536 * 65536];
  const clone = (type, m) => type.decode(type.encode(m).finish());

  /** Protobuf-level mutations: each gets the decoded model and the case's PRNG, returns a description. */
  const MUTATIONS = {
    'initializer data type'(m, r, one) {
      const t = one(m.graph.initializer);
      if (!t) return null;
      const to = one([0, 2, 3, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 99, -3]);
      t.dataType = to;
      return `initializer "${t.name}" dataType → ${to}`;
    },
    'raw_data length'(m, r, one) {
      const t = one(m.graph.initializer.filter((t) => t.dataType !== 8));
      if (!t) return null;
      const n = t.rawData?.length || t.floatData?.length * 4 || 16;
      const len = one([0, 1, 3, n - 1, n + 1, n >> 1, n * 2]);
      t.rawData = new Uint8Array(Math.max(0, len)).map(() => (r() * 256) | 0);
      t.floatData = [];
      t.int64Data = [];
      t.int32Data = [];
      t.doubleData = [];
      return `initializer "${t.name}" raw_data ${len} bytes for dims [${t.dims}]`;
    },
    'typed data length'(m, r, one) {
      const t = one(m.graph.initializer.filter((t) => t.dataType === 1 || t.dataType === 7));
      if (!t) return null;
      const values = Array.from({ length: one([0, 1, 7, 100]) }, () => r() * 10);
      t.rawData = new Uint8Array();
      if (t.dataType === 1) t.floatData = values;
      else t.int64Data = values.map(Math.round);
      return `initializer "${t.name}" typed data of ${values.length} values for dims [${t.dims}]`;
    },
    'initializer dims'(m, r, one) {
      const t = one(m.graph.initializer);
      if (!t) return null;
      const d = one(HUGE);
      if (t.dims.length && r() < 0.7) t.dims[(r() * t.dims.length) | 0] = d;
      else t.dims = [...t.dims, d];
      return `initializer "${t.name}" dims → [${t.dims}]`;
    },
    'input dims'(m, r, one) {
      const v = one([...m.graph.input, ...m.graph.output]);
      const dims = v?.type?.tensorType?.shape?.dim;
      if (!dims?.length) return null;
      const d = one(HUGE);
      const at = (r() * dims.length) | 0;
      dims[at] = onnx.TensorShapeProto.Dimension.fromObject({ dimValue: d });
      return `value "${v.name}" dim ${at} → ${d}`;
    },
    'input rank'(m, r, one) {
      const v = one(m.graph.input);
      const shape = v?.type?.tensorType?.shape;
      if (!shape) return null;
      const n = one([0, 1, 7, 40, 5000]);
      shape.dim = Array.from({ length: n }, () =>
        onnx.TensorShapeProto.Dimension.fromObject({ dimValue: 1 + ((r() * 3) | 0) }),
      );
      return `input "${v.name}" rank → ${n}`;
    },
    'input element type'(m, r, one) {
      const v = one([...m.graph.input, ...m.graph.output]);
      if (!v?.type?.tensorType) return null;
      v.type.tensorType.elemType = one([0, 2, 6, 7, 8, 9, 10, 11, 16, 99]);
      return `value "${v.name}" elemType → ${v.type.tensorType.elemType}`;
    },
    'missing name'(m, r, one) {
      const all = [
        ...m.graph.node.flatMap((n) =>
          [n.input, n.output].map((list) => ({
            list,
            what: `node "${n.name}" ${list === n.input ? 'input' : 'output'}`,
          })),
        ),
      ].filter((x) => x.list.length);
      const pickList = one(all);
      if (r() < 0.3 && m.graph.initializer.length) {
        const t = one(m.graph.initializer);
        t.name = '';
        return 'an initializer loses its name';
      }
      if (r() < 0.2 && m.graph.input.length) {
        one(m.graph.input).name = '';
        return 'a graph input loses its name';
      }
      if (!pickList) return null;
      pickList.list[(r() * pickList.list.length) | 0] = '';
      return `${pickList.what} name → ''`;
    },
    'duplicate name'(m, r, one) {
      const n = one(m.graph.node);
      const other = one(m.graph.node);
      if (!n || !other || !n.output.length || !other.output.length) return null;
      const choice = r();
      if (choice < 0.4) {
        other.output[0] = n.output[0];
        return `nodes "${n.name}" and "${other.name}" both write "${n.output[0]}"`;
      }
      if (choice < 0.6 && m.graph.initializer.length) {
        const t = one(m.graph.initializer);
        n.output[0] = t.name;
        return `node "${n.name}" writes initializer "${t.name}"`;
      }
      if (choice < 0.8 && m.graph.input.length) {
        const i = one(m.graph.input);
        n.output[0] = i.name;
        return `node "${n.name}" writes graph input "${i.name}"`;
      }
      m.graph.node.push(clone(onnx.NodeProto, n));
      return `node "${n.name}" appears twice`;
    },
    cycle(m, r) {
      const nodes = m.graph.node;
      if (!nodes.length) return null;
      const i = (r() * nodes.length) | 0;
      const j = i + ((r() * (nodes.length - i)) | 0); // j ≥ i: a later node (or the node itself)
      if (!nodes[i].input.length || !nodes[j].output.length) return null;
      const at = (r() * nodes[i].input.length) | 0;
      nodes[i].input[at] = nodes[j].output[0];
      return `node ${i} "${nodes[i].name}" input ${at} ← output of node ${j} "${nodes[j].name}"`;
    },
    'dangling input'(m, r, one) {
      const n = one(m.graph.node);
      if (!n) return null;
      if (!n.input.length || r() < 0.3) n.input.push('nowhere');
      else n.input[(r() * n.input.length) | 0] = 'nowhere';
      if (r() < 0.3) m.graph.output.push(onnx.ValueInfoProto.fromObject({ name: 'also_nowhere' }));
      return `node "${n.name}" reads "nowhere"`;
    },
    'attribute type'(m, r, one) {
      const n = one(m.graph.node.filter((n) => n.attribute.length));
      if (!n) return null;
      const a = one(n.attribute);
      const to = one([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 99]);
      a.type = to;
      return `node "${n.name}" attribute "${a.name}" type → ${to}`;
    },
    'attribute value'(m, r, one) {
      const n = one(m.graph.node.filter((n) => n.attribute.length));
      if (!n) return null;
      const a = one(n.attribute);
      const v = one([0, -1, -(2 ** 31), 2 ** 31, 2 ** 40, 1e9, 3, 100]);
      if (a.ints?.length) a.ints[(r() * a.ints.length) | 0] = v;
      else if (a.floats?.length) a.floats[(r() * a.floats.length) | 0] = one([NaN, Infinity, -1e30, 0]);
      else if (a.type === 1) a.f = one([NaN, Infinity, -Infinity, 0, -1]);
      else if (a.type === 3) a.s = new TextEncoder().encode(one(['', 'BOGUS', 'x'.repeat(10000)]));
      else if (a.type === 4 && a.t) a.t.dims = [...(a.t.dims ?? []), v];
      else a.i = v;
      return `node "${n.name}" attribute "${a.name}" value → ${v}`;
    },
    'attribute list'(m, r, one) {
      const n = one(m.graph.node);
      if (!n) return null;
      const name = one([
        'axes',
        'perm',
        'kernel_shape',
        'strides',
        'pads',
        'dilations',
        'shape',
        'nodes_treeids',
        'classlabels_int64s',
        'ngram_counts',
        'ngram_indexes',
        'pool_int64s',
        'output_padding',
      ]);
      const len = one([0, 1, 9, 100000]);
      n.attribute.push(
        onnx.AttributeProto.fromObject({ name, type: 7, ints: Array.from({ length: len }, () => ((r() * 7) | 0) - 2) }),
      );
      return `node "${n.name}" gets attribute ${name} with ${len} ints`;
    },
    opset(m, r, one) {
      const o = one(m.opsetImport);
      if (!o) return null;
      o.version = one([0, 1, 6, 22, 99, -1, 2 ** 40]);
      if (r() < 0.3) o.domain = one(['com.example', 'ai.onnx.ml', '', 'ai.onnx']);
      if (r() < 0.2) m.opsetImport = [];
      return `opset import → ${o.domain || 'ai.onnx'} ${o.version} (${m.opsetImport.length} imports)`;
    },
    domain(m, r, one) {
      const n = one(m.graph.node);
      if (!n) return null;
      n.domain = one(['com.microsoft', 'ai.onnx.ml', 'ai.onnx', 'x'.repeat(300)]);
      return `node "${n.name}" domain → ${n.domain.slice(0, 20)}`;
    },
    'op type'(m, r, one) {
      const n = one(m.graph.node);
      if (!n) return null;
      n.opType = one([
        'Conv',
        'Gemm',
        'MatMul',
        'Reshape',
        'Softmax',
        'Transpose',
        'Gather',
        'Concat',
        'Slice',
        'Add',
        'TreeEnsembleClassifier',
        'ZipMap',
        'Loop',
        'EyeLike',
        'TfIdfVectorizer',
        'BatchNormalization',
        'MaxPool',
        'ConvTranspose',
        '',
        'Nope',
      ]);
      return `node "${n.name}" op → ${n.opType}`;
    },
    'empty graph'(m, r, one) {
      const what = one(['node', 'input', 'output', 'initializer', 'all']);
      if (what === 'all') m.graph = onnx.GraphProto.fromObject({});
      else m.graph[what] = [];
      return `graph ${what} emptied`;
    },
    'drop node'(m, r) {
      if (!m.graph.node.length) return null;
      const [n] = m.graph.node.splice((r() * m.graph.node.length) | 0, 1);
      return `node "${n.name}" removed`;
    },
    'many nodes'(m, r, one) {
      const v = one(m.graph.input);
      if (!v) return null;
      const n = one([1000, 10000]); // long graphs must stay fast (planning was once quadratic)
      let prev = v.name;
      const added = Array.from({ length: n }, (_, i) => {
        const node = onnx.NodeProto.fromObject({
          opType: one(['Identity', 'Relu', 'Neg']),
          input: [prev],
          output: [`chain_${i}`],
          name: `chain_${i}`,
        });
        prev = `chain_${i}`;
        return node;
      });
      m.graph.node.unshift(...added);
      m.graph.output.push(onnx.ValueInfoProto.fromObject({ name: prev, type: v.type }));
      return `chain of ${n} nodes on "${v.name}"`;
    },
    'many initializers'(m, r, one) {
      const n = one([1000, 50000]);
      for (let i = 0; i < n; i++)
        m.graph.initializer.push(
          onnx.TensorProto.fromObject({ name: `extra_${i}`, dataType: 1, dims: [1], floatData: [i] }),
        );
      return `${n} unused initializers`;
    },
    'output is input'(m, r, one) {
      const i = one(m.graph.input);
      if (!i) return null;
      m.graph.output = [onnx.ValueInfoProto.fromObject({ name: i.name, type: i.type })];
      return `graph output is input "${i.name}"`;
    },
    'subgraph attribute'(m, r, one) {
      const n = one(m.graph.node);
      if (!n) return null;
      n.attribute.push(
        onnx.AttributeProto.fromObject({ name: 'body', type: 5, g: r() < 0.5 ? {} : clone(onnx.GraphProto, m.graph) }),
      );
      return `node "${n.name}" gets a graph attribute`;
    },
  };
  /** Every graph a model's nodes carry (If branches, Loop and Scan bodies), nested ones too. */
  const subgraphs = (g) =>
    (g.node ?? []).flatMap((n) => (n.attribute ?? []).filter((a) => a.g).flatMap((a) => [a.g, ...subgraphs(a.g)]));
  const ifNodes = (g) => [g, ...subgraphs(g)].flatMap((x) => (x.node ?? []).filter((n) => n.opType === 'If'));
  Object.assign(MUTATIONS, {
    // Any other mutation, applied to a branch or body instead of the main graph.
    'inside a subgraph'(m, r, one) {
      const g = one(subgraphs(m.graph));
      if (!g) return null;
      const name = one(Object.keys(MUTATIONS).filter((k) => k !== 'inside a subgraph'));
      const what = MUTATIONS[name]({ ...m, graph: g }, r, one);
      return what && `in subgraph "${g.name}": ${name}: ${what}`;
    },
    'subgraph signature'(m, r, one) {
      const g = one(subgraphs(m.graph));
      if (!g) return null;
      const change = one([
        'drop an output',
        'drop an input',
        'add an input',
        'duplicate an output',
        'rename an output',
      ]);
      if (change === 'drop an output') g.output.pop();
      else if (change === 'drop an input') g.input.pop();
      else if (change === 'add an input')
        g.input.push(onnx.ValueInfoProto.fromObject({ name: 'extra_in', type: g.output[0]?.type }));
      else if (change === 'duplicate an output' && g.output[0]) g.output.push(g.output[0]);
      else if (g.output[0]) g.output[0] = onnx.ValueInfoProto.fromObject({ ...g.output[0], name: 'nowhere' });
      return `subgraph "${g.name}": ${change}`;
    },
    // An If whose branches then differ in rank (the compiler chooses a branch for what follows, or says
    // neither works), or whose branches or condition are swapped for others.
    'If branch rank'(m, r, one) {
      const n = one(ifNodes(m.graph));
      if (!n) return null;
      const a = one(n.attribute.filter((x) => x.g));
      const out = a?.g.output[0];
      if (!out) return null;
      const axis = one([0, 1, -1]);
      a.g.node.push(
        onnx.NodeProto.fromObject({
          opType: 'Flatten',
          input: [out.name],
          output: ['flat_out'],
          name: 'flat',
          attribute: [{ name: 'axis', type: 2, i: axis }],
        }),
      );
      a.g.output[0] = onnx.ValueInfoProto.fromObject({ name: 'flat_out', type: out.type });
      return `If "${n.name}" ${a.name} output 0 flattened at axis ${axis}`;
    },
    'If swapped'(m, r, one) {
      const n = one(ifNodes(m.graph));
      if (!n) return null;
      const change = one(['branches', 'condition', 'one branch twice']);
      const [t, e] = ['then_branch', 'else_branch'].map((k) => n.attribute.find((x) => x.name === k));
      if (change === 'branches' && t && e) [t.g, e.g] = [e.g, t.g];
      else if (change === 'one branch twice' && t && e) e.g = clone(onnx.GraphProto, t.g);
      else n.input[0] = one([...m.graph.input.map((i) => i.name), ...m.graph.node.flatMap((x) => x.output)]) ?? '';
      return `If "${n.name}": ${change} swapped`;
    },
  });
  const MUTATION_NAMES = Object.keys(MUTATIONS);

  /** Build case i: pick a source and a mutation from its own seed. */
  function makeCase(i) {
    const seed = (BASE + i * 0x9e3779b1) >>> 0;
    const r = rng(seed);
    const one = (list) => (list && list.length ? list[(r() * list.length) | 0] : undefined);
    const src = one(SOURCES);
    const bytes = src.bytes;
    const kind = r();
    const steps = [];
    let out;
    if (kind < 0.15) {
      const cut = (r() * bytes.length) | 0;
      out = bytes.slice(0, cut);
      steps.push(`truncate at ${cut}/${bytes.length}`);
    } else if (kind < 0.3) {
      out = bytes.slice();
      const flips = 1 + ((r() * 8) | 0);
      for (let k = 0; k < flips; k++) {
        const at = (r() * out.length) | 0;
        const bit = (r() * 8) | 0;
        out[at] ^= 1 << bit;
        steps.push(`flip byte ${at} bit ${bit}`);
      }
    } else if (kind < 0.4) {
      out = bytes.slice();
      const n = 1 + ((r() * 6) | 0);
      for (let k = 0; k < n; k++) {
        const at = (r() * out.length) | 0;
        const v = one([0x00, 0xff, 0x80, 0x7f, (r() * 256) | 0]);
        out[at] = v;
        steps.push(`byte ${at} = 0x${v.toString(16)}`);
      }
    } else {
      const m = onnx.ModelProto.decode(bytes);
      const count = 1 + (r() < 0.3 ? 1 : 0) + (r() < 0.1 ? 1 : 0);
      for (let k = 0; k < count; k++) {
        // Try mutations until one applies to this model.
        for (let tries = 0; tries < 10; tries++) {
          const name = one(MUTATION_NAMES);
          const what = m.graph ? MUTATIONS[name](m, r, one) : null;
          if (what) {
            steps.push(`${name}: ${what}`);
            break;
          }
        }
      }
      out = onnx.ModelProto.encode(m).finish();
    }
    return { i, seed, source: src.file, mutation: steps.join('; '), bytes: out };
  }

  /** Run every case in a pool of workers; a case over its time limit (or a dead worker) is a failure. */
  async function runAll(cases) {
    const results = new Array(cases.length);
    let next = 0;
    const runWorker = () =>
      new Promise((resolve) => {
        let worker;
        let current = -1;
        let timer;
        const spawn = () => {
          worker = new Worker(new URL(import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
          worker.on('message', (msg) => {
            clearTimeout(timer);
            results[msg.id] = msg;
            feed();
          });
          worker.on('error', (err) => {
            clearTimeout(timer);
            if (current >= 0 && !results[current])
              results[current] = { id: current, kind: 'crash', name: err.code ?? err.name, message: err.message };
            spawn();
            feed();
          });
        };
        const feed = () => {
          if (next >= cases.length) {
            worker.terminate().then(resolve);
            return;
          }
          current = next++;
          const c = cases[current];
          timer = setTimeout(() => {
            results[c.index] = { id: c.index, kind: 'hang', message: `no answer within ${TIMEOUT_MS} ms` };
            worker.removeAllListeners();
            worker.terminate();
            spawn();
            feed();
          }, TIMEOUT_MS);
          worker.postMessage({ id: c.index, bytes: c.bytes });
        };
        spawn();
        feed();
      });
    await Promise.all(Array.from({ length: Math.min(WORKERS, cases.length) }, runWorker));
    return results;
  }

  test('a model whose planned memory exceeds what WebAssembly can hold is a CompileError(too-large)', async () => {
    // x [N,1] → Expand to [N, 2^28] (1 GiB a row) → y·2 and y + y·2: two such tensors alive at once is
    // more than the 2 GiB a model may plan, though each is within the per-tensor limit.
    const { compile, CompileError } = await import(path.join(ROOT, 'dist/compiler/index.js'));
    const f32 = (name, dims) => ({
      name,
      type: {
        tensorType: {
          elemType: 1,
          shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
        },
      },
    });
    const model = onnx.ModelProto.encode(
      onnx.ModelProto.fromObject({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 13 }],
        graph: {
          name: 'big',
          input: [f32('x', ['N', 1])],
          output: [f32('w', ['N', 2 ** 28])],
          initializer: [
            { name: 'shape', dataType: 7, dims: [2], int64Data: [1, 2 ** 28] },
            { name: 'two', dataType: 1, dims: [], floatData: [2] },
          ],
          node: [
            { opType: 'Expand', input: ['x', 'shape'], output: ['y'], name: 'expand' },
            { opType: 'Mul', input: ['y', 'two'], output: ['z'], name: 'mul' },
            { opType: 'Add', input: ['y', 'z'], output: ['w'], name: 'add' },
          ],
        },
      }),
    ).finish();
    await assert.rejects(
      () => compile(model),
      (err) => {
        assert.ok(err instanceof CompileError, `${err?.name}: ${err?.message}`);
        assert.equal(err.code, 'too-large', err.message);
        assert.match(err.message, /MiB of working memory/);
        return true;
      },
    );
  });

  test(
    `compiler fuzz: ${ONLY ?? CASES} mutated ONNX files each end in CompileError or a valid model`,
    { timeout: 600_000 },
    async () => {
      const started = performance.now();
      const cases = (ONLY !== null ? [makeCase(ONLY)] : Array.from({ length: CASES }, (_, i) => makeCase(i))).map(
        (c, index) => ({ ...c, index }),
      );
      const results = await runAll(cases);
      const tally = {};
      const failures = [];
      results.forEach((res, k) => {
        const key = res.kind === 'compile-error' ? `CompileError(${res.code})` : res.kind;
        tally[key] = (tally[key] ?? 0) + 1;
        if (res.kind !== 'ok' && res.kind !== 'compile-error') failures.push({ c: cases[k], res });
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `fuzz: ${cases.length} cases from ${SOURCES.length} sources in ${seconds} s (seed ${BASE}): ${JSON.stringify(tally)}`,
      );
      for (const { c, res } of failures.slice(0, 40)) {
        console.log(
          `FAIL case ${c.i} (FUZZ_SEED=${BASE} FUZZ_ONLY=${c.i}) ${c.source} [${c.mutation}] → ${res.kind} ${res.name ?? ''}: ${res.message.split('\n')[0].slice(0, 300)}`,
        );
        if (res.stack) console.log(res.stack.split('\n').slice(1, 5).join('\n'));
      }
      // Error messages must say what is wrong; an empty or "undefined" message helps nobody (the op IsNaN is a name).
      const vague = results.filter(
        (res) =>
          res.kind === 'compile-error' &&
          (!res.message || /undefined|\bNaN\b|\[object/.test(res.message.split('\n')[0])),
      );
      for (const res of vague.slice(0, 10))
        console.log(
          `VAGUE case ${cases[res.id].i} ${cases[res.id].source} [${cases[res.id].mutation}]: ${res.message.split('\n')[0]}`,
        );
      assert.equal(
        vague.length,
        0,
        `${vague.length} CompileError messages print NaN/undefined instead of saying what is wrong`,
      );
      assert.equal(
        failures.length,
        0,
        `${failures.length} of ${cases.length} cases ended in something other than a CompileError (see the lines above)`,
      );
      // Most mutations break the model: if almost all "compiled", the mutations are not reaching the compiler.
      if (ONLY === null)
        assert.ok(
          (tally['CompileError(invalid-onnx)'] ?? 0) + (tally['CompileError(invalid-graph)'] ?? 0) > cases.length / 4,
          JSON.stringify(tally),
        );
    },
  );
}
