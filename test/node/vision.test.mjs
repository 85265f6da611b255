// Convolutional and attention fixtures (test/fixtures/make_vision.py): what models.test.mjs's
// comparison with PyTorch does not show. Old exports' initializers-as-inputs become constants, not
// model inputs; BatchNormalization and the activations after a convolution fold into its GEMM or
// depthwise kernel instead of running as separate passes; the same trained network exported at
// different opsets (BatchNormalization kept or folded by the exporter, LayerNormalization fused or
// decomposed) gives the same numbers.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, readJSON, loadApi, compileAndLoad, mismatch } from './helpers.mjs';

const MODELS = path.join(FIXTURES, 'models');
const bytes = (file) => new Uint8Array(readFileSync(file));
const model = (name) => bytes(path.join(MODELS, `${name}.onnx`));
const ref = (name) => readJSON(path.join(MODELS, `${name}.json`));

describe('vision fixtures: structure of the compiled models', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  test('initializers listed among the graph inputs (opset 7–9 exports) are constants, not inputs', async () => {
    for (const [file, input] of [
      [path.join(MODELS, 'digits_cnn_op9.onnx'), 'input'],
      [path.join(FIXTURES, 'ops/conv_bn_inits_as_inputs_op9.onnx'), 'x'],
      [path.join(FIXTURES, 'ops/gemm_inits_as_inputs_op7.onnx'), 'x'],
    ]) {
      const { meta } = await api.compile(bytes(file));
      assert.deepEqual(
        meta.inputs.map((i) => i.name),
        [input],
        `${path.basename(file)}: ${JSON.stringify(meta.inputs)}`,
      );
    }
  });

  test('digits_cnn: BatchNormalization and Relu fold into the convolutions (no separate elementwise passes)', async () => {
    const { meta } = await api.compile(model('digits_cnn'));
    assert.ok(
      meta.ops.includes('BatchNormalization'),
      `the fixture should keep its BatchNormalization nodes: ${meta.ops}`,
    );
    const separate = meta.kernels.filter((k) => k.startsWith('binary_') || k.startsWith('unary_'));
    assert.deepEqual(separate, [], `kernels: ${meta.kernels}`);
  });

  test('tiny_resnet_dw: depthwise kernel; BatchNormalization, HardSwish, ReLU6 and HardSigmoid fused', async () => {
    const { meta } = await api.compile(model('tiny_resnet_dw'));
    for (const op of ['BatchNormalization', 'HardSwish', 'Clip', 'HardSigmoid'])
      assert.ok(meta.ops.includes(op), `${op} missing from ${meta.ops}`);
    assert.ok(meta.kernels.includes('conv_depthwise'), `kernels: ${meta.kernels}`);
    assert.deepEqual(
      meta.kernels.filter((k) => k.startsWith('unary_')),
      [],
      `kernels: ${meta.kernels}`,
    );
  });

  for (const [a, b, tol] of [
    ['digits_cnn', 'digits_cnn_op9', 1e-5],
    ['tiny_transformer_op13', 'tiny_transformer_op17', 1e-5],
  ]) {
    test(`${a} and ${b} (one trained network, two exports) agree`, async () => {
      const r = ref(a);
      const input = Object.values(r.inputs)[0];
      const rows = input.shape[0];
      const outs = [];
      for (const name of [a, b]) {
        const { model: m } = await compileAndLoad(api, model(name));
        outs.push(Object.values(m.predict(Float32Array.from(input.data), rows))[0].data);
      }
      assert.deepEqual(
        ref(b).inputs[Object.keys(ref(b).inputs)[0]].data,
        input.data,
        'the fixtures should share their reference rows',
      );
      assert.equal(mismatch(outs[1], outs[0], { atol: tol, rtol: tol }), null);
    });
  }
});
