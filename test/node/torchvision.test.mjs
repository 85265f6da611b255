// torchvision's MobileNetV2, SqueezeNet 1.1 and ResNet18 (random weights, 224²) against PyTorch's own
// outputs. Too big to commit: test/fixtures/make_vision.py --torchvision writes them to
// test/fixtures/build/torchvision/; this test runs it when they are missing and Debian's python3-torch
// and python3-torchvision are there, and otherwise skips, saying why.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { FIXTURES, readJSON, loadApi, compileAndLoad, mismatch } from './helpers.mjs';

const DIR = path.join(FIXTURES, 'build/torchvision');
// Debian's packages live under /usr/bin/python3; a python3 earlier on PATH (pyenv) may lack them.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const NAMES = ['mobilenet_v2', 'squeezenet1_1', 'resnet18'];

// References made before make_vision.py estimated the BatchNorm statistics had MobileNetV2 logits ~1e-9
// (any output would pass): those are made again.
const current = (n) =>
  existsSync(path.join(DIR, `${n}.json`)) &&
  readJSON(path.join(DIR, `${n}.json`)).note.includes('BatchNorm statistics');

function ensureModels() {
  if (NAMES.every(current)) return null;
  const r = spawnSync(PYTHON, [path.join(FIXTURES, 'make_vision.py'), '--torchvision', DIR], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0)
    return `python3 with torch and torchvision could not generate them (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return null;
}

const why = ensureModels();

describe('torchvision architectures against PyTorch', { skip: why ?? false }, () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  for (const name of NAMES) {
    test(`${name}: logits within 1e-4 (relative to the logits' scale) of PyTorch`, async () => {
      const ref = readJSON(path.join(DIR, `${name}.json`));
      const { model } = await compileAndLoad(api, new Uint8Array(readFileSync(path.join(DIR, `${name}.onnx`))));
      const input = ref.inputs.input;
      const got = model.predict(Float32Array.from(input.data), input.shape[0]).logits;
      const want = ref.outputs.logits.data;
      const scale = Math.max(1, ...want.map(Math.abs));
      // The comparison means something only if the logits are spread well beyond the tolerance.
      const spread = Math.max(...want) - Math.min(...want);
      assert.ok(spread > 0.1, `reference logits span only ${spread}: regenerate with make_vision.py --torchvision`);
      assert.equal(mismatch(got.data, want, { atol: 1e-4 * scale, rtol: 1e-4 }), null);
      const { arenaBytes, peakLiveBytes } = model.meta;
      console.log(
        `${name}: arena ${(arenaBytes / 2 ** 20).toFixed(2)} MiB, peak live set ${(peakLiveBytes / 2 ** 20).toFixed(2)} MiB`,
      );
      // The static plan keeps the arena near the largest set of buffers alive at once.
      if (name === 'mobilenet_v2')
        assert.ok(arenaBytes <= 1.3 * peakLiveBytes, `arena ${arenaBytes} vs peak live ${peakLiveBytes}`);
    });
  }
});
