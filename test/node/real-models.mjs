// Real-model fixtures (test/fixtures/shapes/: PyTorch exports with PyTorch's outputs; test/fixtures/pretrained/:
// models that npm packages ship, with onnxruntime-node's outputs): reading their references (the format of
// test/fixtures/refs.py), checking them in onnxruntime-node, and trying our compiler and runtime on them
// through the target API of the shapes issue:
//   compile(bytes, { dims: { NAME: 'N' | '..MAX' | 'MIN..MAX' }, const: { NAME: value } })
//   model.run({ [name]: { data: TypedArray, shape } }) -> { [name]: { dtype, shape, data } }   (int64: BigInt64Array)
//   model.stream({ [stateInput]: 'stateOutput' }).run(inputs without the state)               (state starts at zeros)
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT, FIXTURES, ort, mismatch } from './helpers.mjs';

export const STATUS_FILE = path.join(FIXTURES, 'real-models-status.json');

const ARRAYS = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array, uint8: Uint8Array };

/** One tensor of a reference file as { dtype, shape, data: TypedArray } (or { dtype, shape, topk }). */
export function readTensor(t, dir) {
  const Ctor = ARRAYS[t.dtype];
  if (!Ctor) throw new Error(`reference tensor dtype ${t.dtype} is not one the tests read`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.topk) {
    const topk = { shape: t.shape, indices: readTensor(t.topk.indices, dir), values: readTensor(t.topk.values, dir) };
    return { dtype: t.dtype, shape: t.shape, topk };
  }
  let data;
  if (t.from) {
    data = derived(t.from, t.shape, dir);
  } else if (t.bin) {
    const buf = readFileSync(path.join(dir, t.bin));
    const bytes = buf.buffer.slice(buf.byteOffset + t.offset, buf.byteOffset + t.offset + n * Ctor.BYTES_PER_ELEMENT);
    data = new Ctor(bytes);
  } else if (t.dtype === 'int64') {
    data = BigInt64Array.from(t.data, (v) => BigInt(v));
  } else {
    data = Ctor.from(t.data);
  }
  if (data.length !== n) throw new Error(`reference tensor of shape [${t.shape}] has ${data.length} values`);
  return { dtype: t.dtype, shape: t.shape, data };
}

// ---------------------------------------------------------------- inputs derived from committed media

const media = new Map();

/** 16-bit PCM samples of a mono WAV file. */
export function readWav(file) {
  if (!media.has(file)) {
    const b = readFileSync(file);
    let p = 12;
    while (p + 8 <= b.length && b.toString('latin1', p, p + 4) !== 'data') p += 8 + b.readUInt32LE(p + 4);
    if (p + 8 > b.length || b.readUInt16LE(22) !== 1 || b.readUInt16LE(34) !== 16) {
      throw new Error(`${file}: not a mono 16-bit PCM WAV file`);
    }
    const n = b.readUInt32LE(p + 4) / 2;
    media.set(
      file,
      Int16Array.from({ length: n }, (_, i) => b.readInt16LE(p + 8 + 2 * i)),
    );
  }
  return media.get(file);
}

/** { width, height, rgb: Uint8Array } of a binary PPM (P6, maxval 255) without comments. */
export function readPpm(file) {
  if (!media.has(file)) {
    const b = readFileSync(file);
    const head = b.toString('latin1', 0, 64).match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
    if (!head) throw new Error(`${file}: not a binary PPM with maxval 255`);
    const [width, height] = [Number(head[1]), Number(head[2])];
    media.set(file, {
      width,
      height,
      rgb: new Uint8Array(b.subarray(head[0].length, head[0].length + width * height * 3)),
    });
  }
  return media.get(file);
}

/**
 * Float32 input data computed from a committed file, the same way every time:
 *   { audio: 'x.wav', starts: [s, ...], length, step?, scale? }  rows of `length` samples, sample j of a row
 *       being wav[start + j * step] * scale (0 outside the file): chunks of a recording, with context
 *   { images: [{ file: 'x.ppm', rotate180? }], scale, mean, std, bgr? }  [N, 3, H, W]: (pixel * scale - mean) / std
 */
function derived(from, shape, dir) {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (from.audio) {
    const wav = readWav(path.join(dir, from.audio));
    const { starts, length, step = 1, scale = 1 } = from;
    if (n !== starts.length * length)
      throw new Error(`audio input of shape [${shape}] from ${starts.length} x ${length}`);
    starts.forEach((start, r) => {
      for (let j = 0; j < length; j++) {
        const i = start + j * step;
        out[r * length + j] = i >= 0 && i < wav.length ? wav[i] * scale : 0;
      }
    });
    return out;
  }
  const { images, scale, mean, std, bgr = false } = from;
  images.forEach((img, k) => {
    const { width, height, rgb } = readPpm(path.join(dir, img.file));
    if (shape[1] !== 3 || shape[2] !== height || shape[3] !== width || shape[0] !== images.length) {
      throw new Error(`${img.file} is ${height}x${width}: not an input of shape [${shape}]`);
    }
    for (let c = 0; c < 3; c++) {
      const src = bgr ? 2 - c : c;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const [sy, sx] = img.rotate180 ? [height - 1 - y, width - 1 - x] : [y, x];
          const v = rgb[(sy * width + sx) * 3 + src] * scale;
          out[((k * 3 + c) * height + y) * width + x] = (v - mean[c]) / std[c];
        }
      }
    }
  });
  return out;
}

const readAll = (record, dir) => Object.fromEntries(Object.entries(record).map(([k, t]) => [k, readTensor(t, dir)]));

/** A reference file with every tensor decoded; `bytes` is the ONNX model (from the fixture folder or node_modules). */
export function readRefs(jsonPath) {
  const dir = path.dirname(jsonPath);
  const ref = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const modelPath = ref.modelPath ? path.join(ROOT, ref.modelPath) : path.join(dir, ref.model);
  if (!existsSync(modelPath)) {
    throw new Error(`${modelPath} is missing: it comes from the devDependency ${ref.package?.name}; run npm install`);
  }
  return {
    ...ref,
    file: modelPath,
    bytes: new Uint8Array(readFileSync(modelPath)),
    cases: (ref.cases ?? []).map((c) => ({ ...c, inputs: readAll(c.inputs, dir), outputs: readAll(c.outputs, dir) })),
    stream: ref.stream && {
      ...ref.stream,
      steps: ref.stream.steps.map((s) => ({ inputs: readAll(s.inputs, dir), outputs: readAll(s.outputs, dir) })),
    },
  };
}

// ---------------------------------------------------------------- comparison

/**
 * null when `got` is the reference tensor (dtype, shape, then values: floats within the tolerance,
 * integers and bools exactly), else what differs. A reference with `topk` (a large softmax kept as its
 * top-k indices and values per row, see make_pretrained_refs.mjs) compares our values at those indices
 * and our row's argmax.
 */
export function compareTensor(got, want, tol) {
  if (!got) return 'missing';
  if (want.topk) return compareTopK(got, want, tol);
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (JSON.stringify(Array.from(got.shape, Number)) !== JSON.stringify(want.shape)) {
    return `shape [${got.shape}], expected [${want.shape}]`;
  }
  if (want.dtype === 'float32') return mismatch(got.data, want.data, { atol: tol.atol, rtol: tol.rtol });
  for (let i = 0; i < want.data.length; i++) {
    if (BigInt(got.data[i]) !== BigInt(want.data[i])) return `[${i}] is ${got.data[i]}, expected ${want.data[i]}`;
  }
  return null;
}

function compareTopK(got, want, tol) {
  const { shape, indices, values } = want.topk;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (JSON.stringify(Array.from(got.shape, Number)) !== JSON.stringify(shape)) {
    return `shape [${got.shape}], expected [${shape}]`;
  }
  const last = shape[shape.length - 1];
  const k = indices.shape[indices.shape.length - 1];
  const at = new Float32Array(indices.data.length);
  for (let r = 0; r < indices.data.length / k; r++) {
    let best = 0;
    for (let j = 1; j < last; j++) if (got.data[r * last + j] > got.data[r * last + best]) best = j;
    const top = Number(indices.data[r * k]);
    // A tie within the tolerance may pick either index.
    if (
      best !== top &&
      !(Math.abs(got.data[r * last + best] - values.data[r * k]) <= tol.atol + tol.rtol * values.data[r * k])
    ) {
      return `row ${r}: argmax ${best}, expected ${top}`;
    }
    for (let j = 0; j < k; j++) at[r * k + j] = got.data[r * last + Number(indices.data[r * k + j])];
  }
  const m = mismatch(at, values.data, tol);
  return m && `at the reference's top-${k} indices: ${m}`;
}

/** Every output compared; null or a message naming the first output that differs. */
export function compareOutputs(got, want, tol, { allowMissing = [] } = {}) {
  for (const [name, w] of Object.entries(want)) {
    if (!got?.[name] && allowMissing.includes(name)) continue;
    const m = compareTensor(got?.[name], w, tol);
    if (m) return `output "${name}": ${m}`;
  }
  return null;
}

// ---------------------------------------------------------------- onnxruntime-node

export async function ortSession(bytes) {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
}

export async function ortRun(session, inputs) {
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor(t.dtype, t.data, t.shape);
  const out = await session.run(feeds);
  return Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, { dtype: t.type, shape: Array.from(t.dims), data: t.data }]),
  );
}

/** The reference's calls in onnxruntime-node; [] when it reproduces every output, else the problems. */
export async function ortProblems(ref) {
  const session = await ortSession(ref.bytes);
  const tol = ref.ortTolerance ?? ref.tolerance;
  const problems = [];
  for (const c of ref.cases) {
    const m = compareOutputs(await ortRun(session, c.inputs), c.outputs, tol);
    if (m) problems.push(`${c.name}: ${m}`);
  }
  if (ref.stream) {
    let state = null;
    for (const [i, s] of ref.stream.steps.entries()) {
      const inputs = { ...s.inputs, ...(state ?? {}) };
      const out = await ortRun(session, inputs);
      const m = compareOutputs(out, s.outputs, tol);
      if (m) problems.push(`stream step ${i}: ${m}`);
      state = Object.fromEntries(Object.entries(ref.stream.state).map(([sin, sout]) => [sin, out[sout]]));
    }
  }
  return problems;
}

// ---------------------------------------------------------------- our compiler and runtime

/**
 * The variants a reference file asks for: the model as compiled with its `compile` options, and one per
 * `variants` entry: inputs fixed at compile time (`const`, fed no more), dimensions fixed (`dims`), on the
 * cases it lists (indices into `cases`; all by default) and on the stream unless `stream: false`.
 */
export function variantsOf(id, ref) {
  const base = { id, options: { dims: ref.compile?.dims ?? {} }, cases: ref.cases, stream: ref.stream, fixed: {} };
  const out = [base];
  for (const v of ref.variants ?? []) {
    const flags = [
      ...Object.entries(v.dims ?? {}).map(([k, x]) => `--dim ${k}=${x}`),
      ...Object.entries(v.const ?? {}).map(([k, x]) => `--const ${k}=${x}`),
    ];
    out.push({
      id: `${id} ${flags.join(' ')}`,
      options: { dims: { ...base.options.dims, ...v.dims }, ...(v.const ? { const: v.const } : {}) },
      cases: v.cases ? v.cases.map((i) => ref.cases[i]) : ref.cases,
      stream: v.stream === false ? null : ref.stream,
      fixed: v.const ?? {},
    });
  }
  return out;
}

const without = (record, names) => Object.fromEntries(Object.entries(record).filter(([k]) => !(k in names)));

/**
 * Compile, load and run one variant through the target API, comparing with the reference.
 * { status: 'pass' } | { status: 'not yet', reason } (a clean refusal: a CompileError, or a runtime without
 * run()/stream()) | { status: 'wrong', reason } (a wrong answer, or any other error: always a defect).
 */
export async function attempt(api, ref, variant) {
  const tol = ref.tolerance;
  let compiled;
  try {
    compiled = await api.compile(ref.bytes, variant.options);
  } catch (err) {
    if (err instanceof api.CompileError) return { status: 'not yet', reason: `${err.code}: ${refusal(err)}` };
    return { status: 'wrong', reason: `compile threw ${err?.name}: ${firstLine(err?.message)}` };
  }
  try {
    const model = await api.loadModel(compiled.wasm);
    if (typeof model.run !== 'function') return { status: 'not yet', reason: 'runtime: the model has no run()' };
    for (const c of variant.cases) {
      const m = compareOutputs(await model.run(without(c.inputs, variant.fixed)), c.outputs, tol);
      if (m) return { status: 'wrong', reason: `run() ${c.name}: ${m}` };
    }
    if (variant.stream) {
      const m = await runStream(model, variant, tol);
      if (m) return m;
    }
    return { status: 'pass' };
  } catch (err) {
    return { status: 'wrong', reason: `${err?.name}${err?.code ? ` (${err.code})` : ''}: ${firstLine(err?.message)}` };
  }
}

/** The stream twice: through run() feeding our own state back, and through stream() keeping it inside. */
async function runStream(model, variant, tol) {
  const { state, steps } = variant.stream;
  let fed = null;
  for (const [i, s] of steps.entries()) {
    const out = await model.run({ ...without(s.inputs, variant.fixed), ...(fed ?? {}) });
    const m = compareOutputs(out, s.outputs, tol);
    if (m) return { status: 'wrong', reason: `run() stream step ${i}, state fed back: ${m}` };
    fed = Object.fromEntries(Object.entries(state).map(([sin, sout]) => [sin, out[sout]]));
  }
  if (typeof model.stream !== 'function') return { status: 'not yet', reason: 'runtime: the model has no stream()' };
  const stream = model.stream(state);
  const stateOutputs = Object.values(state);
  for (const [i, s] of steps.entries()) {
    const out = await stream.run(without(without(s.inputs, state), variant.fixed));
    const m = compareOutputs(out, s.outputs, tol, { allowMissing: stateOutputs });
    if (m) return { status: 'wrong', reason: `stream() step ${i}: ${m}` };
  }
  // A new stream starts from zeros again, whatever the first one did.
  const again = await model.stream(state).run(without(without(steps[0].inputs, state), variant.fixed));
  const m = compareOutputs(again, steps[0].outputs, tol, { allowMissing: stateOutputs });
  return m ? { status: 'wrong', reason: `a second stream() at step 0: ${m}` } : null;
}

const firstLine = (s) => String(s ?? '').split('\n')[0];

/** A CompileError in one line: its problems (the first three) when it lists any, else its message. */
function refusal(err) {
  const problems = err.problems ?? [];
  if (!problems.length) return firstLine(err.message);
  const shown = problems.slice(0, 3).map((p) => `${p.op} (node "${p.node}", opset ${p.opset}): ${p.message}`);
  return shown.join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
}

/** Every real model: shapes/<name> and pretrained/<name> (their folders' models.json), with its reference file. */
export function realModels() {
  const out = [];
  for (const [folder, index] of [
    ['shapes', 'models.json'],
    ['pretrained', 'models.json'],
  ]) {
    const names = JSON.parse(readFileSync(path.join(FIXTURES, folder, index), 'utf8'));
    for (const name of names) {
      const json = path.join(FIXTURES, folder, `${name}.json`);
      out.push({ folder, name, json });
    }
  }
  return out;
}

/** What the status file says a variant should do: 'pass', or 'not yet: <reason>'. */
export function readStatus() {
  return existsSync(STATUS_FILE) ? JSON.parse(readFileSync(STATUS_FILE, 'utf8')) : {};
}

/** A status line from an attempt (what make_model_status.mjs writes). */
export const statusLine = (r) => (r.status === 'pass' ? 'pass' : `${r.status}: ${r.reason}`);

/**
 * One variant's test under the ratchet: 'pass' must pass; 'not yet: …' may still be refused cleanly, but a
 * variant that now compiles and matches fails until the status file is regenerated (so the list only
 * shrinks); a wrong answer or an error that is not a CompileError always fails.
 */
export async function checkVariant(api, ref, variant, expected, diagnostic) {
  const regenerate = 'run `node test/fixtures/make_model_status.mjs` (after `npm run build`)';
  if (expected === undefined) throw new Error(`"${variant.id}" is missing from ${STATUS_FILE}: ${regenerate}`);
  const r = await attempt(api, ref, variant);
  if (r.status === 'wrong') throw new Error(`${variant.id}: ${r.reason}`);
  if (expected === 'pass') {
    if (r.status !== 'pass') throw new Error(`${variant.id} passed before, now ${statusLine(r)}`);
    return;
  }
  if (r.status === 'pass') {
    throw new Error(`${variant.id} now compiles and matches the reference: ${regenerate} so that it stays passing`);
  }
  const line = statusLine(r);
  diagnostic(line === expected ? line : `${line} (the status file says "${expected}")`);
}
