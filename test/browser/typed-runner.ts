// Running a broadcasting typed kernel (a, b, y, rows, table) against a reference, for the compare and
// integer kernel tests: every broadcast case, operands at odd addresses, a canary after y, and y = a in
// place where a is laid out like y.
import { expect } from '@open-wc/testing';
import type { KernelName } from '../../compiler/abi/kernels.js';
import { Arena, call, type KernelExports } from './kernel-harness.js';
import {
  binaryCases,
  operandIndices,
  operandLength,
  outputCount,
  tableOf,
  type BroadcastCase,
} from './broadcast-ref.js';
import { same, typedOf, type ElemType, type Value } from './typed-types.js';

/** n elements of type t at p, copied out (any alignment). */
export function readTyped(k: KernelExports, t: ElemType, p: number, n: number): Value[] {
  const bytes = (t.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const copy = k.memory.buffer.slice(p, p + n * bytes);
  return Array.from(new t.Ctor(copy, 0, n) as unknown as ArrayLike<Value>);
}

export interface BinarySpec {
  A: ElemType;
  B: ElemType;
  Y: ElemType;
  /** The reference, on exact values (bigints for int64); its result is wrapped into Y. */
  f: (a: Value, b: Value) => Value;
  /** Operand values (default: the types' own generators). */
  gen?: (which: 0 | 1, rand: () => number) => Value;
}

const CANARY_BYTE = 0xa5;

function runCase(
  k: KernelExports,
  arena: Arena,
  kernel: KernelName,
  spec: BinarySpec,
  c: BroadcastCase,
  rand: () => number,
  misalign: number,
): void {
  const gen = spec.gen ?? ((w: 0 | 1, r: () => number) => (w === 0 ? spec.A : spec.B).random(r));
  // Through the typed arrays, so the reference sees the stored values (floats rounded to float32).
  const stored = (t: ElemType, v: Value[]) => Array.from(typedOf(t, v) as unknown as ArrayLike<Value>);
  const a = stored(
    spec.A,
    Array.from({ length: operandLength(c, 0) }, () => gen(0, rand)),
  );
  const b = stored(
    spec.B,
    Array.from({ length: operandLength(c, 1) }, () => gen(1, rand)),
  );
  const want = operandIndices(c).map(([ia, ib]) => spec.Y.wrap(spec.f(a[ia], b[ib])));
  const n = outputCount(c);
  const yBytes = n * (spec.Y.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const what = `${kernel} ${c.name}${misalign ? ` (misaligned by ${misalign})` : ''}`;
  const check = (got: Value[], label: string) => {
    for (let i = 0; i < n; i++) {
      if (!same(spec.Y, got[i], want[i])) {
        const [ia, ib] = operandIndices(c)[i];
        expect.fail(`${what}${label}: y[${i}] = ${got[i]} for (${a[ia]}, ${b[ib]}), want ${want[i]}`);
      }
    }
  };
  arena.reset();
  const pa = arena.putTyped(typedOf(spec.A, a), misalign);
  const pb = arena.putTyped(typedOf(spec.B, b), misalign);
  const table = arena.putI32(tableOf(c, 99)); // d0 in the table must be ignored
  const py = arena.outBytes(yBytes, misalign);
  call(k, kernel, { a: pa, b: pb, y: py, rows: c.dims[0], table } as never);
  check(readTyped(k, spec.Y, py, n), '');
  const after = new Uint8Array(k.memory.buffer, py + yBytes, 16);
  if (after.some((v) => v !== CANARY_BYTE)) expect.fail(`${what}: wrote past y`);

  // In place over a when a has y's type and layout.
  const contiguous = c.dims.map((_, j) => c.dims.slice(j + 1).reduce((p, d) => p * d, 1));
  const likeY = c.strides[0].every((s, j) => s === contiguous[j] || c.dims[j] === 1);
  if (spec.A === spec.Y && a.length === n && likeY) {
    const pa2 = arena.putTyped(typedOf(spec.A, a), misalign);
    call(k, kernel, { a: pa2, b: pb, y: pa2, rows: c.dims[0], table } as never);
    check(readTyped(k, spec.Y, pa2, n), ' (y = a)');
  }
}

/** Every broadcast case, aligned and misaligned. */
export function checkBinary(
  k: KernelExports,
  arena: Arena,
  kernel: KernelName,
  spec: BinarySpec,
  rand: () => number,
): void {
  for (const c of binaryCases()) {
    runCase(k, arena, kernel, spec, c, rand, 0);
    runCase(
      k,
      arena,
      kernel,
      spec,
      c,
      rand,
      spec.A.name === 'i64' || spec.B.name === 'i64' || spec.Y.name === 'i64' ? 8 : 4,
    );
    if (spec.A.Ctor === Uint8Array && spec.B.Ctor === Uint8Array) runCase(k, arena, kernel, spec, c, rand, 1);
  }
  // Empty outputs (rows = 0, or an inner dim of 0) write nothing.
  for (const [rows, tableValues] of [
    [0, [1, 0, 1, 1]],
    [3, [2, 3, 0, 0, 1, 0, 1]],
  ] as [number, number[]][]) {
    arena.reset();
    const py = arena.outBytes(8);
    const table = arena.putI32(tableValues);
    call(k, kernel, { a: py, b: py, y: py, rows, table } as never);
    expect(Array.from(new Uint8Array(k.memory.buffer, py, 8)), `${kernel} empty ${tableValues}`).to.deep.equal(
      Array(8).fill(CANARY_BYTE),
    );
  }
}
