// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss through our compiler and runtime against
// onnxruntime-node on one-node models: every reduction, with and without class weights, ignore_index
// (in range, negative, never hit), int64 and int32 targets, 2-D to 5-D inputs, the log_prob output, and
// targets and weights as constants or run-time inputs. Floats within 1e-5 relative + 1e-6 absolute.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { loadApi, rng } from './helpers.mjs';
import { checkAgainstOrt, nodeModel } from './ort-compare.mjs';

const prod = (d) => d.reduce((a, b) => a * b, 1);
const TOL = { atol: 1e-6, rtol: 1e-5 };

describe('losses against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  const shapes = [
    [5, 4],
    [3, 5, 7],
    [2, 3, 4, 5],
    [2, 4, 3, 2, 2],
  ];
  let seed = 1;
  for (const op of ['NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss']) {
    for (const dims of shapes) {
      for (const reduction of ['none', 'sum', 'mean']) {
        for (const variant of ['plain', 'weights', 'ignore', 'weights+ignore', 'int32 targets', 'constant']) {
          const s = seed++;
          test(`${op} [${dims}] reduction ${reduction}, ${variant}`, async () => {
            const r = rng(s);
            const [N, C] = dims;
            const tDims = [N, ...dims.slice(2)];
            const ignore = variant.includes('ignore') ? (r() < 0.5 ? 1 : -3) : undefined;
            const targets = Array.from({ length: prod(tDims) }, () =>
              ignore !== undefined && r() < 0.3 ? ignore : Math.floor(r() * C),
            );
            const x = {
              name: 'x',
              type: 'float32',
              dims,
              values: Array.from({ length: prod(dims) }, () => (op.startsWith('Neg') ? -r() * 5 : (r() - 0.5) * 8)),
            };
            const constant = variant === 'constant';
            const type = variant === 'int32 targets' ? 'int32' : 'int64';
            const t = { name: 't', type, dims: tDims, values: targets, ...(constant ? { init: targets } : {}) };
            const inputs = [x, t];
            if (variant.includes('weights') || constant) {
              const w = Array.from({ length: C }, () => 0.2 + r() * 2);
              inputs.push({ name: 'w', type: 'float32', dims: [C], values: w, ...(constant ? { init: w } : {}) });
            }
            const attrs = { reduction, ...(ignore !== undefined ? { ignore_index: ignore } : {}) };
            const outputs = [{ name: 'loss', type: 'float32' }];
            if (op.startsWith('Soft') && s % 2 === 0) outputs.push({ name: 'log_prob', type: 'float32' });
            await checkAgainstOrt(api, { op, opset: 13, attrs, inputs, outputs }, TOL);
          });
        }
      }
    }
  }

  test('every target ignored or of weight 0: the mean is NaN (0 / 0) and the sum 0, as ONNX defines them', async () => {
    for (const reduction of ['mean', 'sum']) {
      for (const withWeights of [false, true]) {
        const inputs = [
          { name: 'x', type: 'float32', dims: [3, 4], values: Array.from({ length: 12 }, (_, i) => -i / 7) },
          { name: 't', type: 'int64', dims: [3], values: [2, 2, 2] },
        ];
        if (withWeights) inputs.push({ name: 'w', type: 'float32', dims: [4], values: [1, 2, 0, 4] });
        await checkAgainstOrt(
          api,
          {
            op: 'SoftmaxCrossEntropyLoss',
            opset: 13,
            attrs: { reduction, ignore_index: 2 },
            inputs,
            outputs: [{ name: 'loss', type: 'float32' }],
          },
          TOL,
        );
      }
    }
  });

  describe('bad input: a CompileError naming the node and what is wrong, or a shape-mismatch at run time', () => {
    const x = { name: 'x', type: 'float32', dims: [3, 4] };
    const t = { name: 't', type: 'int64', dims: [3] };
    const bad = [
      [
        'a float target',
        { inputs: [x, { ...t, type: 'float32' }] },
        /the target is float32; it must be int64 or int32/,
      ],
      ['a target of the wrong rank', { inputs: [x, { ...t, dims: [3, 2] }] }, /the target \[3, 2\] must be \[3\]/],
      ['a target of the wrong size', { inputs: [x, { ...t, dims: [2] }] }, /the target \[2\] must be \[3\]/],
      ['a 1-D input', { inputs: [{ ...x, dims: [4] }, t] }, /the input must be \[N, C, …\], got \[4\]/],
      [
        'weights not [C]',
        { inputs: [x, t, { name: 'w', type: 'float32', dims: [5] }] },
        /the weights \[5\] must be \[C\] = \[4\]/,
      ],
      [
        'an unknown reduction',
        { inputs: [x, t], attrs: { reduction: 'avg' } },
        /reduction "avg" is not one of none, sum, mean/,
      ],
    ];
    for (const op of ['NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss']) {
      for (const [what, spec, message] of bad) {
        test(`${op}: ${what}`, async () => {
          const bytes = nodeModel({ op, opset: 13, outputs: [{ name: 'y', type: 'float32' }], ...spec });
          await assert.rejects(api.compile(bytes), (err) => {
            assert.ok(err instanceof api.CompileError, `${err?.name}: ${err?.message}`);
            assert.equal(err.problems.length, 1);
            assert.equal(err.problems[0].op, op);
            assert.equal(err.problems[0].node, `${op}_0`);
            assert.match(err.problems[0].message, message);
            return true;
          });
        });
      }
    }

    test('targets whose run-time size differs from the input batch: shape-mismatch, and the model still runs', async () => {
      const bytes = nodeModel({
        op: 'SoftmaxCrossEntropyLoss',
        opset: 13,
        attrs: { reduction: 'none' },
        inputs: [
          { name: 'x', type: 'float32', dims: ['N', 4] },
          { name: 't', type: 'int64', dims: ['M'] },
        ],
        outputs: [{ name: 'y', type: 'float32' }],
      });
      const model = await api.loadModel((await api.compile(bytes)).wasm);
      const x = { data: new Float32Array(12), shape: [3, 4] };
      assert.throws(() => model.run({ x, t: { data: new BigInt64Array(2), shape: [2] } }), { code: 'shape-mismatch' });
      const { y } = model.run({ x, t: { data: BigInt64Array.from([0n, 3n, 1n]), shape: [3] } });
      assert.deepEqual(y.shape, [3]);
      for (const v of y.data) assert.ok(Math.abs(v - Math.log(4)) < 1e-6, `${v} is not ln 4`);
    });
  });
});
