// EyeLike against onnxruntime-node: every k (above, on, below and off the matrix), the dtype attribute
// and the input's own type; the input computed at run time (the output is still a constant) and constant.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compile } from '../../dist/compiler/index.js';
import { loadModel } from '../../dist/runtime/index.js';
import { DTYPES, model, ortOutputs, randomTensor, runFeeds } from './onnx-graph.mjs';

/** A CompileError whose one problem is EyeLike's, with this code and message. */
const refusal = (code, message) => (e) =>
  e?.name === 'CompileError' &&
  e.code === code &&
  e.problems.length === 1 &&
  e.problems[0].op === 'EyeLike' &&
  message.test(e.problems[0].message);

const eyeModel = (inType, dims, attrs, outType, asInit) =>
  model({
    opset: 17,
    inputs: asInit ? [] : [['x', inType, dims]],
    outputs: [['y', outType]],
    nodes: [{ op: 'EyeLike', inputs: ['x'], outputs: ['y'], attrs }],
    inits: asInit ? { x: randomTensor(inType, dims, 'eye-init') } : {},
  });

async function same(bytes, feeds) {
  const ours = runFeeds(await loadModel((await compile(bytes)).wasm), feeds);
  const theirs = await ortOutputs(bytes, feeds);
  assert.deepEqual(ours.y.shape, theirs.y.shape);
  assert.equal(ours.y.dtype, theirs.y.dtype);
  assert.deepEqual(Array.from(ours.y.data, Number), Array.from(theirs.y.data, Number));
}

describe('EyeLike against onnxruntime-node', () => {
  for (const k of [-4, -1, 0, 2, 7]) {
    for (const [inType, dtype, outType] of [
      ['float32', undefined, 'float32'],
      ['int32', undefined, 'int32'],
      ['float32', DTYPES.int64, 'int64'],
      ['int64', DTYPES.float32, 'float32'],
      ['int32', DTYPES.int32, 'int32'],
    ]) {
      test(`k=${k}, ${inType} input, dtype ${outType}`, async () => {
        const attrs = { k, ...(dtype && { dtype }) };
        const x = randomTensor(inType, [3, 5], `eye-${k}`);
        await same(eyeModel(inType, [3, 5], attrs, outType, false), { x });
      });
    }
  }
  test('a constant input folds to the same matrix', async () => {
    await same(eyeModel('float32', [4, 2], { k: -1 }, 'float32', true), {});
  });
});

describe('EyeLike outputs onnxruntime-node does not make, from the spec', () => {
  for (const [name, code] of [
    ['bool', DTYPES.bool],
    ['uint8', DTYPES.uint8],
    ['int8', DTYPES.int8],
  ]) {
    test(`dtype ${name}, k=1 on a 2×3 input: ones at (0,1) and (1,2)`, async () => {
      const bytes = eyeModel('float32', [2, 3], { k: 1, dtype: code }, name, false);
      const out = runFeeds(await loadModel((await compile(bytes)).wasm), { x: randomTensor('float32', [2, 3], 'e') });
      assert.equal(out.y.dtype, name);
      assert.deepEqual(out.y.shape, [2, 3]);
      assert.deepEqual(Array.from(out.y.data, Number), [0, 1, 0, 0, 0, 1]);
    });
  }
});

describe('EyeLike refuses what ONNX does not define', () => {
  test('a 3-D input', async () => {
    await assert.rejects(
      compile(eyeModel('float32', [2, 2, 2], {}, 'float32', false)),
      refusal('invalid-graph', /expects a 2-D input, got \[2, 2, 2\]/),
    );
  });
  test('a string dtype', async () => {
    await assert.rejects(
      compile(eyeModel('float32', [2, 2], { dtype: 8 }, 'float32', false)),
      refusal('invalid-graph', /"dtype" 8 \(string\) is not a type EyeLike can make/),
    );
  });
});
