// Kernels that write bool tensors (compare.ts, where.ts in assembly/): comparisons on f32/i32/i64,
// And/Or/Xor/Not, IsNaN, IsInf, and Where on 1-, 4- and 8-byte elements, against references written from
// the ONNX definitions, over broadcast tables. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { COMPARE_KERNELS } from '../../compiler/abi/compare.js';
import type { KernelName } from '../../compiler/abi/kernels.js';
import { Arena, call, rng, type KernelExports, describeEachBuild } from './kernel-harness.js';
import {
  operandIndices,
  operandLength,
  outputCount,
  stridesFor,
  tableOf,
  type BroadcastCase,
} from './broadcast-ref.js';
import { checkBinary, readTyped, type BinarySpec } from './typed-runner.js';
import { BOOL, F32, I32, I64, I8, U8, same, typedOf, type ElemType, type Value } from './typed-types.js';

// One spec per broadcasting kernel of the table (a new one without a spec fails below).
const cmp = (T: ElemType, f: (a: Value, b: Value) => boolean): BinarySpec => ({
  A: T,
  B: T,
  Y: BOOL,
  f: (a, b) => +f(a, b),
});
const TYPES = { f32: F32, i32: I32, i64: I64 };
const BINARY: Record<string, BinarySpec> = {};
for (const [t, T] of Object.entries(TYPES)) {
  BINARY[`less_${t}`] = cmp(T, (a, b) => a < b);
  BINARY[`greater_${t}`] = cmp(T, (a, b) => a > b);
  BINARY[`equal_${t}`] = cmp(T, (a, b) => a === b);
  BINARY[`less_equal_${t}`] = cmp(T, (a, b) => a <= b);
  BINARY[`greater_equal_${t}`] = cmp(T, (a, b) => a >= b);
}
BINARY.equal_u8 = cmp(U8, (a, b) => a === b);
BINARY.and_u8 = { A: BOOL, B: BOOL, Y: BOOL, f: (a, b) => +(a === 1 && b === 1) };
BINARY.or_u8 = { A: BOOL, B: BOOL, Y: BOOL, f: (a, b) => +(a === 1 || b === 1) };
BINARY.xor_u8 = { A: BOOL, B: BOOL, Y: BOOL, f: (a, b) => +(a !== b) };

const BROADCASTING = Object.entries(COMPARE_KERNELS)
  .filter(([, spec]) => spec.params[0][0] === 'a')
  .map(([name]) => name);

/** Three-operand cases for Where: [cond, a, b] shapes broadcast to dims. */
function whereCases(): BroadcastCase[] {
  const c = (name: string, dims: number[], shapes: number[][]): BroadcastCase => ({
    name,
    dims,
    strides: shapes.map((s) => stridesFor(dims, s)),
  });
  return [
    c('same shape (SIMD for 4-byte elements, and a tail)', [1003], [[1003], [1003], [1003]]),
    c(
      'rank 2 same shape',
      [7, 13],
      [
        [7, 13],
        [7, 13],
        [7, 13],
      ],
    ),
    c('cond row, scalar b', [5, 9], [[9], [5, 9], [1]]),
    c('cond column, a row', [6, 10], [[6, 1], [10], [6, 10]]),
    c(
      'everything broadcast (rank 4)',
      [2, 3, 4, 5],
      [
        [1, 3, 1, 5],
        [2, 1, 4, 1],
        [1, 1, 1, 5],
      ],
    ),
    c(
      'rank 6',
      [2, 1, 3, 2, 2, 7],
      [
        [2, 1, 3, 2, 2, 7],
        [1, 1, 3, 1, 2, 7],
        [2, 1, 1, 2, 1, 1],
      ],
    ),
    c('scalar cond', [4, 6], [[1], [4, 6], [4, 6]]),
  ];
}

describeEachBuild('bool kernels: comparisons, logic, IsNaN/IsInf, Where', (env) => {
  let k: KernelExports;
  let arena: Arena;

  before(() => {
    k = env.k as KernelExports;
    arena = env.arena;
  });

  it('every broadcasting kernel of the table has a spec', () => {
    for (const name of BROADCASTING) if (!name.startsWith('where_')) expect(BINARY[name], name).to.exist;
  });

  for (const [name, spec] of Object.entries(BINARY)) {
    it(`${name} over broadcast tables (specials, NaN, ±0, equal operands, misaligned, in place)`, () => {
      const rand = rng(name.length * 977 + name.charCodeAt(0));
      // Specials half of the time, so NaN, ±0, ±Inf, MIN and MAX meet each other.
      const gen = (w: 0 | 1, r: () => number) => {
        const T = w === 0 ? spec.A : spec.B;
        return r() < 0.4 ? T.specials[Math.floor(r() * T.specials.length)] : T.random(r);
      };
      checkBinary(k, arena, name as KernelName, { ...spec, gen }, rand);
    });
  }

  it('not_u8 flips every bool, for every tail length and in place', () => {
    for (let n = 0; n <= 40; n++) {
      const rand = rng(n + 1);
      const x = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
      arena.reset();
      const px = arena.putTyped(x, n % 3);
      const py = arena.outBytes(n, n % 3);
      call(k, 'not_u8', { x: px, y: py, n });
      expect(Array.from(new Uint8Array(k.memory.buffer, py, n + 4)), `n=${n}`).to.deep.equal([
        ...Array.from(x, (v) => 1 - v),
        0xa5,
        0xa5,
        0xa5,
        0xa5,
      ]);
      call(k, 'not_u8', { x: px, y: px, n });
      expect(Array.from(new Uint8Array(k.memory.buffer, px, n)), `n=${n} in place`).to.deep.equal(
        Array.from(x, (v) => 1 - v),
      );
    }
  });

  it('where_* write nothing for an empty output (rows = 0, inner dim 0)', () => {
    for (const name of ['where_8bit', 'where_32bit', 'where_64bit'] as KernelName[]) {
      for (const [rows, tableValues] of [
        [0, [1, 0, 1, 1, 1]],
        [2, [2, 2, 0, 0, 1, 0, 1, 0, 1]],
      ] as [number, number[]][]) {
        arena.reset();
        const p = arena.outBytes(16);
        call(k, name, { cond: p, a: p, b: p, y: p, rows, table: arena.putI32(tableValues) });
        expect(
          new Uint8Array(k.memory.buffer, p, 16).every((v) => v === 0xa5),
          `${name} ${tableValues}`,
        ).to.equal(true);
      }
    }
  });

  it('isnan_f32 and isinf_f32 (every detect_positive / detect_negative) classify specials, tails included', () => {
    const rand = rng(11);
    const values = [0, -0, 1, -1, 1e-40, 3.4028235e38, -3.4028235e38, Infinity, -Infinity, NaN, -NaN];
    for (let n = 0; n <= 23; n++) {
      const x = Float32Array.from({ length: n }, () => values[Math.floor(rand() * values.length)]);
      const cases: [KernelName, Record<string, number>, (v: number) => boolean][] = [
        ['isnan_f32', {}, Number.isNaN],
        ['isinf_f32', { detectPositive: 1, detectNegative: 1 }, (v) => Math.abs(v) === Infinity],
        ['isinf_f32', { detectPositive: 1, detectNegative: 0 }, (v) => v === Infinity],
        ['isinf_f32', { detectPositive: 0, detectNegative: 1 }, (v) => v === -Infinity],
        ['isinf_f32', { detectPositive: 0, detectNegative: 0 }, () => false],
      ];
      for (const [name, params, ref] of cases) {
        arena.reset();
        const px = arena.putTyped(x, 4);
        const py = arena.outBytes(n, 1);
        call(k, name, { x: px, y: py, n, ...params } as never);
        const want = [...Array.from(x, (v) => +ref(v)), 0xa5, 0xa5];
        expect(
          Array.from(new Uint8Array(k.memory.buffer, py, n + 2)),
          `${name} ${JSON.stringify(params)} n=${n}`,
        ).to.deep.equal(want);
      }
    }
  });

  const WHERE: [KernelName, ElemType][] = [
    ['where_8bit', U8],
    ['where_8bit', I8],
    ['where_32bit', F32],
    ['where_32bit', I32],
    ['where_64bit', I64],
  ];
  for (const [name, T] of WHERE) {
    it(`${name} selects ${T.name} elements by a bool condition over broadcast tables (in place too)`, () => {
      const rand = rng(T.name.length * 31 + name.length);
      for (const c of whereCases()) {
        for (const misalign of [0, 4]) {
          const cond = Array.from({ length: operandLength(c, 0) }, () => (rand() < 0.5 ? 0 : 1));
          const a = Array.from({ length: operandLength(c, 1) }, () => T.random(rand));
          const b = Array.from({ length: operandLength(c, 2) }, () => (rand() < 0.2 ? T.specials[0] : T.random(rand)));
          if (T === F32) a[0] = NaN; // NaN bits are copied, not compared
          const want = operandIndices(c).map(([ic, ia, ib]) => (cond[ic] ? a[ia] : b[ib]));
          const n = outputCount(c);
          const bytes = n * (T.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
          arena.reset();
          const pc = arena.putTyped(Uint8Array.from(cond), misalign);
          const pa = arena.putTyped(typedOf(T, a), misalign);
          const pb = arena.putTyped(typedOf(T, b), misalign);
          const table = arena.putI32(tableOf(c, 77));
          const py = arena.outBytes(bytes, misalign);
          call(k, name, { cond: pc, a: pa, b: pb, y: py, rows: c.dims[0], table });
          const got = readTyped(k, T, py, n);
          for (let i = 0; i < n; i++)
            if (!same(T, got[i], want[i]))
              expect.fail(`${name} ${T.name} ${c.name}: y[${i}] = ${got[i]}, want ${want[i]}`);
          expect(
            new Uint8Array(k.memory.buffer, py + bytes, 8).every((v) => v === 0xa5),
            `${name} ${c.name}: past y`,
          ).to.equal(true);
          if (b.length === n && c.strides[2].every((s, j) => s !== 0 || c.dims[j] === 1)) {
            call(k, name, { cond: pc, a: pa, b: pb, y: pb, rows: c.dims[0], table });
            const inPlace = readTyped(k, T, pb, n);
            for (let i = 0; i < n; i++)
              if (!same(T, inPlace[i], want[i]))
                expect.fail(`${name} ${c.name} (y = b): y[${i}] = ${inPlace[i]}, want ${want[i]}`);
          }
        }
      }
    });
  }
});
