// The CLI (dist/compiler/cli.js) end to end: compile / inspect / predict on fixtures, predict's JSON
// checked against the source library's reference outputs, and the error paths (missing file,
// unsupported ops, bad input) exit non-zero with a message on stderr.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, FIXTURES, readJSON, mismatch, sameShape } from './helpers.mjs';

const CLI = path.join(ROOT, 'dist/compiler/cli.js');
const MODELS = path.join(FIXTURES, 'models');
const OPS = path.join(FIXTURES, 'ops');
const TOL = { atol: 1e-4, rtol: 1e-4 };

function cli(args, input) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

function assertOk(r, what) {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`);
}

function checkPrediction(out, ref, what) {
  for (const [name, want] of Object.entries(ref.outputs)) {
    const got = out[name];
    assert.ok(got, `${what}: output "${name}" missing in ${Object.keys(out)}`);
    assert.ok(sameShape(got.shape, want.shape), `${what}: "${name}" shape [${got.shape}] != [${want.shape}]`);
    if (want.dtype === 'float32') {
      assert.equal(got.dtype, 'float32', `${what}: "${name}" dtype`);
      const msg = mismatch(got.data, want.data, TOL);
      assert.equal(msg, null, `${what}: "${name}": ${msg}`);
    } else {
      assert.deepEqual(
        got.data.map((v) => (typeof v === 'string' ? v : Number(v))),
        want.data,
        `${what}: "${name}" labels`,
      );
    }
  }
}

describe('CLI', () => {
  let tmp;
  before(() => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'ml-widgets-cli-'));
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  const iris = readJSON(path.join(MODELS, 'iris_mlp.json'));

  test('compile iris_mlp.onnx -o iris.wasm writes a WebAssembly file', () => {
    const out = path.join(tmp, 'iris.wasm');
    assertOk(cli(['compile', path.join(MODELS, 'iris_mlp.onnx'), '-o', out]), 'compile');
    const bytes = readFileSync(out);
    assert.deepEqual([...bytes.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], 'wasm magic');
    assert.ok(WebAssembly.validate(bytes), 'WebAssembly.validate');
  });

  test('inspect iris.wasm prints meta JSON: inputs, outputs, labels from metadata_props, task', () => {
    const r = cli(['inspect', path.join(tmp, 'iris.wasm')]);
    assertOk(r, 'inspect');
    const meta = JSON.parse(r.stdout);
    assert.equal(meta.inputs.length, 1);
    assert.equal(meta.inputs[0].name, 'input');
    assert.deepEqual(meta.inputs[0].shape.slice(1), [4]);
    assert.ok(meta.inputs[0].shape[0] === 'N' || typeof meta.inputs[0].shape[0] === 'number');
    assert.equal(meta.outputs[0].name, 'output');
    assert.deepEqual(meta.labels, iris.labels);
    assert.equal(meta.task, 'classification');
  });

  test('predict iris.wasm --input in.json: 45 rows match torch', () => {
    const inp = path.join(tmp, 'iris-in.json');
    writeFileSync(inp, JSON.stringify(iris.inputs.input));
    const r = cli(['predict', path.join(tmp, 'iris.wasm'), '--input', inp]);
    assertOk(r, 'predict');
    checkPrediction(JSON.parse(r.stdout), iris, 'iris predict');
  });

  test('predict iris.wasm --input - reads the JSON from stdin (one row)', () => {
    const one = { shape: [1, 4], data: iris.inputs.input.data.slice(0, 4) };
    const r = cli(['predict', path.join(tmp, 'iris.wasm'), '--input', '-'], JSON.stringify(one));
    assertOk(r, 'predict stdin');
    const out = JSON.parse(r.stdout);
    const ref = {
      outputs: { output: { ...iris.outputs.output, shape: [1, 3], data: iris.outputs.output.data.slice(0, 3) } },
    };
    checkPrediction(out, ref, 'iris predict row 0');
  });

  test('compile --labels labels.txt (one per line) sets meta.labels; digits_flatten_8x8 [N,8,8] predict matches torch', () => {
    const ref = readJSON(path.join(MODELS, 'digits_flatten_8x8.json'));
    const labels = path.join(tmp, 'digits-labels.txt');
    const names = ref.labels.map((l) => `digit ${l}`);
    writeFileSync(labels, names.join('\n') + '\n');
    const wasm = path.join(tmp, 'digits.wasm');
    assertOk(cli(['compile', path.join(MODELS, 'digits_flatten_8x8.onnx'), '-o', wasm, '--labels', labels]), 'compile');
    const meta = JSON.parse(cli(['inspect', wasm]).stdout);
    assert.deepEqual(meta.labels, names);
    const inp = path.join(tmp, 'digits-in.json');
    writeFileSync(inp, JSON.stringify(ref.inputs.input));
    const r = cli(['predict', wasm, '--input', inp]);
    assertOk(r, 'predict');
    checkPrediction(JSON.parse(r.stdout), ref, 'digits predict');
  });

  test('iris_sklearn_mlp (ZipMap): predict prints string labels and the probability matrix matching sklearn', () => {
    const ref = readJSON(path.join(MODELS, 'iris_sklearn_mlp.json'));
    const wasm = path.join(tmp, 'iris-skl.wasm');
    assertOk(cli(['compile', path.join(MODELS, 'iris_sklearn_mlp.onnx'), '-o', wasm]), 'compile');
    const inp = path.join(tmp, 'iris-skl-in.json');
    writeFileSync(inp, JSON.stringify(ref.inputs.X));
    const r = cli(['predict', wasm, '--input', inp]);
    assertOk(r, 'predict');
    checkPrediction(JSON.parse(r.stdout), ref, 'iris sklearn predict');
  });

  test('compile of a missing file exits non-zero and names the file on stderr', () => {
    const missing = path.join(tmp, 'no-such-model.onnx');
    const r = cli(['compile', missing, '-o', path.join(tmp, 'x.wasm')]);
    assert.notEqual(r.code, 0, 'exit code');
    assert.match(r.stderr, /no-such-model\.onnx/);
    assert.ok(!existsSync(path.join(tmp, 'x.wasm')), 'no output written');
  });

  test('compile of a model with unsupported ops (LpPool, GlobalLpPool) exits non-zero; stderr names each op and node', () => {
    const out = path.join(tmp, 'bad.wasm');
    const r = cli(['compile', path.join(OPS, 'unsupported_lppool_op13.onnx'), '-o', out]);
    assert.notEqual(r.code, 0, 'exit code');
    for (const s of ['LpPool', 'GlobalLpPool', 'my_lppool', 'my_global_lppool'])
      assert.ok(r.stderr.includes(s), `stderr lacks ${s}:\n${r.stderr}`);
    assert.ok(!/\n\s+at .*\.js:\d+/.test(r.stderr), `stderr shows a stack trace:\n${r.stderr}`);
    assert.ok(!existsSync(out), 'no output written');
  });

  test('compile of a file that is not ONNX exits non-zero with a message', () => {
    const junk = path.join(tmp, 'junk.onnx');
    writeFileSync(junk, 'this is not a protobuf');
    const r = cli(['compile', junk, '-o', path.join(tmp, 'junk.wasm')]);
    assert.notEqual(r.code, 0, 'exit code');
    assert.ok(r.stderr.trim().length > 0, 'stderr empty');
  });

  test('inspect / predict of a missing .wasm exit non-zero with a message', () => {
    const missing = path.join(tmp, 'missing.wasm');
    for (const args of [
      ['inspect', missing],
      ['predict', missing, '--input', '-'],
    ]) {
      const r = cli(args, '{"shape":[1,4],"data":[1,2,3,4]}');
      assert.notEqual(r.code, 0, `${args[0]} exit code`);
      assert.match(r.stderr, /missing\.wasm/, `${args[0]} stderr: ${r.stderr}`);
    }
  });

  test('compile --labels with 2 labels for the 3-class iris model exits 1 naming both counts, and writes nothing', () => {
    const labels = path.join(tmp, 'two-labels.txt');
    writeFileSync(labels, 'a\nb\n');
    const out = path.join(tmp, 'iris-two-labels.wasm');
    const r = cli(['compile', path.join(MODELS, 'iris_mlp.onnx'), '-o', out, '--labels', labels]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--labels gives 2 labels, but the model's output has 3 classes/);
    assert.ok(!existsSync(out), 'no output written');
  });

  test('--mean with 3 values for a one-channel image model says how many it takes (not "1 or 1")', () => {
    const r = cli([
      'compile',
      path.join(MODELS, 'digits_cnn.onnx'),
      '-o',
      path.join(tmp, 'digits-cnn.wasm'),
      '--image',
      'auto',
      '--mean',
      '0.1,0.2,0.3',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Give 1 value for --mean\/--std \(the input has 1 channel\), not 3/);
    assert.doesNotMatch(r.stderr, /1 or 1/);
  });

  test('inspect of a damaged or a wrong local file names the file, with no talk of servers or "the model bytes"', () => {
    const whole = readFileSync(path.join(tmp, 'iris.wasm'));
    const broken = path.join(tmp, 'broken.wasm');
    writeFileSync(broken, whole.subarray(0, whole.length >> 1));
    const page = path.join(tmp, 'page.wasm');
    writeFileSync(page, '<!doctype html><title>Not found</title>');
    for (const [file, says] of [
      [broken, /broken\.wasm is damaged or truncated/],
      [page, /page\.wasm is not a WebAssembly model/],
    ]) {
      const r = cli(['inspect', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, says);
      assert.doesNotMatch(r.stderr, /the model bytes|server|at the/i);
    }
  });

  test('an unsupported op ends with what to try next', () => {
    const r = cli(['compile', path.join(OPS, 'unsupported_lppool_op13.onnx'), '-o', path.join(tmp, 'bad2.wasm')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /What to try:/);
    assert.match(r.stderr, /opset/);
    assert.match(r.stderr, /README/);
  });

  test('predict with the wrong number of values per row exits non-zero with a message', () => {
    const r = cli(['predict', path.join(tmp, 'iris.wasm'), '--input', '-'], '{"shape":[1,3],"data":[1,2,3]}');
    assert.notEqual(r.code, 0, 'exit code');
    assert.ok(r.stderr.trim().length > 0, 'stderr empty');
  });
});
