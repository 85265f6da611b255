// What the resampling kernel tests (resample-, strided-copy- and spatial-kernels.test.ts) share: the two
// kernel builds, float comparison with canaries, and the ONNX node tests' data (resample-node-cases.json,
// written from test/fixtures/onnx-node/ by resample-node-cases.mjs, since the browser cannot read .pb files).
import { expect } from '@open-wc/testing';
import { Arena, CANARY, TAIL, loadKernels, mismatch, type KernelExports, type Ptr } from './kernel-harness.js';

const BUILDS = [
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

export const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Compares n outputs with the reference and checks the canaries after them. */
export function expectFloats(arena: Arena, p: Ptr, ref: ArrayLike<number>, rtol: number, atol: number, what: string) {
  const got = arena.f32(p, ref.length + TAIL);
  for (let i = 0; i < ref.length; i++) {
    const m = mismatch(got[i], ref[i], rtol, atol);
    if (m) expect.fail(`${what}[${i}]: ${m}`);
  }
  for (let t = 0; t < TAIL; t++) if (got[ref.length + t] !== CANARY) expect.fail(`${what}: wrote past the end (${t})`);
}

export interface NodeTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: number[];
}
export interface NodeCase {
  name: string;
  op: string;
  opset: number;
  attrs: Record<string, number | string | number[]>;
  inputs: (NodeTensor | null)[];
  outputs: NodeTensor[];
}
let nodeCases: Promise<NodeCase[]> | null = null;
/** The ONNX node tests' data (resample-node-cases.json). */
export function loadNodeCases(): Promise<NodeCase[]> {
  nodeCases ??= fetch('/test/browser/resample-node-cases.json').then((r) => {
    expect(r.ok, 'resample-node-cases.json').to.equal(true);
    return r.json() as Promise<NodeCase[]>;
  });
  return nodeCases;
}
