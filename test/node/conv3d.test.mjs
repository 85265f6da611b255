// 3-D convolution and pooling (N×C×D×H×W): PyTorch's nn.Conv3d, ConvTranspose3d, MaxPool3d and AvgPool3d
// (test/fixtures/make_conv3d.py, PyTorch's outputs committed) and one-node models against onnxruntime-node
// for what the exports do not write: auto_pad, output_shape, a run-time W, uint8 images.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { compile } from '../../dist/compiler/index.js';
import { loadModel } from '../../dist/runtime/index.js';
import { mismatch } from './helpers.mjs';
import { model, ortOutputs, randomTensor, runFeeds } from './onnx-graph.mjs';

const DIR = new URL('../fixtures/conv3d/', import.meta.url);
const TOL = { rtol: 1e-4, atol: 1e-4 };

async function ours(bytes, feeds) {
  return runFeeds(await loadModel((await compile(bytes)).wasm), feeds);
}

describe('3-D convolution and pooling exported from PyTorch, against PyTorch and onnxruntime-node', () => {
  const names = readdirSync(DIR).filter((f) => f.endsWith('.onnx'));
  assert.ok(names.length >= 9, 'the committed fixtures');
  for (const file of names) {
    const ref = JSON.parse(readFileSync(new URL(file.replace('.onnx', '.json'), DIR), 'utf8'));
    test(`${file.replace('.onnx', '')}: ${ref.note}`, async () => {
      const bytes = readFileSync(new URL(file, DIR));
      const feeds = { x: { dtype: 'float32', dims: ref.input.shape, data: Float32Array.from(ref.input.data) } };
      const y = (await ours(bytes, feeds)).y;
      assert.deepEqual(y.shape, ref.output.shape);
      assert.equal(mismatch(y.data, ref.output.data, TOL), null, 'PyTorch');
      const theirs = (await ortOutputs(bytes, feeds)).y;
      assert.equal(mismatch(y.data, theirs.data, TOL), null, 'onnxruntime-node');
    });
  }
});

const one = (op, xDims, attrs, { w, b, wAtRunTime = false, dtype = 'float32', outputs = ['y'] } = {}) => {
  const inits = {};
  const inputs = [['x', dtype, xDims]];
  const feeds = { x: randomTensor(dtype, xDims, `${op}-${xDims}-${JSON.stringify(attrs)}`) };
  if (w) {
    const wt = randomTensor('float32', w, `w-${w}`);
    if (wAtRunTime) {
      inputs.push(['w', 'float32', w]);
      feeds.w = wt;
    } else inits.w = wt;
  }
  if (b) inits.b = randomTensor('float32', [b], `b-${b}`);
  const bytes = model({
    opset: 17,
    inputs,
    outputs: outputs.map((n) => [n, n === 'i' ? 'int64' : dtype]),
    nodes: [{ op, inputs: ['x', ...(w ? ['w'] : []), ...(b ? ['b'] : [])], outputs, attrs }],
    inits,
  });
  return { bytes, feeds };
};

const ORT_CASES = [
  ['Conv', [1, 3, 7, 6, 5], { auto_pad: 'SAME_UPPER', strides: [2, 2, 1] }, { w: [4, 3, 2, 3, 3], b: 4 }],
  ['Conv', [1, 3, 7, 6, 5], { auto_pad: 'SAME_LOWER', strides: [2, 1, 2] }, { w: [4, 3, 2, 2, 3] }],
  ['Conv', [2, 2, 5, 6, 5], { auto_pad: 'VALID', kernel_shape: [3, 1, 2] }, { w: [3, 2, 3, 1, 2] }],
  ['Conv', [1, 4, 4, 5, 6], { strides: [2, 2, 2] }, { w: [5, 4, 1, 1, 1] }],
  ['ConvTranspose', [1, 2, 3, 3, 3], { output_shape: [7, 6, 5], strides: [2, 2, 2] }, { w: [2, 3, 2, 2, 2], b: 3 }],
  ['ConvTranspose', [1, 2, 3, 4, 3], { auto_pad: 'SAME_UPPER', strides: [2, 1, 2] }, { w: [2, 3, 3, 2, 3] }],
  ['ConvTranspose', [2, 3, 3, 4, 5], { pads: [1, 0, 1, 0, 1, 1] }, { w: [3, 2, 3, 2, 3], b: 2, wAtRunTime: true }],
  ['MaxPool', [1, 3, 7, 6, 5], { kernel_shape: [2, 3, 2], auto_pad: 'SAME_UPPER', strides: [2, 2, 1] }],
  ['MaxPool', [1, 3, 7, 6, 5], { kernel_shape: [3, 2, 2], auto_pad: 'SAME_LOWER', strides: [2, 1, 2] }],
  ['MaxPool', [2, 4, 6, 7, 5], { kernel_shape: [3, 3, 2], pads: [1, 1, 0, 1, 1, 1], ceil_mode: 1, strides: [2, 2, 2] }],
  ['AveragePool', [1, 3, 7, 6, 5], { kernel_shape: [2, 3, 2], auto_pad: 'SAME_UPPER', strides: [2, 2, 1] }],
  ['AveragePool', [1, 3, 7, 6, 5], { kernel_shape: [3, 2, 2], auto_pad: 'VALID', strides: [2, 1, 2] }],
  [
    'AveragePool',
    [2, 2, 6, 7, 5],
    { kernel_shape: [3, 3, 2], pads: [1, 2, 0, 2, 1, 1], ceil_mode: 1, strides: [2, 3, 2], count_include_pad: 1 },
  ],
  ['MaxPool', [1, 3, 5, 6, 4], { kernel_shape: [2, 2, 2], pads: [1, 0, 1, 0, 1, 1] }, { dtype: 'uint8' }],
  ['MaxPool', [1, 3, 5, 6, 4], { kernel_shape: [3, 2, 2], strides: [2, 2, 1] }, { dtype: 'int8' }],
];

describe('3-D windows against onnxruntime-node', () => {
  for (const [op, dims, attrs, options] of ORT_CASES) {
    test(`${op} [${dims}] ${options?.dtype ?? ''} ${JSON.stringify(attrs)}${options?.wAtRunTime ? ', W at run time' : ''}`, async () => {
      const { bytes, feeds } = one(op, dims, attrs, options);
      const y = (await ours(bytes, feeds)).y;
      const theirs = (await ortOutputs(bytes, feeds)).y;
      assert.deepEqual(y.shape, theirs.shape);
      assert.equal(y.dtype, theirs.dtype);
      if (y.dtype === 'float32') assert.equal(mismatch(y.data, theirs.data, TOL), null);
      else assert.deepEqual(Array.from(y.data), Array.from(theirs.data));
    });
  }
});

describe('3-D windows refuse what they do not compute, by name', () => {
  test("MaxPool's Indices output", async () => {
    const { bytes } = one('MaxPool', [1, 2, 4, 4, 4], { kernel_shape: [2, 2, 2] }, { outputs: ['y', 'i'] });
    await assert.rejects(compile(bytes), /Indices output is not supported for 3-D windows/);
  });
  test('a dilated AveragePool', async () => {
    const { bytes } = one('AveragePool', [1, 2, 4, 4, 4], { kernel_shape: [2, 2, 2], dilations: [2, 1, 1] });
    await assert.rejects(compile(bytes), /dilated AveragePool is not supported/);
  });
  test('a 3-D Conv whose W is computed at run time', async () => {
    const { bytes } = one('Conv', [1, 2, 4, 4, 4], {}, { w: [3, 2, 2, 2, 2], wAtRunTime: true });
    await assert.rejects(compile(bytes), /a 3-D Conv needs its weights W as a constant/);
  });
  test('a 4-D window', async () => {
    const { bytes } = one('MaxPool', [1, 2, 3, 3, 3, 3], { kernel_shape: [2, 2, 2, 2] });
    await assert.rejects(compile(bytes), /N×C×D×H×W input, got \[1, 2, 3, 3, 3, 3\]/);
  });
});
