// One conformance case (a committed ONNX node test in one variant) through our compiler and runtime:
// compile the model bytes, load the module, run it at the test's exact shapes (runExact), compare with
// ONNX's expected outputs as ONNX's runner does. The verdict is { pass: true } or { pass: false, reason }
// with a one-line reason (the CompileError's code and first problem, the runtime's error, or the mismatch).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compareOutputs } from './compare.mjs';
import { FIXTURES, ROOT, loadTest, outOfScope, readIndex, variant, variantsOf } from './fixtures.mjs';
import { NoRunYet, runExact } from './run-exact.mjs';

export const KNOWN_FAILURES = path.join(ROOT, 'test/conformance/known-failures.json');

/** dist/compiler and dist/runtime (built by `npm run build`). */
export async function loadApi() {
  const compiler = path.join(ROOT, 'dist/compiler/index.js');
  const runtime = path.join(ROOT, 'dist/runtime/index.js');
  if (!existsSync(compiler) || !existsSync(runtime)) throw new Error('dist/ is missing: run `npm run build` first');
  return { ...(await import(compiler)), ...(await import(runtime)) };
}

/** The key a case has in the known-failures list: the test's name, with " (const)" for that variant. */
export const caseKey = (entry, variantName) => (variantName === 'as-is' ? entry.name : `${entry.name} (const)`);

/**
 * Every case the suite runs, in index order: { key, entry, variant, skip } where `skip` says why a case
 * is not run against our compiler (outside the dtypes we take, or not passed by onnxruntime-node).
 */
export function cases(index = readIndex()) {
  const out = [];
  for (const entry of index.tests) {
    if (entry.ort.status !== 'pass') continue; // not committed: onnxruntime-node does not pass it
    const scope = outOfScope(entry);
    for (const v of variantsOf(entry)) {
      let skip = scope && `out of scope: ${scope}`;
      if (!skip && v === 'const' && entry.ortConst?.status !== 'pass') skip = 'onnxruntime-node fails this variant';
      out.push({ key: caseKey(entry, v), entry, variant: v, skip });
    }
  }
  return out;
}

const oneLine = (s, max = 220) => {
  const line = String(s).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

function compileReason(err) {
  if (err?.name === 'CompileError') {
    const [first, ...rest] = err.problems ?? [];
    const what = first ? `${first.op}: ${first.message}` : err.message.split('\n')[0];
    return oneLine(`CompileError ${err.code}: ${what}${rest.length ? ` (+${rest.length} more)` : ''}`);
  }
  return oneLine(`compile threw ${err?.name ?? 'a non-error'}: ${err?.message ?? err}`);
}

function runReason(err) {
  if (err instanceof NoRunYet) return oneLine(err.message);
  if (err?.name === 'ModelError') return oneLine(`ModelError ${err.code}: ${err.message}`);
  return oneLine(`run threw ${err?.name ?? 'a non-error'}: ${err?.message ?? err}`);
}

/** Our verdict on one case (see the header). `test` is loadTest()'s result, loaded once per test. */
export async function runCase(api, c, test = loadTest(c.entry)) {
  const { bytes, inputs } = variant(c.variant, test);
  let model;
  try {
    const { wasm } = await api.compile(bytes);
    model = await api.loadModel(wasm);
  } catch (err) {
    return { pass: false, reason: compileReason(err) };
  }
  let actual;
  try {
    const feeds = Object.fromEntries(inputs.map((t) => [t.name, { data: t.data, shape: t.shape }]));
    actual = await runExact(model, feeds);
  } catch (err) {
    return { pass: false, reason: runReason(err) };
  }
  const reason = compareOutputs(actual, test.outputs);
  return reason ? { pass: false, reason: oneLine(reason) } : { pass: true };
}

/** The committed known-failures list: { [key]: { op, reason } }. */
export function readKnownFailures() {
  return existsSync(KNOWN_FAILURES) ? JSON.parse(readFileSync(KNOWN_FAILURES, 'utf8')).failures : {};
}

export { FIXTURES, ROOT };
