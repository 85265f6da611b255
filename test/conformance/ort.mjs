// The oracle: a backend test's model in onnxruntime-node at the test's exact shapes, every output kept.
import ort from 'onnxruntime-node';
import { compareOutputs } from './compare.mjs';
import { DTYPE, onnx } from './tensors.mjs';

export { ort };

/** Thrown when onnxruntime-node will not load or run a model (as opposed to giving other numbers). */
export class OrtRefused extends Error {}

const firstLine = (err) => String(err?.message ?? err).split('\n')[0];

/**
 * Run model bytes on inputs ({ name, dtype, shape, data } list), `runs` times in one session; each run's
 * outputs by name as { dtype, shape, data }.
 */
export async function ortRun(bytes, inputs, runs = 1) {
  let session;
  const feeds = {};
  try {
    for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, t.data, t.shape);
    session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
  } catch (err) {
    throw new OrtRefused(`load: ${firstLine(err)}`);
  }
  try {
    const results = [];
    for (let k = 0; k < runs; k++) {
      const out = await session.run(feeds);
      const result = {};
      for (const [name, t] of Object.entries(out)) {
        result[name] = { dtype: t.type, shape: Array.from(t.dims, Number), data: t.data };
      }
      results.push(result);
    }
    return results;
  } catch (err) {
    throw new OrtRefused(`run: ${firstLine(err)}`);
  } finally {
    await session.release();
  }
}

/**
 * onnxruntime-node's verdict on a variant: { status: 'pass' } | { status: 'fail', reason } (it ran and
 * gave other outputs) | { status: 'refused', reason } (it would not load or run the model).
 */
export async function ortVerdict(bytes, inputs, expected) {
  try {
    const [first, second] = await ortRun(bytes, inputs, 2);
    const reason = compareOutputs(first, expected);
    if (!reason) return { status: 'pass' };
    // A random op (Bernoulli, training Dropout) gives other values on every run: say so, not which.
    const firstAsExpected = expected.filter((e) => first[e.name]).map((e) => ({ ...first[e.name], name: e.name }));
    if (compareOutputs(second, firstAsExpected)) {
      return { status: 'fail', reason: 'random: onnxruntime-node gives other values on every run' };
    }
    return { status: 'fail', reason };
  } catch (err) {
    if (err instanceof OrtRefused) return { status: 'refused', reason: err.message };
    throw err;
  }
}

/**
 * onnxruntime-node behind the API our harness drives (compile → loadModel → run()), to check the harness
 * itself: through it, every committed test must pass. The input dtypes come from the model's graph, as
 * our runtime's come from its metadata (bool and uint8 data are both Uint8Array).
 */
export const ortAsCompiler = {
  compile: async (bytes) => ({ wasm: bytes }),
  loadModel: async (bytes) => {
    const graph = onnx.ModelProto.decode(bytes).graph;
    const dtypes = Object.fromEntries(graph.input.map((v) => [v.name, DTYPE[v.type.tensorType.elemType]]));
    return {
      run: async (feeds) => {
        const inputs = Object.entries(feeds).map(([name, t]) => ({ name, dtype: dtypes[name], ...t }));
        return (await ortRun(bytes, inputs))[0];
      },
    };
  },
};
