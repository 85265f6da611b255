// Hostile model files, built with binaryen: modules with the model ABI (memory, run, inputPtr, outputPtr,
// headerPtr, maxBatch; runtime/abi.ts has the header), the planned memory and a real fixture's ml.meta
// copied in, that misbehave in one way each.
// The test runner serves them at /__test/hostile/<kind>.wasm (web-test-runner.config.mjs).
import binaryen from 'binaryen';
import { readFile } from 'node:fs/promises';

/**
 * What each kind does differently from `sane` (which loads and predicts zeros):
 *   zero-batch   maxBatch() returns 0 (predict's `start += maxBatch` would never end)
 *   other-batch  maxBatch() returns one more than the metadata declares
 *   loop         run() never returns
 *   trap         run() traps (unreachable)
 *   input-outside inputPtr(0) points at the last 4 bytes of memory: no room for a batch of rows
 *   unaligned    outputPtr(0) is not 4-byte aligned
 */
export const HOSTILE_KINDS = ['sane', 'zero-batch', 'other-batch', 'loop', 'trap', 'input-outside', 'unaligned'];

/** The ml.meta JSON of a compiled fixture. */
export async function fixtureMeta(file) {
  const module = new WebAssembly.Module(await readFile(file));
  return JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, 'ml.meta')[0]));
}

/** The bytes of a `kind` module carrying `meta` (a fixture's, see fixtureMeta). */
export function hostileModel(kind, meta) {
  if (!HOSTILE_KINDS.includes(kind)) throw new Error(`unknown hostile kind ${kind}`);
  const m = new binaryen.Module();
  const pages = meta.memoryBytes / 65536;
  m.setMemory(pages, pages, 'memory');
  const rows = meta.maxBatch;
  const elements = (t) => t.shape.reduce((a, d) => a * (typeof d === 'number' ? d : rows), 1);
  // The I/O header at byte 16: 8 status words, then each input's dims, then each output's.
  const header = 16;
  const ranks = [...meta.inputs, ...meta.outputs].map((t) => t.shape.length);
  const words = 8 + ranks.reduce((a, b) => a + b, 0);
  // Inputs after the header, outputs after them: room for maxBatch rows each, as a compiled model has.
  let at = header + Math.ceil((words * 4) / 16) * 16;
  const inputs = meta.inputs.map((t) => [at, (at += elements(t) * 4)][0]);
  const outputs = meta.outputs.map((t) => [at, (at += elements(t) * 4)][0]);
  if (kind === 'input-outside') inputs[0] = meta.memoryBytes - 4;
  if (kind === 'unaligned') outputs[0] += 2;
  const table = (ptrs) =>
    ptrs.reduceRight(
      (rest, ptr, i) => m.if(m.i32.eq(m.local.get(0, binaryen.i32), m.i32.const(i)), m.i32.const(ptr), rest),
      m.i32.const(-1),
    );
  const batch = kind === 'zero-batch' ? 0 : kind === 'other-batch' ? rows + 1 : rows;
  // A sane run writes each output's dims (a symbolic one is the first input's first dim) and returns OK.
  let word = 8 + meta.inputs.reduce((a, t) => a + t.shape.length, 0);
  const firstInputDim = m.i32.load(8 * 4, 4, m.i32.const(header));
  const dims = meta.outputs.flatMap((t) =>
    t.shape.map((d) =>
      m.i32.store(4 * word++, 4, m.i32.const(header), typeof d === 'number' ? m.i32.const(d) : firstInputDim),
    ),
  );
  const run =
    kind === 'loop'
      ? m.loop('forever', m.br('forever'))
      : kind === 'trap'
        ? m.unreachable()
        : m.block(null, [...dims, m.return(m.i32.const(0))], binaryen.i32);
  m.addFunction('maxBatch', binaryen.none, binaryen.i32, [], m.i32.const(batch));
  m.addFunction('inputPtr', binaryen.i32, binaryen.i32, [], table(inputs));
  m.addFunction('outputPtr', binaryen.i32, binaryen.i32, [], table(outputs));
  m.addFunction('headerPtr', binaryen.none, binaryen.i32, [], m.i32.const(header));
  m.addFunction('run', binaryen.none, binaryen.i32, [], run);
  for (const name of ['maxBatch', 'inputPtr', 'outputPtr', 'headerPtr', 'run']) m.addFunctionExport(name, name);
  m.addCustomSection('ml.meta', new TextEncoder().encode(JSON.stringify(meta)));
  if (!m.validate()) throw new Error(`hostile ${kind}: binaryen says the module is invalid`);
  const out = m.emitBinary();
  m.dispose();
  return out;
}
