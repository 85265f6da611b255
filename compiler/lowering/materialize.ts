import { CompileError } from '../errors.js';
import { ELEMENT_BYTES, type Program, type RtValue, type Value } from '../program.js';
import { bytesOf, storageOf } from './storage.js';

/**
 * A value as a run-time tensor: a constant is copied from the data segment (a graph output that folded, an
 * If branch that returns a constant), sizes known only at run time are written and widened to int64.
 */
export function materialize(program: Program, v: Value): RtValue {
  if (v.kind === 'rt') return v; // made plain by the caller
  if (v.kind === 'shape') {
    // Sizes known only at run time: a table of i32s, widened to the int64 ONNX says they are.
    const out = program.newValue(v.dims, 'int64');
    const table = program.addTable(v.values);
    program.addStep(
      'cast_i32_i64',
      () => ({ x: table, y: { t: 'buf', b: out.buffer }, n: { t: 'i32', v: v.values.length } }),
      [],
      [out],
    );
    return out;
  }
  const t = v.tensor;
  const storage = storageOf(t.dtype);
  if (!storage)
    throw new CompileError('unsupported-ops', `A constant output of element type ${t.dtype} is not supported.`);
  const out = program.newValue(t.dims, storage);
  if (t.dtype !== storage) out.onnx = t.dtype;
  const ref = program.addData(bytesOf(t, storage));
  program.addStep(
    'copy',
    () => ({
      x: { t: 'data', d: ref },
      y: { t: 'buf', b: out.buffer },
      nbytes: { t: 'i32', v: t.size * ELEMENT_BYTES[storage] },
    }),
    [],
    [out],
  );
  return out;
}
