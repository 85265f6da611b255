// BatchNormalization with training_mode=1 (opsets 14 and 15) against onnxruntime-node: Y normalised with the
// batch's own statistics, running_mean and running_var with the momentum; 2-D, 3-D and 4-D inputs, the
// statistics computed at run time or constant, and the whole node folded when everything is constant.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compile } from '../../dist/compiler/index.js';
import { loadModel } from '../../dist/runtime/index.js';
import { mismatch } from './helpers.mjs';
import { float, model, ortOutputs, randomTensor, runFeeds } from './onnx-graph.mjs';

const OUTS = ['y', 'running_mean', 'running_var'];

function bnModel({ dims, attrs, constants, opset = 15 }) {
  const C = dims[1];
  const shapes = { x: dims, s: [C], b: [C], m: [C], v: [C] };
  const data = Object.fromEntries(
    Object.entries(shapes).map(([n, d]) => [n, randomTensor('float32', d, `bn-${n}-${dims}`, n === 'v' ? 0.1 : -3)]),
  );
  const inits = Object.fromEntries(constants.map((n) => [n, data[n]]));
  const feeds = Object.fromEntries(
    Object.keys(shapes)
      .filter((n) => !constants.includes(n))
      .map((n) => [n, data[n]]),
  );
  const bytes = model({
    opset,
    inputs: Object.keys(feeds).map((n) => [n, 'float32', shapes[n]]),
    outputs: OUTS.map((n) => [n, 'float32']),
    nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: OUTS, attrs }],
    inits,
  });
  return { bytes, feeds };
}

async function compare({ bytes, feeds }) {
  const ours = runFeeds(await loadModel((await compile(bytes)).wasm), feeds);
  const theirs = await ortOutputs(bytes, feeds);
  for (const name of OUTS) {
    assert.deepEqual(ours[name].shape, theirs[name].shape, name);
    const bad = mismatch(ours[name].data, theirs[name].data, { rtol: 1e-4, atol: 1e-5 });
    assert.equal(bad, null, `${name}: ${bad}`);
  }
}

describe('BatchNormalization training_mode=1 against onnxruntime-node', () => {
  for (const dims of [
    [6, 3],
    [2, 4, 7],
    [3, 5, 4, 6],
  ]) {
    for (const [what, constants] of [
      ['statistics at run time', []],
      ['constant statistics', ['s', 'b', 'm', 'v']],
    ]) {
      test(`[${dims}], ${what}`, () =>
        compare(bnModel({ dims, constants, attrs: { training_mode: 1, momentum: float(0.7), epsilon: float(1e-3) } })));
    }
  }
  test('the default momentum and epsilon, opset 14', () =>
    compare(bnModel({ dims: [2, 3, 5], constants: ['s'], attrs: { training_mode: 1 }, opset: 14 })));
  test('everything constant: folded at compile time', () =>
    compare(bnModel({ dims: [2, 3, 4], constants: ['x', 's', 'b', 'm', 'v'], attrs: { training_mode: 1 } })));
});

test('a training_mode that is neither 0 nor 1 is refused, naming it', async () => {
  const { bytes } = bnModel({ dims: [2, 3], constants: [], attrs: { training_mode: 2 } });
  await assert.rejects(compile(bytes), (e) => e.code === 'invalid-graph' && /"training_mode" is 2/.test(e.message));
});
