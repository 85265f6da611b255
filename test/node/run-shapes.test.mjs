// Shape operands given at run time (issue 14): Reshape's shape, Squeeze's and Unsqueeze's axes, Slice's
// starts/ends/axes/steps, Split's sizes, Expand's shape, ConstantOfShape's input, Pad's pads and constant,
// Dropout's training_mode, each a graph input fed per call. Outputs (shapes and values) against
// onnxruntime-node on the same feeds, several calls of one compiled model; values the op cannot use are
// bad-input naming the node and what was wrong, a size beyond its bound is shape-out-of-bounds naming the
// --dim flag, and the next call works.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadApi, onnx } from './helpers.mjs';
import { assertSameOutputs, node, ortRun, ours } from './graph-builder.mjs';

let api;
before(async () => {
  api = await loadApi();
});
const load = async (bytes, opts) => api.loadModel((await api.compile(bytes, opts)).wasm);
const iota = (n) => Array.from({ length: n }, (_, i) => i + 1);
const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

/** Each call's outputs equal onnxruntime's. */
async function sameAsOrt(bytes, m, calls) {
  for (const feeds of calls) assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), JSON.stringify(feeds));
}

/** The call is refused with `code` and a message containing each of `parts`. */
function refused(m, feeds, code, ...parts) {
  assert.throws(
    () => ours(m, feeds),
    (e) => {
      assert.ok(e instanceof api.ModelError, String(e));
      assert.equal(e.code, code, e.message);
      for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" names ${p}`);
      return true;
    },
  );
}

describe('shape operands given at run time, against onnxruntime-node', () => {
  test('Reshape: 0 and -1 entries, then a count that does not match and a second -1 (bad-input)', async () => {
    const bytes = node(
      'Reshape',
      [
        ['x', 'f32', [2, 3, 4]],
        ['shape', 'i64', [3]],
      ],
      [['y', 'f32']],
      {},
      14,
    );
    const m = await load(bytes);
    const x = ['f32', iota(24), [2, 3, 4]];
    const calls = [
      [4, 3, 2],
      [2, -1, 2],
      [0, 0, -1],
      [0, 4, 3],
      [1, 24, 1],
      [-1, 1, 1],
    ];
    await sameAsOrt(
      bytes,
      m,
      calls.map((s) => ({ x, shape: ['i64', s, [3]] })),
    );
    refused(m, { x, shape: ['i64', [5, 5, 1], [3]] }, 'bad-input', 'reshape_0', 'holds 25 elements', 'has 24');
    refused(m, { x, shape: ['i64', [-1, -1, 24], [3]] }, 'bad-input', 'reshape_0', 'entry 1');
    refused(m, { x, shape: ['i64', [4, -2, 3], [3]] }, 'bad-input', 'entry 1');
    await assert.rejects(ortRun(bytes, { x, shape: ['i64', [5, 5, 1], [3]] }), 'onnxruntime refuses it too');
    await sameAsOrt(bytes, m, [{ x, shape: ['i64', [3, 2, 4], [3]] }]);
  });

  test('Reshape with allowzero: a 0 is a dimension of 0', async () => {
    const bytes = node(
      'Reshape',
      [
        ['x', 'f32', [0, 3]],
        ['shape', 'i64', [3]],
      ],
      [['y', 'f32']],
      { allowzero: 1 },
      14,
    );
    const m = await load(bytes);
    const x = ['f32', [], [0, 3]];
    await sameAsOrt(bytes, m, [
      { x, shape: ['i64', [3, 0, 5], [3]] },
      { x, shape: ['i64', [0, 1, 1], [3]] },
    ]);
    refused(m, { x, shape: ['i64', [0, -1, 1], [3]] }, 'bad-input', 'entry 1', 'allowzero');
  });

  test('Squeeze and Unsqueeze: axes in any order, negative; out of range, repeated, not 1 (bad-input)', async () => {
    const sq = node(
      'Squeeze',
      [
        ['x', 'f32', [1, 3, 1, 2]],
        ['axes', 'i64', [2]],
      ],
      [['y', 'f32']],
      {},
      13,
    );
    const ms = await load(sq);
    const x = ['f32', iota(6), [1, 3, 1, 2]];
    await sameAsOrt(
      sq,
      ms,
      [
        [0, 2],
        [2, 0],
        [-4, -2],
        [-2, 0],
      ].map((a) => ({ x, axes: ['i64', a, [2]] })),
    );
    refused(ms, { x, axes: ['i64', [0, 1], [2]] }, 'bad-input', 'squeeze_0', 'axis 1', 'not 1');
    refused(ms, { x, axes: ['i64', [0, 4], [2]] }, 'bad-input', 'axis 1', '[-4, 3]');
    refused(ms, { x, axes: ['i64', [2, -2], [2]] }, 'bad-input', 'axis 1', 'named twice');
    await sameAsOrt(sq, ms, [{ x, axes: ['i64', [2, 0], [2]] }]);

    const un = node(
      'Unsqueeze',
      [
        ['x', 'f32', [3, 4]],
        ['axes', 'i64', [2]],
      ],
      [['y', 'f32']],
      {},
      13,
    );
    const mu = await load(un);
    const x2 = ['f32', iota(12), [3, 4]];
    await sameAsOrt(
      un,
      mu,
      [
        [0, 1],
        [3, 0],
        [-1, 1],
        [1, -1],
        [2, 1],
      ].map((a) => ({ x: x2, axes: ['i64', a, [2]] })),
    );
    refused(mu, { x: x2, axes: ['i64', [0, 4], [2]] }, 'bad-input', 'unsqueeze_0', 'axis 1', '[-4, 3]');
    refused(mu, { x: x2, axes: ['i64', [1, -3], [2]] }, 'bad-input', 'named twice');
    await sameAsOrt(un, mu, [{ x: x2, axes: ['i64', [0, 2], [2]] }]);
  });

  test('Slice: negative starts and steps, INT64 ends, clamping, axes given at run time', async () => {
    const inputs = [
      ['x', 'f32', [5, 6]],
      ['starts', 'i64', [2]],
      ['ends', 'i64', [2]],
      ['axes', 'i64', [2]],
      ['steps', 'i64', [2]],
    ];
    const bytes = node('Slice', inputs, [['y', 'f32']], {}, 13);
    const m = await load(bytes);
    const x = ['f32', iota(30), [5, 6]];
    const call = (s, e, a, st) => ({
      x,
      starts: ['i64', s, [2]],
      ends: ['i64', e, [2]],
      axes: ['i64', a, [2]],
      steps: ['i64', st, [2]],
    });
    await sameAsOrt(bytes, m, [
      call([0, 1], [3, 5], [0, 1], [1, 2]),
      call([4, -1], [INT64_MIN, 0], [0, 1], [-1, -2]),
      call([1, -100], [INT64_MAX, 100], [1, 0], [3, 1]),
      call([-2, 0], [-1, 6], [-1, -2], [1, 7]),
      call([10, 2], [20, 2], [0, 1], [1, 1]),
      call([3, 5], [0, 0], [1, 0], [-2, INT64_MIN]),
    ]);
    refused(m, call([0, 0], [1, 1], [0, 1], [1, 0]), 'bad-input', 'slice_0', 'entry 1', 'step of 0');
    refused(m, call([0, 0], [1, 1], [0, 2], [1, 1]), 'bad-input', 'entry 1', '[-2, 1]');
    refused(m, call([0, 0], [1, 1], [1, -1], [1, 1]), 'bad-input', 'entry 1', 'named twice');
    await sameAsOrt(bytes, m, [call([1, 1], [4, 4], [0, 1], [2, 2])]);
  });

  test('Slice with starts and ends only (axes 0.., steps 1) on int64 data', async () => {
    const inputs = [
      ['x', 'i64', [4, 3]],
      ['starts', 'i64', [1]],
      ['ends', 'i64', [1]],
    ];
    const bytes = node('Slice', inputs, [['y', 'i64']], {}, 13);
    const m = await load(bytes);
    const x = ['i64', iota(12), [4, 3]];
    const calls = [
      [1, 3],
      [-3, -1],
      [0, INT64_MAX],
      [3, 1],
    ].map(([s, e]) => ({ x, starts: ['i64', [s], [1]], ends: ['i64', [e], [1]] }));
    await sameAsOrt(bytes, m, calls);
  });

  test('Split: sizes given at run time, zero-size parts; sizes that do not add up or are negative (bad-input)', async () => {
    const bytes = node(
      'Split',
      [
        ['x', 'f32', [6, 2]],
        ['split', 'i64', [3]],
      ],
      [
        ['a', 'f32'],
        ['b', 'f32'],
        ['c', 'f32'],
      ],
      {},
      13,
    );
    const m = await load(bytes);
    const x = ['f32', iota(12), [6, 2]];
    await sameAsOrt(
      bytes,
      m,
      [
        [1, 2, 3],
        [0, 6, 0],
        [3, 3, 0],
      ].map((s) => ({ x, split: ['i64', s, [3]] })),
    );
    refused(m, { x, split: ['i64', [1, 1, 1], [3]] }, 'bad-input', 'split_0', 'add up to 3', 'has 6');
    refused(m, { x, split: ['i64', [-1, 4, 3], [3]] }, 'bad-input', 'entry 0', 'negative');
    await sameAsOrt(bytes, m, [{ x, split: ['i64', [2, 2, 2], [3]] }]);
  });

  test('Expand: a shape that keeps, grows and adds dims; one that does not broadcast (bad-input)', async () => {
    const bytes = node(
      'Expand',
      [
        ['x', 'f32', [3, 1]],
        ['shape', 'i64', [3]],
      ],
      [['y', 'f32']],
      {},
      13,
    );
    const m = await load(bytes);
    const x = ['f32', [1, 2, 3], [3, 1]];
    await sameAsOrt(
      bytes,
      m,
      [
        [2, 1, 4],
        [1, 3, 1],
        [2, 3, 5],
        [1, 1, 0],
      ].map((s) => ({ x, shape: ['i64', s, [3]] })),
    );
    refused(m, { x, shape: ['i64', [2, 2, 2], [3]] }, 'bad-input', 'expand_0', 'entry 1', 'broadcast');
    await sameAsOrt(bytes, m, [{ x, shape: ['i64', [2, 1, 1], [3]] }]);
  });

  test('ConstantOfShape: float and int32 values, zero-size; a negative size (bad-input), a size past --dim', async () => {
    for (const [dt, v] of [
      ['f32', 1.5],
      ['i32', -7],
    ]) {
      const bytes = constantOfShape(dt, v);
      const m = await load(bytes, { dims: { 'y[0]': '..4' } });
      await sameAsOrt(
        bytes,
        m,
        [
          [2, 3],
          [0, 4],
          [4, 1],
        ].map((s) => ({ shape: ['i64', s, [2]] })),
      );
      refused(m, { shape: ['i64', [-1, 2], [2]] }, 'bad-input', 'constantofshape_0', 'entry 0', 'negative');
      refused(m, { shape: ['i64', [5, 1], [2]] }, 'shape-out-of-bounds', '--dim y[0]=..5');
      await sameAsOrt(bytes, m, [{ shape: ['i64', [1, 2], [2]] }]);
    }
  });

  test('Pad: pads and the constant given at run time (first axis too, all modes), int32 data; negative pads (bad-input)', async () => {
    for (const mode of ['constant', 'edge', 'reflect']) {
      const inputs = [
        ['x', 'f32', [3, 4]],
        ['pads', 'i64', [4]],
        ['value', 'f32', []],
      ];
      const bytes = node('Pad', inputs, [['y', 'f32']], { mode }, 13);
      const m = await load(bytes);
      const x = ['f32', iota(12), [3, 4]];
      const calls = [
        [1, 0, 0, 2],
        [0, 2, 2, 0],
        [2, 3, 1, 3],
        [0, 0, 0, 0],
      ].map((p) => ({ x, pads: ['i64', p, [4]], value: ['f32', [-2.5], []] }));
      await sameAsOrt(bytes, m, calls);
      refused(
        m,
        { x, pads: ['i64', [0, -1, 0, 0], [4]], value: ['f32', [0], []] },
        'bad-input',
        'pad_0',
        'entry 1',
        'crop',
      );
      await sameAsOrt(bytes, m, [calls[1]]);
    }
    const inputs = [
      ['x', 'i32', [2, 3]],
      ['pads', 'i64', [4]],
      ['value', 'i32', []],
    ];
    const bytes = node('Pad', inputs, [['y', 'i32']], { mode: 'constant' }, 13);
    const m = await load(bytes);
    const x = ['i32', [-3, 2, 1, 0, 7, 9], [2, 3]];
    await sameAsOrt(
      bytes,
      m,
      [
        [1, 1, 0, 2],
        [0, 0, 1, 0],
      ].map((p) => ({ x, pads: ['i64', p, [4]], value: ['i32', [-1], []] })),
    );
  });

  test('Dropout: training_mode given at run time is the identity while nothing drops; dropping is bad-input', async () => {
    const inputs = [
      ['x', 'f32', [2, 3]],
      ['ratio', 'f32', []],
      ['training', 'bool', []],
    ];
    const bytes = node(
      'Dropout',
      inputs,
      [
        ['y', 'f32'],
        ['mask', 'bool'],
      ],
      {},
      13,
    );
    const m = await load(bytes);
    const x = ['f32', iota(6), [2, 3]];
    const call = (r, t) => ({ x, ratio: ['f32', [r], []], training: ['bool', [t], []] });
    await sameAsOrt(bytes, m, [call(0.5, 0), call(0, 1), call(0.9, 0)]);
    refused(m, call(0.5, 1), 'bad-input', 'Dropout', 'training_mode', 'inference');
    await sameAsOrt(bytes, m, [call(0, 1)]);
  });
});

/** ConstantOfShape of a run-time shape [2] filled with v (of type dt: its `value`, a one-element tensor). */
function constantOfShape(dt, v) {
  const m = onnx.ModelProto.decode(node('ConstantOfShape', [['shape', 'i64', [2]]], [['y', dt]], {}, 13));
  const raw = dt === 'f32' ? new Float32Array([v]) : new Int32Array([v]);
  const t = { dataType: { f32: 1, i32: 6 }[dt], dims: [1], rawData: new Uint8Array(raw.buffer) };
  m.graph.node[0].attribute.push({ name: 'value', type: 4, t });
  return onnx.ModelProto.encode(m).finish();
}
