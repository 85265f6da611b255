// Integer kernels (assembly/integer.ts, intmath.ts): Add/Sub/Mul/Div/Min/Max/Mod/fmod on int32, int64,
// uint8, int8; BitShift on uint8; Pow on integers and the mixed float/integer forms; C fmod on float32; Abs/Neg/Sign on
// int32/int64; against exact references (bigints) written from the ONNX definitions and from what
// onnxruntime computes (std::pow in double, converted back with x86's truncation). Run
// `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { INTEGER_KERNELS } from '../../compiler/abi/integer.js';
import type { KernelName } from '../../compiler/abi/kernels.js';
import { Arena, call, rng, type KernelExports, describeEachBuild } from './kernel-harness.js';
import { checkBinary, readTyped, type BinarySpec } from './typed-runner.js';
import { F32, I32, I64, I8, U8, typedOf, type ElemType, type Value } from './typed-types.js';

const big = (v: Value) => BigInt(v);
/** Truncating division and C remainder on exact integers; 0 for a zero divisor (onnxruntime refuses those). */
const divRef = (a: Value, b: Value) => (big(b) === 0n ? 0n : big(a) / big(b));
const fmodRef = (a: Value, b: Value) => (big(b) === 0n ? 0n : big(a) % big(b));
const modRef = (a: Value, b: Value) => {
  const r = fmodRef(a, b);
  return r !== 0n && r < 0n !== big(b) < 0n ? r + big(b) : r;
};

/** C's pow (std::pow): as Math.pow except pow(1, y) = 1 and pow(−1, ±Inf) = 1 (Math.pow gives NaN). */
const cPow = (x: number, y: number): number => (x === 1 || (x === -1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y));

/** A double converted to a `bits`-bit integer as x86's cvttsd2si: MIN for NaN, ±Inf and out of range. */
function truncIndefinite(d: number, bits: number): bigint {
  const limit = 2 ** (bits - 1);
  return Number.isNaN(d) || d >= limit || d < -limit ? -(2n ** BigInt(bits - 1)) : BigInt(Math.trunc(d));
}

/** onnxruntime's Pow(int, int): std::pow(double(x), double(n)) (exact power rounded to double), converted back. */
function powIntRef(x: Value, n: Value, bits: number): bigint {
  const bx = big(x);
  const bn = big(n);
  let d: number;
  if (bn >= 0n) {
    const ax = bx < 0n ? -bx : bx;
    d = ax >= 2n && bn > 200n ? (bx < 0n && bn % 2n === 1n ? -Infinity : Infinity) : Number(bx ** bn);
  } else {
    d = Math.pow(Number(bx), Number(bn));
  }
  return truncIndefinite(d, bits);
}

const arith = (T: ElemType): Record<string, BinarySpec> => {
  const s = (f: (a: Value, b: Value) => Value): BinarySpec => ({ A: T, B: T, Y: T, f });
  const specs: Record<string, BinarySpec> = {
    [`add_${T.name}`]: s((a, b) => big(a) + big(b)),
    [`sub_${T.name}`]: s((a, b) => big(a) - big(b)),
    [`mul_${T.name}`]: s((a, b) => big(a) * big(b)),
    [`div_${T.name}`]: s(divRef),
    [`min_${T.name}`]: s((a, b) => (big(a) < big(b) ? a : b)),
    [`max_${T.name}`]: s((a, b) => (big(a) > big(b) ? a : b)),
    [`mod_${T.name}`]: s(modRef),
  };
  if (T !== U8) specs[`fmod_${T.name}`] = s(fmodRef);
  return specs;
};

const POW_EXPONENTS = [0.5, 1.5, 2.5, -0.5, 2, 3, 0, -1, -2, 2.9, 0.3333, 31, 62, NaN, Infinity, -Infinity];
const SPECS: Record<string, BinarySpec> = {
  ...arith(I32),
  ...arith(I64),
  ...arith(U8),
  ...arith(I8),
  // BitShift (ONNX: unsigned types): a shift by the width (8) or more gives 0, as numpy.
  shl_u8: {
    A: U8,
    B: U8,
    Y: U8,
    f: (a, b) => (big(b) >= 8n ? 0n : (big(a) << big(b)) & 0xffn),
    gen: (w, r) => (w === 0 ? U8.random(r) : Math.floor(12 * r())),
  },
  shr_u8: {
    A: U8,
    B: U8,
    Y: U8,
    f: (a, b) => (big(b) >= 8n ? 0n : big(a) >> big(b)),
    gen: (w, r) => (w === 0 ? U8.random(r) : Math.floor(12 * r())),
  },
  pow_i32: {
    A: I32,
    B: I32,
    Y: I32,
    f: (x, n) => powIntRef(x, n, 32),
    gen: (w, r) => (w === 0 ? Math.round(10 * r() - 5) : r() < 0.2 ? I32.random(r) : Math.round(45 * r() - 5)),
  },
  pow_i64: {
    A: I64,
    B: I64,
    Y: I64,
    f: (x, n) => powIntRef(x, n, 64),
    gen: (w, r) => BigInt(w === 0 ? Math.round(10 * r() - 5) : Math.round(70 * r() - 5)),
  },
  fmod_f32: {
    A: F32,
    B: F32,
    Y: F32,
    f: (a, b) => Number(a) % Number(b), // ECMAScript % on doubles is C's fmod, exact
    gen: (w, r) =>
      r() < 0.3
        ? F32.specials[Math.floor(r() * F32.specials.length)]
        : Math.fround((r() < 0.5 ? -1 : 1) * Math.pow(10, (w === 0 ? 8 : 3) * (r() - 0.3))),
  },
  pow_i32_f32: {
    A: I32,
    B: F32,
    Y: I32,
    f: (x, y) => truncIndefinite(cPow(Number(x), Number(y)), 32),
    gen: (w, r) => (w === 0 ? Math.round(20 * r() - 10) : POW_EXPONENTS[Math.floor(r() * POW_EXPONENTS.length)]),
  },
  pow_i64_f32: {
    A: I64,
    B: F32,
    Y: I64,
    f: (x, y) => truncIndefinite(cPow(Number(x), Number(y)), 64),
    gen: (w, r) =>
      w === 0 ? BigInt(Math.round(20 * r() - 10)) : POW_EXPONENTS[Math.floor(r() * POW_EXPONENTS.length)],
  },
  pow_f32_i32: {
    A: F32,
    B: I32,
    Y: F32,
    f: (x, n) => cPow(Number(x), Number(n)),
    gen: (w, r) =>
      w === 0 ? (r() < 0.2 ? F32.specials[Math.floor(r() * 12)] : Math.fround(8 * r() - 4)) : Math.round(90 * r() - 45),
  },
  pow_f32_i64: {
    A: F32,
    B: I64,
    Y: F32,
    f: (x, n) => cPow(Number(x), Number(n)),
    gen: (w, r) => (w === 0 ? Math.fround(8 * r() - 4) : BigInt(Math.round(90 * r() - 45))),
  },
};

const UNARY: [KernelName, ElemType, (v: bigint) => bigint][] = [
  ['abs_i32', I32, (v) => (v < 0n ? -v : v)],
  ['abs_i64', I64, (v) => (v < 0n ? -v : v)],
  ['neg_i32', I32, (v) => -v],
  ['neg_i64', I64, (v) => -v],
  ['sign_i32', I32, (v) => (v > 0n ? 1n : v < 0n ? -1n : 0n)],
  ['sign_i64', I64, (v) => (v > 0n ? 1n : v < 0n ? -1n : 0n)],
];

describeEachBuild('integer kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;

  before(() => {
    k = env.k as KernelExports;
    arena = env.arena;
  });

  it('every kernel of the table has a spec', () => {
    for (const name of Object.keys(INTEGER_KERNELS))
      expect(SPECS[name] ?? UNARY.find(([u]) => u === name), name).to.exist;
  });

  for (const [name, spec] of Object.entries(SPECS)) {
    it(`${name} over broadcast tables (wrapping, MIN/−1, zero divisors, specials, misaligned, in place)`, () => {
      const rand = rng(name.length * 613 + name.charCodeAt(name.length - 1));
      const gen =
        spec.gen ??
        ((w: 0 | 1, r: () => number) => {
          const T = w === 0 ? spec.A : spec.B;
          return r() < 0.4 ? T.specials[Math.floor(r() * T.specials.length)] : T.random(r);
        });
      checkBinary(k, arena, name as KernelName, { ...spec, gen }, rand);
    });
  }

  it('fmod_f32 is exact on huge quotients and keeps the sign of the dividend', () => {
    const cases: [number, number][] = [
      [3.4028235e38, 1e-45],
      [3.4028235e38, 3],
      [-3.4028235e38, 0.1],
      [1e30, 7.0000005],
      [-6, 3],
      [6, -3],
      [-0, 5],
      [5.5, Infinity],
      [Infinity, 2],
      [2, 0],
      [1e-45, 1e-45],
      [16777217, 2],
    ];
    arena.reset();
    const a = arena.putTyped(Float32Array.from(cases.map((c) => c[0])));
    const b = arena.putTyped(Float32Array.from(cases.map((c) => c[1])));
    const table = arena.putI32([1, cases.length, 1, 1]);
    const y = arena.outBytes(cases.length * 4);
    call(k, 'fmod_f32', { a, b, y, rows: cases.length, table });
    const got = readTyped(k, F32, y, cases.length);
    cases.forEach(([p, q], i) => {
      const want = Math.fround(Math.fround(p) % Math.fround(q));
      expect(Object.is(got[i], want), `fmod(${p}, ${q}) = ${got[i]}, want ${want}`).to.equal(true);
    });
  });

  for (const [name, T, ref] of UNARY) {
    it(`${name}: specials (MIN wraps), every tail, in place`, () => {
      const rand = rng(name.length);
      for (let n = 0; n <= 11; n++) {
        const x = Array.from({ length: n }, (_, i) =>
          i < T.specials.length ? T.specials[(i * 5) % T.specials.length] : T.random(rand),
        );
        const want = x.map((v) => T.wrap(ref(BigInt(v))));
        arena.reset();
        const px = arena.putTyped(typedOf(T, x), 4);
        const bytes = n * (T === I64 ? 8 : 4);
        const py = arena.outBytes(bytes, 4);
        call(k, name, { x: px, y: py, n });
        expect(readTyped(k, T, py, n), `${name} n=${n}`).to.deep.equal(want);
        expect(
          new Uint8Array(k.memory.buffer, py + bytes, 8).every((v) => v === 0xa5),
          `${name} n=${n}: past y`,
        ).to.equal(true);
        call(k, name, { x: px, y: px, n });
        expect(readTyped(k, T, px, n), `${name} n=${n} in place`).to.deep.equal(want);
      }
    });
  }
});
