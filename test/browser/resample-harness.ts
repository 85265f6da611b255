// What the resampling kernel tests (resample-, strided-copy- and spatial-kernels.test.ts) share: the two
// kernel builds, float comparison with canaries, and the ONNX node tests' data (resample-node-cases.json,
// written from test/fixtures/onnx-node/ by resample-node-cases.mjs, since the browser cannot read .pb files).
import { expect } from '@open-wc/testing';
import { CANARY, TAIL, mismatch, type Arena, type Ptr } from './kernel-harness.js';

export { describeEachBuild, type KernelEnv } from './kernel-harness.js';

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
