// The real-model checks themselves (real-models.mjs), run against stand-ins for our compiler and runtime
// built on onnxruntime-node, so that they are known to pass on a correct implementation of the target API and
// to fail on a wrong one: every variant of every real model passes through the ONNX-runtime stand-in (run(),
// stream() with state kept inside, --const inputs put back); outputs off by 1e-3, a stream that forgets
// its state, or a compiler that throws a TypeError are "wrong"; a CompileError is "not yet"; and the ratchet
// fails a "not yet" variant that passes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ort } from './helpers.mjs';
import { readRefs, realModels, variantsOf, attempt, checkVariant } from './real-models.mjs';

class CompileError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.problems = [];
  }
}

const ARRAYS = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array };

/** A scalar or zero tensor of a declared input, every symbolic dimension taken as `batch`. */
function constant(decl, value, batch) {
  const shape = decl.shape.map((d) => (typeof d === 'number' ? d : batch));
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new ARRAYS[decl.dtype](n);
  if (value !== undefined) data.fill(decl.dtype === 'int64' ? BigInt(value) : Number(value));
  return { dtype: decl.dtype, shape, data };
}

/** The target API over onnxruntime-node; `perturb` changes every float output, `forget` resets streams. */
function ortApi(ref, { perturb = 0, forget = false } = {}) {
  return {
    CompileError,
    async compile(bytes, options) {
      return { wasm: { bytes, options } };
    },
    async loadModel({ bytes, options }) {
      const session = await ort.InferenceSession.create(bytes);
      const fixed = options.const ?? {};
      const run = async (inputs) => {
        const feeds = {};
        const batch = Object.values(inputs)[0]?.shape[0] ?? 1;
        for (const decl of ref.inputs) {
          const t = decl.name in fixed ? constant(decl, fixed[decl.name], batch) : inputs[decl.name];
          feeds[decl.name] = new ort.Tensor(t.dtype ?? decl.dtype, t.data, t.shape);
        }
        const out = await session.run(feeds);
        return Object.fromEntries(
          Object.entries(out).map(([k, t]) => {
            const data = t.type === 'float32' && perturb ? t.data.map((v) => v * (1 + perturb)) : t.data;
            return [k, { dtype: t.type, shape: Array.from(t.dims), data }];
          }),
        );
      };
      const stream = (state) => {
        let kept = null;
        return {
          async run(inputs) {
            const batch = Object.values(inputs)[0].shape[0];
            const zeros = Object.fromEntries(
              Object.keys(state).map((k) => [
                k,
                constant(
                  ref.inputs.find((d) => d.name === k),
                  undefined,
                  batch,
                ),
              ]),
            );
            const out = await run({ ...inputs, ...(kept && !forget ? kept : zeros) });
            kept = Object.fromEntries(Object.entries(state).map(([sin, sout]) => [sin, out[sout]]));
            return out;
          },
        };
      };
      return { run, stream };
    },
  };
}

describe('real-model checks on an onnxruntime-node stand-in for the target API', () => {
  for (const { folder, name, json } of realModels()) {
    test(`${folder}/${name}: every variant passes on a correct implementation`, async () => {
      const ref = readRefs(json);
      for (const variant of variantsOf(`${folder}/${name}`, ref)) {
        assert.deepEqual(await attempt(ortApi(ref), ref, variant), { status: 'pass' }, variant.id);
      }
    });
  }

  const [vad] = realModels().filter((m) => m.name === 'silero_vad_v5');
  const ref = readRefs(vad.json);
  const [variant] = variantsOf('pretrained/silero_vad_v5', ref);

  test('outputs off by 1e-3 (relative) are a wrong answer', async () => {
    const r = await attempt(ortApi(ref, { perturb: 1e-3 }), ref, variant);
    assert.equal(r.status, 'wrong');
    assert.match(r.reason, /output "output"|output "stateN"/);
  });

  test('a stream that forgets its state between calls is a wrong answer', async () => {
    const r = await attempt(ortApi(ref, { forget: true }), ref, variant);
    assert.equal(r.status, 'wrong');
    assert.match(r.reason, /^stream\(\) step \d+/);
  });

  test('a CompileError is "not yet"; any other error thrown by compile is wrong', async () => {
    const refusing = {
      ...ortApi(ref),
      compile: async () => Promise.reject(new CompileError('unsupported-ops', 'no If')),
    };
    assert.deepEqual(await attempt(refusing, ref, variant), { status: 'not yet', reason: 'unsupported-ops: no If' });
    const crashing = { ...ortApi(ref), compile: async () => Promise.reject(new TypeError('x is undefined')) };
    assert.equal((await attempt(crashing, ref, variant)).status, 'wrong');
  });

  test('the ratchet: a "not yet" variant that passes fails the test; a wrong answer fails whatever the file says', async () => {
    const none = () => {};
    await assert.rejects(checkVariant(ortApi(ref), ref, variant, 'not yet: unsupported-ops: x', none), /now compiles/);
    await checkVariant(ortApi(ref), ref, variant, 'pass', none);
    const wrong = ortApi(ref, { perturb: 1e-3 });
    await assert.rejects(checkVariant(wrong, ref, variant, 'not yet: unsupported-ops: x', none), /output/);
    await assert.rejects(checkVariant(ortApi(ref), ref, variant, undefined, none), /missing from/);
    const refusing = {
      ...ortApi(ref),
      compile: async () => Promise.reject(new CompileError('unsupported-ops', 'no If')),
    };
    const said = [];
    await checkVariant(refusing, ref, variant, 'not yet: unsupported-ops: If', (m) => said.push(m));
    assert.match(said[0], /not yet: unsupported-ops: no If \(the status file says/);
    await assert.rejects(checkVariant(refusing, ref, variant, 'pass', none), /passed before/);
  });
});
