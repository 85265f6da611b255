// Pretrained models that public npm packages ship (test/fixtures/pretrained/: Silero VAD v5 and v4 committed,
// MIT; openWakeWord's melspectrogram, embedding and wake-word heads and PaddleOCR's PP-OCR detection,
// recognition and orientation models read from their devDependencies in node_modules, since their licences
// or sizes keep them out of the repository). References are onnxruntime-node's outputs on realistic inputs
// (espeak-ng speech, printed text), made by test/fixtures/make_pretrained_refs.mjs; stateful models as
// streams of calls feeding their state back.
//
// 1. The files are the ones the references were made from (sha256, the pinned package version) and
//    onnxruntime-node still reproduces every reference.
// 2. Our compiler and runtime through the target API, under the ratchet of real-models-status.json (see
//    shapes-models.test.mjs). Tolerance: 1e-4 relative + 1e-5 absolute on every float output; PP-OCR
//    recognition's 6625-class softmax is compared at the reference's top-5 classes per step, plus the argmax.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, FIXTURES, loadApi } from './helpers.mjs';
import { readRefs, ortProblems, variantsOf, readStatus, checkVariant, realModels } from './real-models.mjs';

const models = realModels().filter((m) => m.folder === 'pretrained');
const status = readStatus();
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('pretrained models from npm packages: files and references against onnxruntime-node', () => {
  for (const { name, json } of models) {
    test(`${name}: the model file is the one recorded, and onnxruntime-node reproduces the references`, async () => {
      const ref = readRefs(json);
      assert.equal(createHash('sha256').update(ref.bytes).digest('hex'), ref.sha256, `${ref.file} changed`);
      if (ref.committed) {
        assert.ok(ref.modelPath.startsWith('test/fixtures/pretrained/'), ref.modelPath);
        const notice = readFileSync(path.join(FIXTURES, 'pretrained', 'NOTICE.md'), 'utf8');
        assert.ok(notice.includes(ref.model), `NOTICE.md names ${ref.model} and its licence`);
      } else {
        assert.equal(pkg.devDependencies[ref.package.name], ref.package.version, `${ref.package.name} pinned`);
      }
      assert.deepEqual(await ortProblems(ref), []);
    });
  }
});

describe('pretrained models from npm packages: our compiler and runtime (run(), stream()) against onnxruntime', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  for (const { name, json } of models) {
    const ref = readRefs(json);
    for (const variant of variantsOf(`pretrained/${name}`, ref)) {
      const expected = status[variant.id];
      test(`${variant.id} [${expected?.split(':')[0] ?? 'not in the status file'}]`, async (t) => {
        await checkVariant(api, ref, variant, expected, (m) => t.diagnostic(m));
      });
    }
  }
});
