// Models whose shapes go beyond the batch (test/fixtures/shapes/, made by make_shapes.py with PyTorch): a
// transformer text classifier over any sequence length with padding masks, a conv net over any height and
// width, GRU and LSTM sequence models (initial state as an input, bidirectional), `If` on an int64 and on a
// bool scalar input, a streaming VAD carrying its own state, and a 2x upsampler (every Resize mode PyTorch
// exports, PixelShuffle) over any height and width. References are PyTorch's own outputs.
//
// 1. The references are what onnxruntime-node computes from the same files (so they say what ONNX means).
// 2. Our compiler and runtime through the target API (real-models.mjs): each variant must do what
//    test/fixtures/real-models-status.json says: "pass" passes; "not yet" may still be refused with a
//    CompileError, but fails once it compiles and matches (regenerate the file: the list only shrinks);
//    a wrong answer fails always. Tolerance: 1e-4 relative + 1e-5 absolute on every float output.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FIXTURES, loadApi } from './helpers.mjs';
import { readRefs, ortProblems, variantsOf, readStatus, checkVariant, realModels } from './real-models.mjs';

const models = realModels().filter((m) => m.folder === 'shapes');
const status = readStatus();

describe('PyTorch exports with dynamic shapes: references against onnxruntime-node', () => {
  for (const { name, json } of models) {
    test(`${name}: onnxruntime-node reproduces PyTorch's outputs`, async () => {
      const ref = readRefs(json);
      assert.deepEqual(await ortProblems(ref), []);
    });
  }

  test('the references are not degenerate: outputs vary across calls and sizes', () => {
    for (const { name, json } of models) {
      const ref = readRefs(json);
      const calls = [...ref.cases, ...(ref.stream?.steps ?? [])];
      for (const out of ref.outputs.filter((o) => o.dtype === 'float32')) {
        const values = calls.flatMap((c) => Array.from(c.outputs[out.name].data));
        const spread = Math.max(...values) - Math.min(...values);
        assert.ok(spread > 0.1, `${name}: output "${out.name}" spans only ${spread}`);
      }
    }
  });

  test('the sizes the issues name are covered', () => {
    const names = (n) => readRefs(path.join(FIXTURES, 'shapes', `${n}.json`)).cases.map((c) => c.name);
    for (const len of [1, 7, 16, 64, 256]) {
      assert.ok(
        names('text_transformer').some((c) => c.startsWith(`seq=${len} `)),
        `text_transformer at length ${len}`,
      );
    }
    assert.ok(names('texture_cnn').length >= 4);
    const vad = readRefs(path.join(FIXTURES, 'shapes', 'stream_vad.json'));
    assert.ok(vad.stream.steps.length >= 32, 'a stream of chunks');
  });
});

describe('PyTorch exports with dynamic shapes: our compiler and runtime (run(), stream()) against PyTorch', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  for (const { name, json } of models) {
    const ref = readRefs(json);
    for (const variant of variantsOf(`shapes/${name}`, ref)) {
      const expected = status[variant.id];
      test(`${variant.id} [${expected?.split(':')[0] ?? 'not in the status file'}]`, async (t) => {
        await checkVariant(api, ref, variant, expected, (m) => t.diagnostic(m));
      });
    }
  }
});
