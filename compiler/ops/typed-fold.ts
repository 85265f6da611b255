import { NodeProblem } from '../errors.js';
import type { DataType } from '../tensor.js';

/**
 * Constant folding with the integer kernels' semantics (assembly/intmath.ts, assembly/cast.ts), so a
 * folded constant equals what the kernel would have computed: wrapping arithmetic in the type's width,
 * division and modulo by zero giving 0, Pow as onnxruntime's std::pow, casts as onnxruntime on x86.
 * Integers are held in float64 at compile time (exact below 2^53) and computed in BigInt.
 */

const WIDTH: Partial<Record<DataType, readonly [bits: number, signed: boolean]>> = {
  int8: [8, true],
  uint8: [8, false],
  int16: [16, true],
  uint16: [16, false],
  int32: [32, true],
  uint32: [32, false],
  int64: [64, true],
  uint64: [64, false],
  bool: [8, false],
};

function widthOf(dtype: DataType): readonly [number, boolean] {
  const w = WIDTH[dtype];
  if (!w) throw new NodeProblem(`${dtype} is not an integer type`, 'invalid-graph');
  return w;
}

/** An integer wrapped into `dtype` (its low bits), as a number. */
export function wrapInt(dtype: DataType, v: bigint): number {
  const [bits, signed] = widthOf(dtype);
  return Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
}

const MIN64 = -(2n ** 63n);
const LIMIT = 2n ** 63n;

/** |x|^n, saturating at 2^63. */
function powMagnitude(m: bigint, n: bigint): bigint {
  let r = 1n;
  for (let i = 0n; i < n; i++) {
    r *= m;
    if (r >= LIMIT) return LIMIT;
    if (r <= 1n && m <= 1n) return r; // 0 and 1 stay put
  }
  return r;
}

/** Pow(x, n) on integers as onnxruntime (intmath.ts intPow64): MIN where out of range or 0^negative. */
function intPow(x: bigint, n: bigint, bits: number): bigint {
  const MIN = bits === 64 ? MIN64 : -(2n ** 31n);
  if (n === 0n) return 1n;
  if (n < 0n) {
    if (x === 1n) return 1n;
    if (x === -1n) return n % 2n !== 0n ? -1n : 1n;
    return x === 0n ? MIN : 0n;
  }
  const m = powMagnitude(x < 0n ? -x : x, n);
  if (m >= LIMIT) return MIN;
  const v = x < 0n && n % 2n !== 0n ? -m : m;
  if (bits === 64) {
    const d = Number(v); // rounded to double, as std::pow's result is
    return d >= 2 ** 63 ? MIN : BigInt(d);
  }
  return v >= -(2n ** 31n) && v < 2n ** 31n ? v : MIN;
}

export type IntOp = 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max' | 'mod' | 'fmod' | 'pow' | 'shl' | 'shr';

/** An integer binary op of `dtype`, as its kernel computes it. */
export function intBinary(op: IntOp, dtype: DataType): (a: number, b: number) => number {
  const [bits] = widthOf(dtype);
  const f = (x: bigint, y: bigint): bigint => {
    switch (op) {
      case 'add':
        return x + y;
      case 'sub':
        return x - y;
      case 'mul':
        return x * y;
      case 'div':
        return y === 0n ? 0n : x / y;
      case 'min':
        return x < y ? x : y;
      case 'max':
        return x > y ? x : y;
      case 'fmod':
        return y === 0n ? 0n : x % y;
      case 'mod': {
        const r = y === 0n ? 0n : x % y;
        return r !== 0n && r < 0n !== y < 0n ? r + y : r;
      }
      case 'pow':
        return intPow(x, y, bits === 64 ? 64 : 32);
      // A shift by the type's width or more gives 0, as the kernels (and numpy) have it.
      case 'shl':
        return y >= BigInt(bits) ? 0n : x << y;
      case 'shr':
        return y >= BigInt(bits) ? 0n : x >> y;
    }
  };
  return (a, b) => wrapInt(dtype, f(BigInt(a), BigInt(b)));
}

/** Pow(x, n) for a float32 x and an integer n (intmath.ts floatPowInt): x^|n| by squaring in double. */
export function floatPowInt(x: number, n: number): number {
  let k = Math.abs(n);
  let base = x;
  let r = 1;
  while (k !== 0) {
    if (k % 2 === 1) r *= base;
    k = Math.floor(k / 2);
    if (k !== 0) base *= base;
  }
  return n < 0 ? 1 / r : r;
}

/** A double truncated into `bits` (32 or 64) as x86's cvttsd2si: MIN for NaN and out of range. */
function truncIndefinite(d: number, bits: 32 | 64): number {
  if (bits === 64) return d >= -(2 ** 63) && d < 2 ** 63 ? Math.trunc(d) : -(2 ** 63);
  return d > -2147483649 && d < 2147483648 ? Math.trunc(d) : -(2 ** 31);
}

/**
 * Pow(x, y) for an integer x and a float32 y (intmath.ts intPowFloat): through std::pow in double, then
 * truncated into x's type (NaN and out of range give MIN).
 */
export function intPowFloat(x: number, y: number, dtype: DataType): number {
  const bits = widthOf(dtype)[0] === 64 ? 64 : 32;
  if (Number.isNaN(y)) return x === 1 ? 1 : truncIndefinite(NaN, bits);
  if (Math.trunc(y) === y && Math.abs(y) < 9.2e18) return Number(intPow(BigInt(x), BigInt(y), bits));
  // std::pow(±1, ±Inf) is 1 (JavaScript says NaN for −1).
  if (!Number.isFinite(y))
    return truncIndefinite(Math.abs(x) === 1 ? 1 : Math.abs(x) > 1 === y > 0 ? Infinity : 0, bits);
  return truncIndefinite(Math.pow(x, y), bits);
}

/** Cast of one value from a number type to `to`, as onnxruntime on x86 (assembly/cast.ts). */
export function castNumber(from: DataType, to: DataType): (v: number) => number {
  const fromFloat = from === 'float32' || from === 'float64' || from === 'float16';
  switch (to) {
    case 'float32':
    case 'float64':
    case 'float16':
      return (v) => v;
    case 'bool':
      return (v) => (v !== 0 ? 1 : 0);
    case 'int64':
      return fromFloat ? (v) => truncIndefinite(v, 64) : (v) => v;
    case 'int32':
      return fromFloat ? (v) => truncIndefinite(v, 32) : (v) => wrapInt('int32', BigInt(v));
    default:
      // Narrower integers take the low bits; floats go through int32 first (or int64 for the 64-bit types).
      return fromFloat
        ? (v) => wrapInt(to, BigInt(truncIndefinite(v, widthOf(to)[0] === 64 ? 64 : 32)))
        : (v) => wrapInt(to, BigInt(v));
  }
}
