// Reductions whose axes are an input given at run time (opset 18; ReduceSum since 13), every keepdims and
// noop_with_empty_axes combination, against onnxruntime-node on the same inputs: the output's shape follows
// the axes of each call; an axis outside the rank is bad-input naming the node (onnxruntime refuses it too)
// and the next call works; an axis named twice counts once, as onnxruntime's.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadApi } from './helpers.mjs';
import { assertSameOutputs, node, ortRun, ours } from './graph-builder.mjs';

const OPS = [
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceSumSquare',
];
const DIMS = [2, 3, 4];
// Positive values (ReduceLogSum), some below 1 and some above (ReduceProd neither vanishes nor explodes).
const X = Array.from({ length: 24 }, (_, i) => 0.25 + ((i * 7) % 11) / 5);
const RTOL = 1e-5; // sums in another order than onnxruntime's

let api;
before(async () => {
  api = await loadApi();
});
const load = async (bytes, opts) => api.loadModel((await api.compile(bytes, opts)).wasm);

const reduce = (op, n, attrs) =>
  node(
    op,
    [
      ['x', 'f32', DIMS],
      ['axes', 'i64', [n]],
    ],
    [['y', 'f32']],
    attrs,
    18,
  );

describe('reductions over axes given at run time, against onnxruntime-node', () => {
  for (const op of OPS) {
    for (const keepdims of [1, 0]) {
      test(`${op}, keepdims ${keepdims}: one and two axes, negative, in any order`, async () => {
        for (const [n, calls] of [
          [1, [[0], [1], [2], [-1], [-3]]],
          [
            2,
            [
              [0, 2],
              [2, 0],
              [-1, 1],
              [0, 1],
            ],
          ],
        ]) {
          const bytes = reduce(op, n, { keepdims });
          const m = await load(bytes);
          for (const axes of calls) {
            const feeds = { x: ['f32', X, DIMS], axes: ['i64', axes, [n]] };
            assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `axes [${axes}]`, RTOL);
          }
        }
      });
    }
  }

  for (const noop of [0, 1])
    for (const keepdims of [0, 1])
      test(`an empty axes input, noop_with_empty_axes ${noop}, keepdims ${keepdims}`, async () => {
        const bytes = reduce('ReduceSum', 0, { keepdims, noop_with_empty_axes: noop });
        // A declared 0 is an unknown size in ONNX files: with keepdims 0 it sets the rank, so the axes are
        // made a constant (onnxruntime then runs the same graph with the same empty axes).
        if (!keepdims)
          await assert.rejects(
            api.compile(bytes),
            (e) => e instanceof api.CompileError && e.message.includes('--dim axes[0]=N'),
          );
        const m = await load(bytes, keepdims ? {} : { consts: { axes: { data: [], shape: [0] } } });
        const feeds = { x: ['f32', X, DIMS], axes: ['i64', [], [0]] };
        const mine = keepdims ? feeds : { x: feeds.x };
        assertSameOutputs(ours(m, mine), await ortRun(bytes, feeds), 'empty axes', RTOL);
      });

  test('an axis named twice counts once (keepdims 1)', async () => {
    const bytes = reduce('ReduceMax', 2, { keepdims: 1 });
    const m = await load(bytes);
    for (const axes of [
      [1, -2],
      [2, 2],
    ]) {
      const feeds = { x: ['f32', X, DIMS], axes: ['i64', axes, [2]] };
      assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `axes [${axes}]`, RTOL);
    }
  });

  for (const keepdims of [0, 1])
    test(`an axis outside the rank is bad-input naming the node (keepdims ${keepdims}); the next call works`, async () => {
      const bytes = reduce('ReduceL2', 1, { keepdims });
      const m = await load(bytes);
      for (const bad of [3, -4]) {
        const feeds = { x: ['f32', X, DIMS], axes: ['i64', [bad], [1]] };
        await assert.rejects(ortRun(bytes, feeds), 'onnxruntime refuses it');
        assert.throws(
          () => ours(m, feeds),
          (e) => e instanceof api.ModelError && e.code === 'bad-input' && e.message.includes('reducel2_0'),
        );
      }
      const feeds = { x: ['f32', X, DIMS], axes: ['i64', [-2], [1]] };
      assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), 'after the refused calls', RTOL);
    });

  test('with keepdims 0 an axis named twice is bad-input (the output rank is fixed by the axes count)', async () => {
    const bytes = reduce('ReduceSum', 2, { keepdims: 0 });
    const m = await load(bytes);
    assert.throws(
      () => ours(m, { x: ['f32', X, DIMS], axes: ['i64', [1, -2], [2]] }),
      (e) => e instanceof api.ModelError && e.code === 'bad-input' && e.message.includes('named twice'),
    );
  });
});
