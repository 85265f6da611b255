// Element types of run-time tensors, for the typed kernel tests: typed-array views, random and special
// values, and the wrapping of an exact result into the type (JS numbers, or bigints for int64).
import type { TypedArray, TypedArrayConstructor } from './kernel-harness.js';

export type Value = number | bigint;

export interface ElemType {
  name: 'f32' | 'i32' | 'i64' | 'u8' | 'i8' | 'bool';
  Ctor: TypedArrayConstructor<TypedArray>;
  /** Wraps an exact integer result into the type (two's complement), or rounds to float32. */
  wrap: (v: Value) => Value;
  /** Random values: mostly small (so that equal operands occur), some over the whole range. */
  random: (rand: () => number) => Value;
  specials: Value[];
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export const F32: ElemType = {
  name: 'f32',
  Ctor: Float32Array,
  wrap: (v) => Math.fround(Number(v)),
  random: (r) => (r() < 0.7 ? Math.round(8 * r() - 4) / 2 : Math.fround((r() - 0.5) * 2000)),
  specials: [0, -0, 1, -1, 0.5, 1e-40, -1e-40, 3.4028235e38, -3.4028235e38, Infinity, -Infinity, NaN],
};

export const I32: ElemType = {
  name: 'i32',
  Ctor: Int32Array,
  wrap: (v) => Number(BigInt.asIntN(32, BigInt(v))),
  random: (r) => (r() < 0.7 ? Math.round(20 * r() - 10) : (r() * 2 ** 32) | 0),
  specials: [0, 1, -1, 2, -2, 7, -7, 2147483647, -2147483648, 65536, -65536, 46341],
};

export const I64: ElemType = {
  name: 'i64',
  Ctor: BigInt64Array,
  wrap: (v) => BigInt.asIntN(64, BigInt(v)),
  random: (r) =>
    r() < 0.6
      ? BigInt(Math.round(20 * r() - 10))
      : BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) << 31n) + BigInt(Math.floor(r() * 2 ** 31)),
  specials: [0n, 1n, -1n, 2n, -2n, 3n, -3n, I64_MAX, I64_MIN, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n + 1n],
};

export const U8: ElemType = {
  name: 'u8',
  Ctor: Uint8Array,
  wrap: (v) => Number(BigInt.asUintN(8, BigInt(v))),
  random: (r) => (r() < 0.5 ? Math.floor(8 * r()) : Math.floor(256 * r())),
  specials: [0, 1, 2, 127, 128, 254, 255],
};

export const I8: ElemType = {
  name: 'i8',
  Ctor: Int8Array,
  wrap: (v) => Number(BigInt.asIntN(8, BigInt(v))),
  random: (r) => (r() < 0.5 ? Math.floor(9 * r()) - 4 : Math.floor(256 * r()) - 128),
  specials: [0, 1, -1, 2, -2, 127, -128, 100, -100],
};

export const BOOL: ElemType = {
  name: 'bool',
  Ctor: Uint8Array,
  wrap: (v) => (Number(v) !== 0 ? 1 : 0),
  random: (r) => (r() < 0.5 ? 0 : 1),
  specials: [0, 1],
};

/** n values of a type: its specials first, then random ones. */
export function valuesOf(t: ElemType, n: number, rand: () => number): Value[] {
  return Array.from({ length: n }, (_, i) => (i < t.specials.length && rand() < 0.5 ? t.specials[i] : t.random(rand)));
}

/** The typed array of a type holding values (JS numbers or bigints as the type needs). */
export function typedOf(t: ElemType, values: Value[]): TypedArray {
  const a = new t.Ctor(
    new ArrayBuffer(
      Math.max(values.length, 1) * (t.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT,
    ),
    0,
    values.length,
  );
  values.forEach((v, i) => ((a as unknown as Value[])[i] = t.name === 'i64' ? BigInt(v) : Number(v)));
  return a;
}

/** Same value for a test: NaN equals NaN, and −0 differs from +0 for floats. */
export function same(t: ElemType, got: Value, want: Value): boolean {
  if (t.name === 'f32') return Object.is(got, want);
  return got === want;
}
