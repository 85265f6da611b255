// Casts between run-time element types (assembly/cast.ts), every direction among float32, int32, int64,
// uint8, int8 and to bool, against references written from onnxruntime's behaviour (x86): float → int
// truncates, NaN/±Inf/out of range give the type's MIN (then the low byte for 8-bit targets); int64 →
// float32 is correctly rounded; narrowing keeps the low bits; to bool is x ≠ 0. Run `npm run build:kernels`.
import { expect } from '@open-wc/testing';
import { CAST_KERNELS } from '../../compiler/abi/cast.js';
import type { KernelName } from '../../compiler/abi/kernels.js';
import { Arena, call, rng, type KernelExports, describeEachBuild } from './kernel-harness.js';
import { readTyped } from './typed-runner.js';
import { BOOL, F32, I32, I64, I8, U8, same, typedOf, type ElemType, type Value } from './typed-types.js';

const TYPES: Record<string, ElemType> = { f32: F32, i32: I32, i64: I64, u8: U8, i8: I8, bool: BOOL };

/** An exact integer rounded to float32, to nearest with ties to even (not through double). */
function bigToF32(v: bigint): number {
  if (v === 0n) return 0;
  const neg = v < 0n;
  let m = neg ? -v : v;
  const bits = m.toString(2).length;
  if (bits <= 24) return neg ? -Number(m) : Number(m);
  const drop = BigInt(bits - 24);
  const rest = m & ((1n << drop) - 1n);
  const half = 1n << (drop - 1n);
  m >>= drop;
  if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
  const r = Number(m) * 2 ** Number(drop);
  return Math.fround(neg ? -r : r);
}

/** Float → `bits`-bit integer as x86's cvttss2si: truncation, MIN for NaN, ±Inf and out of range. */
function floatToInt(x: number, bits: number): bigint {
  const limit = 2 ** (bits - 1);
  return Number.isNaN(x) || x >= limit || x < -limit ? -(2n ** BigInt(bits - 1)) : BigInt(Math.trunc(x));
}

function castRef(from: ElemType, to: ElemType, v: Value): Value {
  if (to === BOOL) return Number(v) !== 0 || Number.isNaN(Number(v)) ? 1 : 0;
  if (from === F32) {
    const x = Number(v);
    if (to === F32) return x;
    // int8/uint8 targets: through int32, then the low byte
    return to.wrap(floatToInt(x, to === I64 ? 64 : 32));
  }
  if (to === F32) return bigToF32(BigInt(v));
  return to.wrap(BigInt(v));
}

// Values onnxruntime-node 1.30 gave for these casts (x86, checked by hand): a check of the references above.
const ORT_SEEN: [KernelName, Value, Value][] = [
  ['cast_f32_i32', 2147483648, -2147483648],
  ['cast_f32_i32', NaN, -2147483648],
  ['cast_f32_i32', -1.5, -1],
  ['cast_f32_i64', 9.3e18, -(2n ** 63n)],
  ['cast_f32_i64', -3e9, -3000000000n],
  ['cast_f32_u8', 300, 44],
  ['cast_f32_u8', -1.5, 255],
  ['cast_f32_u8', 2147483520, 128],
  ['cast_f32_i8', 200.7, -56],
  ['cast_f32_bool', NaN, 1],
  ['cast_f32_bool', -0, 0],
  ['cast_i64_f32', 9223371761976868863n, 9223371487098961920],
  ['cast_i64_f32', 36028797018963971n, 36028797018963968],
  ['cast_i64_i32', -2147483649n, 2147483647],
  ['cast_i32_f32', 16777219, 16777220],
  ['cast_i32_u8', -129, 127],
  ['cast_i8_u8', -5, 251],
  ['cast_u8_i8', 200, -56],
];

const SPECIAL_F32 = [
  0,
  -0,
  0.4,
  0.5,
  0.6,
  1.5,
  2.5,
  -0.5,
  -0.9,
  -1.5,
  127.9,
  128,
  200.7,
  255.5,
  256,
  300,
  -1,
  -129,
  -200.5,
  -300,
  2147483520,
  2147483648,
  3e9,
  -2147483648,
  -2147483904,
  -3e9,
  9.2e18,
  9.3e18,
  -9.3e18,
  1e30,
  -1e30,
  Infinity,
  -Infinity,
  NaN,
  1e-40,
  16777217,
  4294967296,
  65535.5,
  65536.7,
];

function inputs(from: ElemType, rand: () => number): Value[] {
  if (from === F32) {
    return [
      ...SPECIAL_F32,
      ...Array.from({ length: 300 }, () => Math.fround((rand() - 0.5) * 10 ** (1 + 19 * rand()))),
    ];
  }
  return [...from.specials, ...Array.from({ length: 300 }, () => from.random(rand))];
}

describeEachBuild('cast kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;

  before(() => {
    k = env.k as KernelExports;
    arena = env.arena;
  });

  function run(name: KernelName, from: ElemType, to: ElemType, x: Value[], misalign: number, inPlace = false): Value[] {
    arena.reset();
    const px = arena.putTyped(typedOf(from, x), misalign);
    const bytes = x.length * (to.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const py = inPlace ? px : arena.outBytes(bytes, misalign);
    call(k, name, { x: px, y: py, n: x.length });
    if (!inPlace && !new Uint8Array(k.memory.buffer, py + bytes, 8).every((v) => v === 0xa5))
      expect.fail(`${name} n=${x.length}: wrote past y`);
    return readTyped(k, to, py, x.length);
  }

  it('the references reproduce what onnxruntime-node gave', () => {
    for (const [name, x, want] of ORT_SEEN) {
      const [, from, to] = name.split('_');
      const got = castRef(TYPES[from], TYPES[to], TYPES[from] === F32 ? Math.fround(Number(x)) : x);
      expect(same(TYPES[to], got, want), `${name}(${x}): reference ${got}, onnxruntime ${want}`).to.equal(true);
    }
  });

  for (const name of Object.keys(CAST_KERNELS) as KernelName[]) {
    const [, fromName, toName] = name.split('_');
    const from = TYPES[fromName];
    const to = TYPES[toName];
    it(`${name}: edge values, random values, every tail length, misaligned`, () => {
      const rand = rng(name.length * 7 + fromName.charCodeAt(0) * 13 + toName.charCodeAt(0));
      const all = Array.from(typedOf(from, inputs(from, rand)) as unknown as ArrayLike<Value>);
      const check = (x: Value[], got: Value[], label: string) => {
        x.forEach((v, i) => {
          const want = castRef(from, to, v);
          if (!same(to, got[i], want)) expect.fail(`${name}(${v})${label} = ${got[i]}, want ${want}`);
        });
      };
      check(all, run(name, from, to, all, 0), '');
      check(all, run(name, from, to, all, 4), ' misaligned');
      for (let n = 0; n <= 9; n++) check(all.slice(0, n), run(name, from, to, all.slice(0, n), 0), ` n=${n}`);
      const sameSize =
        (from.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT ===
        (to.Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (sameSize) check(all, run(name, from, to, all, 0, true), ' in place');
    });
  }
});
