// HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix through our compiler and runtime against
// onnxruntime-node on one-node models: periodic and symmetric windows of 0 to 1000 samples, mel filterbanks
// of several sizes and edges, sizes as run-time inputs (computed output sizes) or constants (folded), and
// bad input (values onnxruntime refuses, sizes beyond the compiled bound, unsupported output types).
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { loadApi } from './helpers.mjs';
import { checkAgainstOrt, feedsOf, graphModel, nodeModel, runOrt } from './ort-compare.mjs';

const TOL = { atol: 1e-7, rtol: 1e-6 };
const Y = [{ name: 'y', type: 'float32' }];

/** A model of `op` over `inputs` made initializers, plus a Relu on an input (a model needs one). */
function constantModel(op, inputs, attrs) {
  const x = { name: 'x', type: 'float32', dims: [2], values: [1, -1] };
  return {
    bytes: graphModel({
      opset: 17,
      nodes: [
        { op, inputs: inputs.map((i) => i.name), outputs: ['y'], attrs },
        { op: 'Relu', inputs: ['x'], outputs: ['relu'] },
      ],
      inputs: [...inputs.map((i) => ({ ...i, init: i.values })), x],
      outputs: [...Y, { name: 'relu', type: 'float32' }],
    }),
    inputs: [x],
  };
}

describe('signal ops against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
    for (const periodic of [1, 0]) {
      for (const size of [0, 1, 2, 10, 64, 1000]) {
        // ONNX refuses a constant size of 0 (shape inference); a run-time 0 gives an empty window.
        for (const constant of size === 0 ? [false] : [false, true]) {
          test(`${op} periodic ${periodic}, size ${size}${constant ? ', constant (folded)' : ''}`, async () => {
            const inputs = [{ name: 'size', type: 'int64', dims: [], values: [size] }];
            const attrs = { periodic };
            const spec = constant
              ? { op, ...constantModel(op, inputs, attrs) }
              : { op, opset: 17, attrs, inputs, outputs: Y };
            const theirs = await checkAgainstOrt(api, spec, TOL);
            assert.equal(theirs.y.shape[0], size);
          });
        }
      }
    }
  }

  const mels = [
    [8, 16, 8192, 0, 4096],
    [10, 64, 16000, 20, 8000],
    [40, 512, 16000, 0, 8000],
    [80, 400, 16000, 60, 7600],
    [3, 10, 1000, 100, 300],
  ];
  for (const [M, D, R, lo, hi] of mels) {
    for (const constant of [false, true]) {
      test(`MelWeightMatrix ${M} bands, ${D}-point DFT at ${R} Hz, ${lo}..${hi} Hz${constant ? ', constant (folded)' : ''}`, async () => {
        const inputs = [
          { name: 'm', type: 'int64', dims: [], values: [M] },
          { name: 'd', type: 'int64', dims: [], values: [D] },
          { name: 'r', type: 'int64', dims: [], values: [R] },
          { name: 'lo', type: 'float32', dims: [], values: [lo] },
          { name: 'hi', type: 'float32', dims: [], values: [hi] },
        ];
        const op = 'MelWeightMatrix';
        const spec = constant ? { op, ...constantModel(op, inputs, {}) } : { op, opset: 17, inputs, outputs: Y };
        const theirs = await checkAgainstOrt(api, spec, TOL);
        assert.deepEqual(theirs.y.shape, [Math.floor(D / 2) + 1, M]);
      });
    }
  }

  describe('bad input', () => {
    const size = { name: 'size', type: 'int64', dims: [] };
    const bad = [
      [
        'an int output_datatype',
        'HannWindow',
        { inputs: [size], attrs: { output_datatype: 7 } },
        /output_datatype 7 is not supported yet/,
      ],
      [
        'a vector size',
        'HammingWindow',
        { inputs: [{ ...size, dims: [2] }] },
        /the window size must be a scalar, got \[2\]/,
      ],
      [
        'a float size',
        'BlackmanWindow',
        { inputs: [{ ...size, type: 'float32' }] },
        /the window size is float32; it must be int64 or int32/,
      ],
    ];
    for (const [what, op, spec, message] of bad) {
      test(`${op}: ${what}`, async () => {
        await assert.rejects(api.compile(nodeModel({ op, opset: 17, outputs: Y, ...spec })), (err) => {
          assert.ok(err instanceof api.CompileError, `${err?.name}: ${err?.message}`);
          assert.equal(err.problems.length, 1);
          assert.match(err.problems[0].message, message);
          return true;
        });
      });
    }

    test('a constant window size of 0: a CompileError (ONNX refuses it too)', async () => {
      const inputs = [{ ...size, values: [0] }];
      await assert.rejects(runOrt(constantModel('HannWindow', inputs, {}).bytes, {}), /greater than 0/);
      await assert.rejects(api.compile(constantModel('HannWindow', inputs, {}).bytes), (err) => {
        assert.ok(err instanceof api.CompileError);
        assert.match(err.problems[0].message, /the window size is 0; it must be at least 1/);
        return true;
      });
    });

    test('a window longer than the bound it was compiled for: shape-out-of-bounds naming --dim window', async () => {
      const bytes = nodeModel({ op: 'HannWindow', opset: 17, inputs: [size], outputs: Y });
      const model = await api.loadModel((await api.compile(bytes, { dims: { window: '..100' } })).wasm);
      const feeds = (n) => feedsOf([{ ...size, values: [n] }]);
      assert.throws(
        () => model.run(feeds(101)),
        (err) => err.code === 'shape-out-of-bounds' && /--dim window=\.\.101/.test(err.message),
      );
      assert.equal(model.run(feeds(100)).y.shape[0], 100);
      // --dim may raise the default bound too (nothing in the graph bounds a window's size)
      const big = await api.loadModel((await api.compile(bytes, { dims: { window: '..100000' } })).wasm);
      assert.equal(big.run(feeds(100000)).y.shape[0], 100000);
    });

    test('a negative window size fails the call (onnxruntime refuses it too); the next call works', async () => {
      const bytes = nodeModel({ op: 'HannWindow', opset: 17, inputs: [size], outputs: Y });
      await assert.rejects(runOrt(bytes, feedsOf([{ ...size, values: [-3] }])));
      const model = await api.loadModel((await api.compile(bytes)).wasm);
      assert.throws(() => model.run(feedsOf([{ ...size, values: [-3] }])), { code: 'bad-input' });
      assert.equal(model.run(feedsOf([{ ...size, values: [4] }])).y.shape[0], 4);
    });

    test('mel edges beyond the spectrum at run time fail the call (onnxruntime refuses them too)', async () => {
      const inputs = [
        { name: 'm', type: 'int64', dims: [], values: [8] },
        { name: 'd', type: 'int64', dims: [], values: [64] },
        { name: 'r', type: 'int64', dims: [], values: [8000] },
        { name: 'lo', type: 'float32', dims: [], values: [0] },
        { name: 'hi', type: 'float32', dims: [], values: [6000] },
      ];
      const bytes = nodeModel({ op: 'MelWeightMatrix', opset: 17, inputs, outputs: Y });
      await assert.rejects(runOrt(bytes, feedsOf(inputs)), /upper_edge_hertz/);
      const model = await api.loadModel((await api.compile(bytes)).wasm);
      assert.throws(() => model.run(feedsOf(inputs)), { code: 'bad-input' });
      inputs[4].values = [4000];
      assert.deepEqual(model.run(feedsOf(inputs)).y.shape, [33, 8]);
    });

    test('constant mel edges beyond the spectrum: a CompileError', async () => {
      const inputs = ['m', 'd', 'r', 'lo', 'hi'].map((name, i) => ({
        name,
        type: i < 3 ? 'int64' : 'float32',
        dims: [],
        values: [[8, 64, 8000, 0, 6000][i]],
      }));
      await assert.rejects(api.compile(constantModel('MelWeightMatrix', inputs, {}).bytes), (err) => {
        assert.ok(err instanceof api.CompileError);
        assert.match(err.problems[0].message, /does not fit a 64-point DFT at 8000 Hz/);
        return true;
      });
    });
  });
});
