// The indexing ops with their indices, counts and bounds given at run time (one-node and small graphs built
// here), through our compiler and runtime against onnxruntime-node on the same inputs:
//  - an index outside its axis (GatherElements, GatherND, ScatterElements, ScatterND), a sequence length
//    beyond the time axis, a CumSum axis outside the rank, a Range of step 0: onnxruntime refuses the call,
//    ours fails with `bad-input` naming the node, and the next call with good data gives onnxruntime's answer;
//  - sizes only the data tells (NonZero, Compress, Unique, Range, TopK's K, OneHot's depth) change from call
//    to call with onnxruntime's shapes and values, and a size beyond its bound is `shape-out-of-bounds`;
//  - a transformer's positions, Range(0, Shape(x)[1]), over any sequence length.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadApi } from './helpers.mjs';
import { assertSameOutputs, initializer, model, node, ortRun, ours } from './graph-builder.mjs';

let api;
before(async () => {
  api = await loadApi();
});
const load = async (bytes, opts) => api.loadModel((await api.compile(bytes, opts)).wasm);

/** onnxruntime refuses `bad`; ours fails it with bad-input naming the node; then `good` gives ORT's answer. */
async function refusedThenWorks(bytes, bad, good, mentions) {
  const m = await load(bytes);
  await assert.rejects(ortRun(bytes, bad), 'onnxruntime refuses the bad input');
  assert.throws(
    () => ours(m, bad),
    (e) => e instanceof api.ModelError && e.code === 'bad-input' && mentions.every((s) => e.message.includes(s)),
  );
  assertSameOutputs(ours(m, good), await ortRun(bytes, good), 'the call after the refused one');
}

describe('indices outside their axis at run time are bad-input, never an overrun', () => {
  const data = Array.from({ length: 12 }, (_, i) => i + 0.5);
  for (const bad of [4, -5, 2 ** 40, -(2 ** 40)]) {
    test(`GatherElements, axis 1, index ${bad}`, async () => {
      const bytes = node(
        'GatherElements',
        [
          ['x', 'f32', [3, 4]],
          ['i', 'i64', [3, 2]],
        ],
        [['y', 'f32']],
        { axis: 1 },
      );
      const feeds = (j) => ({ x: ['f32', data, [3, 4]], i: ['i64', [0, 3, -1, 2, 1, j], [3, 2]] });
      await refusedThenWorks(bytes, feeds(bad), feeds(-4), ['gatherelements_0', '"i"']);
    });
  }

  test('GatherElements with int32 indices, axis 0', async () => {
    const bytes = node(
      'GatherElements',
      [
        ['x', 'f32', [3, 4]],
        ['i', 'i32', [2, 4]],
      ],
      [['y', 'f32']],
      { axis: 0 },
    );
    const feeds = (j) => ({ x: ['f32', data, [3, 4]], i: ['i32', [0, 1, 2, -3, 2, 1, j, 0], [2, 4]] });
    await refusedThenWorks(bytes, feeds(3), feeds(-1), ['gatherelements_0']);
  });

  for (const bad of [3, -4]) {
    test(`GatherND (batch_dims 1), index ${bad}`, async () => {
      const bytes = node(
        'GatherND',
        [
          ['x', 'f32', [2, 3, 2]],
          ['i', 'i64', [2, 2, 1]],
        ],
        [['y', 'f32']],
        { batch_dims: 1 },
      );
      const feeds = (j) => ({ x: ['f32', data, [2, 3, 2]], i: ['i64', [2, 0, 1, j], [2, 2, 1]] });
      await refusedThenWorks(bytes, feeds(bad), feeds(-3), ['gathernd_0']);
    });
  }

  for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
    test(`ScatterElements, reduction ${reduction}, index 3 on an axis of 3`, async () => {
      const bytes = node(
        'ScatterElements',
        [
          ['x', 'f32', [3, 3]],
          ['i', 'i64', [2, 2]],
          ['u', 'f32', [2, 2]],
        ],
        [['y', 'f32']],
        { axis: 1, reduction },
      );
      const feeds = (j) => ({
        x: ['f32', data.slice(0, 9), [3, 3]],
        i: ['i64', [1, j, 1, 0], [2, 2]],
        u: ['f32', [-2, 3.5, 7, 0.25], [2, 2]],
      });
      await refusedThenWorks(bytes, feeds(3), feeds(-1), ['scatterelements_0']);
    });
  }

  test('ScatterND, add, row 4 of 4', async () => {
    const bytes = node(
      'ScatterND',
      [
        ['x', 'f32', [4, 2]],
        ['i', 'i64', [3, 1]],
        ['u', 'f32', [3, 2]],
      ],
      [['y', 'f32']],
      { reduction: 'add' },
    );
    const feeds = (j) => ({
      x: ['f32', data.slice(0, 8), [4, 2]],
      i: ['i64', [1, j, 1], [3, 1]],
      u: ['f32', [1, 2, 3, 4, 5, 6], [3, 2]],
    });
    await refusedThenWorks(bytes, feeds(4), feeds(-4), ['scatternd_0']);
  });

  test('ReverseSequence: a length beyond the time axis', async () => {
    const bytes = node(
      'ReverseSequence',
      [
        ['x', 'f32', [4, 3]],
        ['l', 'i64', [3]],
      ],
      [['y', 'f32']],
      { time_axis: 0, batch_axis: 1 },
    );
    const feeds = (n) => ({ x: ['f32', data, [4, 3]], l: ['i64', [4, n, 1], [3]] });
    await refusedThenWorks(bytes, feeds(5), feeds(2), ['reversesequence_0']);
  });

  test('CumSum: an axis outside the rank, given at run time', async () => {
    const bytes = node(
      'CumSum',
      [
        ['x', 'f32', [3, 4]],
        ['a', 'i64', []],
      ],
      [['y', 'f32']],
      { reverse: 1 },
    );
    const feeds = (a) => ({ x: ['f32', data, [3, 4]], a: ['i64', [a], []] });
    await refusedThenWorks(bytes, feeds(2), feeds(-2), ['cumsum_0']);
  });

  test('Range: a step of 0 given at run time', async () => {
    const bytes = node(
      'Range',
      [
        ['s', 'i64', []],
        ['l', 'i64', []],
        ['d', 'i64', []],
      ],
      [['y', 'i64']],
    );
    const feeds = (d) => ({ s: ['i64', [2], []], l: ['i64', [11], []], d: ['i64', [d], []] });
    // onnxruntime refuses a step of 0 too.
    await refusedThenWorks(bytes, feeds(0), feeds(3), ['range_0']);
  });
});

describe('sizes only the data tells, from call to call, against onnxruntime', () => {
  test('NonZero over a symbolic number of rows', async () => {
    const bytes = node('NonZero', [['x', 'f32', ['n', 3]]], [['y', 'i64']]);
    const m = await load(bytes);
    for (const x of [[0, 1, 0], [0, 0, 0, 0, 0, 0], [1, -0, NaN, 2, 0, 3, 0, 0, -1], []]) {
      const feeds = { x: ['f32', x, [x.length / 3, 3]] };
      assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `NonZero of [${x}]`);
    }
  });

  test('NonZero beyond a --dim bound is shape-out-of-bounds naming the flag; within it works', async () => {
    const bytes = node('NonZero', [['x', 'i32', [2, 3]]], [['y', 'i64']]);
    const m = await load(bytes, { dims: { 'y[1]': '..2' } });
    assert.throws(
      () => ours(m, { x: ['i32', [1, 0, 2, 0, 3, 0], [2, 3]] }),
      (e) => e instanceof api.ModelError && e.code === 'shape-out-of-bounds' && e.message.includes('--dim y[1]=..3'),
    );
    const feeds = { x: ['i32', [0, 0, 5, 0, 0, -1], [2, 3]] };
    assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), 'NonZero within its bound');
  });

  for (const axis of [undefined, 0, 1]) {
    test(`Compress by a run-time condition, axis ${axis ?? 'none'}`, async () => {
      const bytes = node(
        'Compress',
        [
          ['x', 'f32', [3, 2]],
          ['c', 'bool', ['k']],
        ],
        [['y', 'f32']],
        axis === undefined ? {} : { axis },
      );
      const m = await load(bytes);
      for (const c of [[1, 0, 1], [0, 0], [1], [0, 1, 1, 0, 1, 1]].filter((c) => axis !== 1 || c.length <= 2)) {
        const feeds = { x: ['f32', [1, 2, 3, 4, 5, 6], [3, 2]], c: ['bool', c, [c.length]] };
        assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `Compress by [${c}]`);
      }
    });
  }

  for (const [attrs, dims] of [
    [{ sorted: 1 }, [6]],
    [{ sorted: 0 }, [6]],
    [{ sorted: 1, axis: 0 }, [4, 2]],
    [{ sorted: 1, axis: -1 }, [2, 4]],
  ]) {
    test(`Unique ${JSON.stringify(attrs)} on ${JSON.stringify(dims)}`, async () => {
      const bytes = node(
        'Unique',
        [['x', 'f32', dims]],
        [
          ['y', 'f32'],
          ['first', 'i64'],
          ['inverse', 'i64'],
          ['counts', 'i64'],
        ],
        attrs,
        11,
      );
      const m = await load(bytes);
      for (const x of [
        [2, 1, 2, 1, 3, 2, -0, 0],
        [5, 5, 5, 5, 5, 5, 5, 5],
        [1, 2, 3, 4, 5, 6, 7, 8],
      ]) {
        const feeds = { x: ['f32', x.slice(0, dims[0] * (dims[1] ?? 1)), dims] };
        assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `Unique of [${feeds.x[1]}]`);
      }
    });
  }

  for (const t of ['f32', 'i32', 'i64'])
    test(`Range of ${t} from run-time scalars`, async () => {
      const bytes = node(
        'Range',
        [
          ['s', t, []],
          ['l', t, []],
          ['d', t, []],
        ],
        [['y', t]],
      );
      const m = await load(bytes);
      for (const [s, l, d] of [
        [0, 10, 3],
        [10, -3, -4],
        [5, 5, 1],
        [5, 1, 1],
        ...(t === 'f32' ? [[0.1, 1.3, 0.3]] : []),
      ]) {
        const feeds = { s: [t, [s], []], l: [t, [l], []], d: [t, [d], []] };
        assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `Range(${s}, ${l}, ${d})`);
      }
    });

  test('Range beyond its default bound is shape-out-of-bounds naming the flag that allows it', async () => {
    const bytes = node(
      'Range',
      [
        ['s', 'i64', []],
        ['l', 'i64', []],
        ['d', 'i64', []],
      ],
      [['y', 'i64']],
    );
    const m = await load(bytes, { dims: { 'y[0]': '..100' } });
    assert.throws(
      () => ours(m, { s: ['i64', [0], []], l: ['i64', [1e9], []], d: ['i64', [1], []] }),
      (e) => e instanceof api.ModelError && e.code === 'shape-out-of-bounds' && e.message.includes('--dim y[0]='),
    );
    const feeds = { s: ['i64', [0], []], l: ['i64', [100], []], d: ['i64', [1], []] };
    assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), 'Range within the bound');
  });

  for (const [axis, largest] of [
    [1, 1],
    [0, 0],
    [-1, 0],
  ])
    test(`TopK with K at run time, axis ${axis}, largest ${largest}, over a symbolic axis`, async () => {
      const bytes = node(
        'TopK',
        [
          ['x', 'f32', ['n', 'm']],
          ['k', 'i64', [1]],
        ],
        [
          ['values', 'f32'],
          ['indices', 'i64'],
        ],
        { axis, largest },
      );
      const m = await load(bytes);
      for (const [n, w, k] of [
        [3, 5, 2],
        [5, 20, 5],
        [4, 4, 0],
        [1, 1, 1],
      ]) {
        const x = Array.from({ length: n * w }, (_, i) => ((i * 7919) % 13) - 6 + (i % 3 ? 0 : 0.5));
        const feeds = { x: ['f32', x, [n, w]], k: ['i64', [k], [1]] };
        assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `TopK k=${k} of [${n}, ${w}]`);
      }
    });

  test('OneHot with the depth at run time', async () => {
    const bytes = node(
      'OneHot',
      [
        ['i', 'i64', [2, 3]],
        ['depth', 'i64', []],
        ['v', 'f32', [2]],
      ],
      [['y', 'f32']],
      { axis: 1 },
    );
    const m = await load(bytes);
    for (const depth of [1, 4, 9]) {
      const feeds = { i: ['i64', [0, 3, -1, 8, -9, 2], [2, 3]], depth: ['i64', [depth], []], v: ['f32', [-1, 2], [2]] };
      assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `OneHot depth ${depth}`);
    }
  });
});

test("a transformer's positions: Gather(table, Range(0, Shape(x)[1])) over any sequence length", async () => {
  const table = Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i));
  const bytes = model({
    inputs: [['ids', 'i64', [1, 'seq']]],
    nodes: [
      ['Shape', ['ids'], ['shape']],
      ['Gather', ['shape', 'one'], ['len'], { axis: 0 }],
      ['Range', ['zero', 'len', 'one'], ['positions']],
      ['Gather', ['table', 'positions'], ['pos'], { axis: 0 }],
      ['Gather', ['table', 'ids'], ['tok'], { axis: 0 }],
      ['Add', ['tok', 'pos'], ['y']],
    ],
    outputs: [['y', 'f32']],
    inits: [
      initializer('zero', 'i64', [], [0]),
      initializer('one', 'i64', [], [1]),
      initializer('table', 'f32', [64, 3], table),
    ],
  });
  const m = await load(bytes, { dims: { seq: '..64' } });
  for (const len of [1, 7, 64]) {
    const ids = Array.from({ length: len }, (_, i) => (i * 5) % 64);
    const feeds = { ids: ['i64', ids, [1, len]] };
    assertSameOutputs(ours(m, feeds), await ortRun(bytes, feeds), `length ${len}`);
  }
});
