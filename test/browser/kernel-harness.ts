// What the kernel tests (kernels.test.ts, conv-kernels.test.ts) share: loading dist/kernels*.wasm,
// a bump allocator over its memory with canary tails, a seeded PRNG, and double-precision references.
import { expect } from '@open-wc/testing';
import { CONSTANTS } from '../../compiler/abi/codes.js';
import { KERNELS, type KernelArgs, type KernelName } from '../../compiler/abi/kernels.js';

export type Ptr = number;

export interface KernelExports {
  memory: WebAssembly.Memory;
  [name: string]: unknown;
}

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;
export type TypedArrayConstructor<A extends TypedArray> = new (
  buffer: ArrayBufferLike,
  offset: number,
  length: number,
) => A;

/** A kernel's arguments by parameter name (numbers: addresses, ints, floats), as the ABI table types them. */
export type NumArgs<K extends KernelName> = KernelArgs<K, { ptr: number; i32: number; f32: number }>;

/**
 * Call a kernel by parameter name: the arguments go in the order of the ABI table (compiler/abi/kernels.ts),
 * so a test states what each number is and cannot pass them in the wrong order.
 */
export function call<K extends KernelName>(k: KernelExports, name: K, args: NumArgs<K>): number {
  const fn = k[name];
  if (typeof fn !== 'function') throw new Error(`the kernel library does not export ${name}`);
  const named = args as Record<string, number>;
  const extra = Object.keys(named).filter((p) => !KERNELS[name].params.some(([q]) => q === p));
  if (extra.length) throw new Error(`${name} has no parameter ${extra.join(', ')}`);
  const positional = KERNELS[name].params.map(([p]) => {
    if (typeof named[p] !== 'number') throw new Error(`${name}: argument ${p} is missing`);
    return named[p];
  });
  return (fn as (...a: number[]) => number)(...positional);
}

/** The kernel library, or null when the engine cannot validate it (the relaxed build without relaxed SIMD). */
export async function loadKernels<K extends KernelExports>(url: string): Promise<K | null> {
  const response = await fetch(url);
  expect(response.ok, `fetch ${url}`).to.equal(true);
  const bytes = await response.arrayBuffer();
  // The relaxed build validates only where the engine has relaxed SIMD: that is the feature test.
  if (!WebAssembly.validate(bytes)) return null;
  const module = await WebAssembly.compile(bytes);
  expect(WebAssembly.Module.imports(module), 'imports').to.have.length(0);
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports as unknown as K;
}

export const CANARY = -7777.25;
/** Floats of headroom after every block, room for canaries that catch writes past an output. */
export const TAIL = 8;

/** Bump allocator over the kernel module's memory (asc's own static data is empty / tiny). */
export class Arena {
  private next = 1 << 20;
  constructor(private readonly k: KernelExports) {}
  reset(): void {
    this.next = 1 << 20;
  }
  /** 16-byte aligned block of n floats (plus `misalign` bytes of offset), followed by TAIL spare floats. */
  alloc(n: number, misalign = 0): Ptr {
    const p = this.next + misalign;
    this.next = (p + (n + TAIL) * 4 + 64 + 15) & ~15;
    if (this.next > this.k.memory.buffer.byteLength) throw new Error('arena overflow');
    return p;
  }
  f32(p: Ptr, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n);
  }
  i32(p: Ptr, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, p, n);
  }
  /** A view of n elements of any typed-array type at p (p must suit its alignment). */
  view<A extends TypedArray>(Ctor: TypedArrayConstructor<A>, p: Ptr, n: number): A {
    return new Ctor(this.k.memory.buffer, p, n);
  }
  /** Copies typed values into a fresh block (16-byte aligned plus `misalign` bytes); returns its address. */
  putTyped(values: TypedArray, misalign = 0): Ptr {
    const p = this.alloc(Math.ceil(values.byteLength / 4), misalign);
    new Uint8Array(this.k.memory.buffer, p, values.byteLength).set(
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    );
    return p;
  }
  /** A block of `bytes` bytes followed by TAIL floats, every byte 0xA5 (a canary no kernel writes by chance). */
  outBytes(bytes: number, misalign = 0): Ptr {
    const p = this.alloc(Math.ceil(bytes / 4), misalign);
    new Uint8Array(this.k.memory.buffer, p, bytes + TAIL * 4).fill(0xa5);
    return p;
  }
  put(values: ArrayLike<number>, misalign = 0): Ptr {
    const p = this.alloc(values.length, misalign);
    this.f32(p, values.length).set(values);
    return p;
  }
  putI32(values: number[]): Ptr {
    const p = this.alloc(values.length);
    this.i32(p, values.length).set(values);
    return p;
  }
  /** Output buffer of n floats, pre-filled with canaries (including TAIL past the end). */
  out(n: number, misalign = 0): Ptr {
    const p = this.alloc(n, misalign);
    this.f32(p, n + TAIL).fill(CANARY);
    return p;
  }
}

/** Deterministic PRNG so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

/** Returns a failure description or null. Both NaN, or equal (incl. ±Inf), or within atol + rtol·|ref|. */
export function mismatch(got: number, ref: number, rtol: number, atol: number): string | null {
  if (Number.isNaN(ref) || Number.isNaN(got))
    return Number.isNaN(ref) && Number.isNaN(got) ? null : `got ${got}, want ${ref}`;
  if (got === ref) return null;
  if (!Number.isFinite(ref) || !Number.isFinite(got)) return `got ${got}, want ${ref}`;
  return Math.abs(got - ref) <= atol + rtol * Math.abs(ref)
    ? null
    : `got ${got}, want ${ref} (|err| ${Math.abs(got - ref)})`;
}

/**
 * GEMM weights B [K×N] (row-major) packed as the compiler packs them (compiler/pack.ts): ceil(N/8) panels
 * of K rows × 8 floats, zero-padded past column N-1.
 */
export function packB(B: ArrayLike<number>, K: number, N: number): Float32Array {
  const NR = CONSTANTS.PANEL_WIDTH;
  const panels = Math.ceil(N / NR);
  const out = new Float32Array(panels * K * NR);
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < NR; j++) {
        const col = p * NR + j;
        if (col < N) out[(p * K + k) * NR + j] = B[k * N + col];
      }
    }
  }
  return out;
}

// ---- scalar references (double precision) ---------------------------------------------------------

/** erf to ~1e-14: Maclaurin series below 3, continued fraction for erfc above. */
export function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let sum = 0;
    let term = ax;
    for (let n = 0; n < 200; n++) {
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
      term *= (-ax * ax) / (n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else if (ax === Infinity) {
    r = 1;
  } else {
    let cf = 0;
    for (let k = 80; k >= 1; k--) cf = k / 2 / (ax + cf);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + cf);
  }
  return x < 0 ? -r : r;
}

export const sigmoidRef = (x: number): number => 1 / (1 + Math.exp(-x));
export const hardSigmoidRef = (x: number, alpha: number, beta: number): number =>
  Math.max(0, Math.min(1, alpha * x + beta));
// gelu and hard_swish use the limit 0 at -Infinity (not -Infinity·0 = NaN), as the kernels do.
export const geluRef = (x: number): number => (x === -Infinity ? 0 : 0.5 * x * (1 + erfRef(x / Math.SQRT2)));
export const hardSwishRef = (x: number): number => (x === -Infinity ? 0 : x * hardSigmoidRef(x, 1 / 6, 0.5));
export const clipRef = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, x));
export const leakyRef = (x: number, alpha: number): number => (x < 0 ? x * alpha : x);

/** The two kernel builds every kernel test runs against. */
export const BUILDS = [
  { name: 'simd', url: '/dist/kernels.wasm' },
  { name: 'relaxed-simd', url: '/dist/kernels-relaxed.wasm' },
];

export interface KernelEnv {
  k: KernelExports;
  arena: Arena;
}

/** One describe per kernel build; `env` is filled before the tests run (the relaxed build may skip). */
export function describeEachBuild(title: string, body: (env: KernelEnv) => void): void {
  for (const build of BUILDS) {
    describe(`${title} (${build.name})`, function () {
      this.timeout(180000);
      const env = {} as KernelEnv;
      before(async function () {
        const loaded = await loadKernels(build.url);
        if (!loaded) {
          expect(build.name, 'the SIMD build must validate').to.equal('relaxed-simd');
          this.skip();
          return;
        }
        env.k = loaded;
        env.arena = new Arena(loaded);
      });
      body(env);
    });
  }
}
