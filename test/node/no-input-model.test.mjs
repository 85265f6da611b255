// A model with no inputs is valid ONNX (every output a constant, like ONNX's test_constant): it compiles,
// loads and answers run({}) as onnxruntime-node does; predict(), which takes rows, says why it cannot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../../dist/compiler/index.js';
import { loadModel, ModelError } from '../../dist/runtime/index.js';
import { model, ortOutputs, tensor } from './onnx-graph.mjs';

const bytes = model({
  inputs: [],
  outputs: [
    ['y', 'float32'],
    ['k', 'int64'],
  ],
  nodes: [
    { op: 'Mul', inputs: ['a', 'b'], outputs: ['y'] },
    { op: 'Shape', inputs: ['a'], outputs: ['k'] },
  ],
  inits: {
    a: tensor('float32', [2, 3], [1, -2, 3.5, 4, 0.25, -6]),
    b: tensor('float32', [3], [2, 0.5, -1]),
  },
});

test('a model without inputs compiles, loads and runs with no feeds, as onnxruntime-node does', async () => {
  const loaded = await loadModel((await compile(bytes)).wasm);
  assert.deepEqual(loaded.meta.inputs, []);
  const ours = loaded.run({});
  const theirs = await ortOutputs(bytes, {});
  for (const name of ['y', 'k']) {
    assert.deepEqual(ours[name].shape, theirs[name].shape, name);
    assert.equal(ours[name].dtype, theirs[name].dtype, name);
    assert.deepEqual(Array.from(ours[name].data), Array.from(theirs[name].data), name);
  }
  assert.deepEqual(Array.from(loaded.run({}).y.data), Array.from(theirs.y.data), 'a second run gives the same');
});

test('predict() on a model without inputs is a bad-input ModelError that points to run({})', async () => {
  const loaded = await loadModel((await compile(bytes)).wasm);
  assert.throws(
    () => loaded.predict(new Float32Array(0)),
    (e) => e instanceof ModelError && e.code === 'bad-input' && /takes no inputs.*run\(\{\}\)/.test(e.message),
  );
});
