// runExact(model, feeds): run a loaded model on tensors of exact shapes, the way the runtime's run() API
// does (issue 13):
//
//   model.run({ [name]: { data: TypedArray, shape: number[] } }) → { [name]: { dtype, shape, data } }
//
// with float32 Float32Array, int64 BigInt64Array, int32 Int32Array, bool and uint8 Uint8Array, int8
// Int8Array. Where the model has no run() yet, it is emulated with predict() when predict can express the
// call: every input float32 and shaped as the model declared it, either [rows, ...] against a batch
// input ["N", ...], or the whole tensor as one row of an input the compiler made [1 or "N", ...shape]
// (a static graph: its outputs then carry that leading 1, which ONNX does not have, and lose it here).
// Anything else throws NoRunYet, so the test fails with that reason instead of a made-up answer.

/** The model has no run() and predict() cannot express this call. */
export class NoRunYet extends Error {
  constructor(message) {
    super(`no run() yet: ${message}`);
    this.name = 'NoRunYet';
  }
}

/** feeds: { [name]: { data, shape } }; the outputs by name as { dtype, shape, data }. */
export async function runExact(model, feeds) {
  if (typeof model.run === 'function') return model.run(feeds);
  return emulateWithPredict(model, feeds);
}

const sameDims = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);

/** How predict() can take this input: { rows, oneRow } or a reason it cannot. */
function fit(meta, feed) {
  const want = meta.shape;
  const got = feed.shape;
  if (want[0] === 'N' && sameDims(want.slice(1), got.slice(1)) && want.length === got.length) {
    return { rows: got[0], oneRow: false };
  }
  if ((want[0] === 'N' || want[0] === 1) && sameDims(want.slice(1), got)) return { rows: 1, oneRow: true };
  return `input "${meta.name}" has shape [${got}], predict() takes rows of [${want}]`;
}

function emulateWithPredict(model, feeds) {
  const inputs = model.meta.inputs;
  const names = Object.keys(feeds);
  const unknown = names.filter((n) => !inputs.some((t) => t.name === n));
  if (unknown.length) throw new NoRunYet(`the compiled model has no input ${unknown.map((n) => `"${n}"`).join(', ')}`);
  let call;
  for (const t of inputs) {
    const feed = feeds[t.name];
    if (!feed) throw new NoRunYet(`the compiled model takes input "${t.name}", which ONNX's graph does not feed`);
    if (!(feed.data instanceof Float32Array) || t.dtype !== 'float32') {
      const type = feed.data?.constructor?.name ?? typeof feed.data;
      throw new NoRunYet(`input "${t.name}" is ${type}, predict() takes float32 only`);
    }
    const f = fit(t, feed);
    if (typeof f === 'string') throw new NoRunYet(f);
    if (call && (call.rows !== f.rows || call.oneRow !== f.oneRow)) {
      throw new NoRunYet(`inputs disagree on the rows predict() would run (${call.rows} and ${f.rows})`);
    }
    call = f;
  }
  if (!call) throw new NoRunYet('a model without inputs');
  const record = Object.fromEntries(inputs.map((t) => [t.name, feeds[t.name].data]));
  const outputs = model.predict(inputs.length === 1 ? record[inputs[0].name] : record, call.rows);
  const result = {};
  for (const [name, o] of Object.entries(outputs)) {
    const shape = call.oneRow && o.shape[0] === 1 ? o.shape.slice(1) : o.shape;
    // predict() gives int64 labels as Int32Array (class values fit 32 bits); run() as BigInt64Array.
    const data = o.dtype === 'int64' && o.data instanceof Int32Array ? BigInt64Array.from(o.data, BigInt) : o.data;
    result[name] = { dtype: o.dtype, shape, data };
  }
  return result;
}
