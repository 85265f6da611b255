// MaxPool on uint8 and int8 images against onnxruntime-node: the output (and Indices) in the input's type,
// several channels (the channels-last copy), pads, strides, dilations and ceil_mode; pools that ONNX
// defines for floats only refuse integer inputs by name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compile } from '../../dist/compiler/index.js';
import { loadModel } from '../../dist/runtime/index.js';
import { model, ortOutputs, randomTensor, runFeeds } from './onnx-graph.mjs';

const poolModel = (op, dtype, dims, attrs, indices = false) =>
  model({
    opset: 12,
    inputs: [['x', dtype, dims]],
    outputs: indices
      ? [
          ['y', dtype],
          ['i', 'int64'],
        ]
      : [['y', dtype]],
    nodes: [{ op, inputs: ['x'], outputs: indices ? ['y', 'i'] : ['y'], attrs }],
  });

const CASES = [
  ['3×3, stride 1', [1, 3, 6, 7], { kernel_shape: [3, 3] }],
  [
    '2×2, stride 2, pads, ceil_mode',
    [2, 5, 7, 5],
    { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 0, 1, 1], ceil_mode: 1 },
  ],
  ['3×2, dilations 2×1', [1, 4, 9, 6], { kernel_shape: [3, 2], dilations: [2, 1] }],
  ['1-D, 3 taps, stride 2', [2, 3, 11], { kernel_shape: [3], strides: [2], pads: [1, 1] }],
];

describe('MaxPool on 8-bit integers against onnxruntime-node', () => {
  for (const dtype of ['uint8', 'int8']) {
    for (const [name, dims, attrs] of CASES) {
      test(`${dtype}: ${name}`, async () => {
        const bytes = poolModel('MaxPool', dtype, dims, attrs, true);
        const feeds = { x: randomTensor(dtype, dims, `pool-${dtype}-${name}`) };
        const ours = runFeeds(await loadModel((await compile(bytes)).wasm), feeds);
        const theirs = await ortOutputs(bytes, feeds);
        for (const out of ['y', 'i']) {
          assert.equal(ours[out].dtype, theirs[out].dtype, out);
          assert.deepEqual(ours[out].shape, theirs[out].shape, out);
          assert.deepEqual(Array.from(ours[out].data, Number), Array.from(theirs[out].data, Number), out);
        }
      });
    }
  }
});

test('AveragePool and GlobalMaxPool refuse an integer input, naming its type', async () => {
  for (const op of ['AveragePool', 'GlobalMaxPool']) {
    const attrs = op === 'AveragePool' ? { kernel_shape: [2, 2] } : {};
    await assert.rejects(
      compile(poolModel(op, 'uint8', [1, 2, 4, 4], attrs)),
      (e) =>
        e.problems?.[0]?.op === op &&
        /input 0 holds uint8; this pool takes float tensors$/.test(e.message.split('\n').find((l) => l.includes(op))),
    );
  }
});
