// The committed ONNX backend node tests (test/fixtures/onnx-node/, written by
// test/fixtures/make_onnx_node.mjs): the index, and each test's model and data.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeTensor, onnx } from './tensors.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/onnx-node');

/**
 * The dtypes the compiler's typed tensors take and return (issue 13); a test with any other (float64,
 * float16, string, uint16...) is out of scope, reported apart and not run against our compiler.
 */
export const SCOPE = new Set(['float32', 'int64', 'int32', 'bool', 'uint8', 'int8']);

/**
 * The variants each test runs in:
 *  - "as-is": the test's model as ONNX wrote it, every operand a graph input (the measure of issues 13/14);
 *  - "const": the same model with inputs 2..K made initializers holding the test's data, as a real
 *    model's weights, shapes and axes are (the compiler's folding and weight-packing paths). Only for
 *    tests with more than one input.
 */
export const VARIANTS = ['as-is', 'const'];

export function readIndex(dir = FIXTURES) {
  return JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
}

/** Every dtype a test's values have (inputs and outputs; a sequence's elements too). */
export function dtypesOf(entry) {
  const out = new Set();
  for (const v of [...entry.inputs, ...entry.outputs]) {
    if (v.dtype) out.add(v.dtype);
    if (v.tensor) out.add(v.tensor.dtype);
    for (const e of v.elements ?? []) out.add(e.dtype);
  }
  return [...out].sort();
}

/** Why a test is outside what our compiler takes, or null. */
export function outOfScope(entry) {
  const kinds = [...new Set([...entry.inputs, ...entry.outputs].map((v) => v.kind))].filter((k) => k !== 'tensor');
  if (kinds.length) return `${kinds.join(' and ')} values`;
  const other = dtypesOf(entry).filter((d) => !SCOPE.has(d));
  return other.length ? `${other.join(', ')} data` : null;
}

/** The variants a test has (see VARIANTS). */
export function variantsOf(entry) {
  return entry.inputs.length > 1 ? VARIANTS : VARIANTS.slice(0, 1);
}

/** A test's model bytes and its data: inputs and expected outputs as { name, dtype, shape, data }. */
export function loadTest(entry, dir = FIXTURES) {
  const at = path.join(dir, entry.name);
  const read = (file) => new Uint8Array(readFileSync(path.join(at, file)));
  const inputBytes = entry.inputs.map((_, k) => read(`test_data_set_0/input_${k}.pb`));
  // The graph's names are the truth (a data file's own name field may be empty).
  const named = (bytes, v) => ({ ...decodeTensor(bytes), name: v.name });
  return {
    model: read('model.onnx'),
    inputBytes,
    inputs: inputBytes.map((b, k) => named(b, entry.inputs[k])),
    outputs: entry.outputs.map((v, k) => named(read(`test_data_set_0/output_${k}.pb`), v)),
  };
}

/** The model bytes of a variant, and the inputs it is fed. */
export function variant(name, test) {
  if (name === 'as-is') return { bytes: test.model, inputs: test.inputs };
  const m = onnx.ModelProto.decode(test.model);
  const g = m.graph;
  test.inputBytes.slice(1).forEach((bytes, k) => {
    const tensor = onnx.TensorProto.decode(bytes);
    tensor.name = g.input[k + 1].name;
    g.initializer.push(tensor);
  });
  g.input = g.input.slice(0, 1);
  return { bytes: onnx.ModelProto.encode(m).finish(), inputs: test.inputs.slice(0, 1) };
}
