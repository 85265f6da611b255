// The element-size-general strided copies of dist/kernels*.wasm (strided_copy_sized, copy_blocks_sized)
// for 1-, 2-, 4- and 8-byte elements, and DepthToSpace (DCR, CRD), SpaceToDepth and Tile written as
// strided_copy views (the dims and strides an op handler passes), against the ONNX spec's reshape/transpose
// formulation and the node tests' data. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { call, rng, type Arena, type KernelExports } from './kernel-harness.js';
import { describeEachBuild, expectFloats, loadNodeCases, prod } from './resample-harness.js';

/** x reshaped to `shape` and transposed by `perm` (numpy semantics): the source index of every output. */
function transposeSources(shape: number[], perm: number[]): number[] {
  const strides = shape.map((_, a) => prod(shape.slice(a + 1)));
  const outShape = perm.map((p) => shape[p]);
  const out: number[] = [];
  const idx = outShape.map(() => 0);
  for (let o = 0; o < prod(outShape); o++) {
    out.push(idx.reduce((s, i, a) => s + i * strides[perm[a]], 0));
    for (let a = outShape.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Source element index per output of a strided view (dims, element strides), as strided_copy defines it. */
function viewSources(dims: number[], strides: number[]): number[] {
  return transposeSources(
    dims,
    dims.map((_, a) => a),
  ).map((o) => {
    let rem = o,
      off = 0;
    for (let a = dims.length - 1; a >= 0; a--) {
      off += (rem % dims[a]) * strides[a];
      rem = Math.floor(rem / dims[a]);
    }
    return off;
  });
}

describeEachBuild('strided copy kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;
  before(() => ({ k, arena } = env));

  /** strided_copy_sized of elements of es bytes; checks y against x at `sources` byte for byte. */
  function checkStridedSized(
    es: number,
    n: number,
    dims: number[],
    strides: number[],
    sources: number[],
    what: string,
    start = 0,
  ) {
    arena.reset();
    const rand = rng(es * 1000 + n);
    const bytes = Uint8Array.from({ length: n * es }, () => Math.floor(rand() * 256));
    const xPtr = arena.alloc((n * es) / 4 + 1, es === 1 ? 1 : es === 2 ? 2 : 0);
    new Uint8Array(k.memory.buffer, xPtr, bytes.length).set(bytes);
    const total = sources.length;
    const yPtr = arena.alloc((total * es) / 4 + 8, es === 1 ? 3 : 0);
    new Uint8Array(k.memory.buffer, yPtr, total * es + 32).fill(0x5a);
    const table = arena.putI32([dims.length, 999, ...dims.slice(1), ...strides]);
    // The view starts at element `start` (negative strides walk back from there, as a reversing Slice).
    const x = xPtr + start * es;
    if (es === 4 && rand() < 0.5) call(k, 'strided_copy', { x, y: yPtr, rows: dims[0], table });
    else call(k, 'strided_copy_sized', { x, y: yPtr, rows: dims[0], table, elemSize: es });
    const got = new Uint8Array(k.memory.buffer, yPtr, total * es + 32);
    for (let o = 0; o < total; o++) {
      for (let b = 0; b < es; b++) {
        const from = (start + sources[o]) * es + b;
        if (got[o * es + b] !== bytes[from]) expect.fail(`${what} (${es} B): element ${o} byte ${b}`);
      }
    }
    for (let b = total * es; b < got.length; b++) if (got[b] !== 0x5a) expect.fail(`${what} (${es} B): past the end`);
  }

  it('strided_copy_sized: 1-, 2-, 4- and 8-byte elements through permutations, steps, reversals and broadcasts', () => {
    const rand = rng(201);
    for (const es of [1, 2, 4, 8]) {
      for (let i = 0; i < 60; i++) {
        const R = 1 + Math.floor(rand() * 9); // beyond 7 outer dims: the index-decomposition path
        const dims = Array.from({ length: R }, () => 1 + Math.floor(rand() * (R > 6 ? 2 : 5)));
        // A view of a larger buffer: per dim a stride of 0 (broadcast), a step, or a permutation's.
        const strides = dims.map(() => [0, 1, 2, 3, 7, 11, -1, -5][Math.floor(rand() * 8)]);
        if (i % 3 === 0) strides.forEach((_, a) => (strides[a] = prod(dims.slice(a + 1)))); // contiguous: one run
        // The buffer spans the view; a negative stride starts the view past the buffer's first element.
        const start = -dims.reduce((s, d, a) => s + Math.min(0, (d - 1) * strides[a]), 0);
        const n = 1 + start + dims.reduce((s, d, a) => s + Math.max(0, (d - 1) * strides[a]), 0);
        checkStridedSized(
          es,
          n,
          dims,
          strides,
          viewSources(dims, strides),
          `view [${dims}] strides [${strides}]`,
          start,
        );
      }
    }
  });

  it('copy_blocks_sized: 1-, 2-, 4- and 8-byte chunks, padded strides, the contiguous case', () => {
    for (const es of [1, 2, 4, 8]) {
      for (const chunk of [1, 3, 4, 7, 16, 33]) {
        for (const count of [1, 2, 5]) {
          for (const [sPad, dPad] of [
            [0, 0],
            [3, 0],
            [0, 5],
          ]) {
            arena.reset();
            const srcStride = chunk + sPad,
              dstStride = chunk + dPad;
            const n = count * srcStride;
            const bytes = Uint8Array.from({ length: n * es }, (_, i) => (i * 37 + 11) & 255);
            const xPtr = arena.alloc((n * es) / 4 + 1, es < 4 ? 1 : 0);
            new Uint8Array(k.memory.buffer, xPtr, bytes.length).set(bytes);
            const yLen = ((count - 1) * dstStride + chunk) * es;
            const yPtr = arena.alloc(yLen / 4 + 8, es < 4 ? 3 : 0);
            new Uint8Array(k.memory.buffer, yPtr, yLen + 32).fill(0x5a);
            call(k, 'copy_blocks_sized', { x: xPtr, y: yPtr, count, chunk, srcStride, dstStride, elemSize: es });
            const got = new Uint8Array(k.memory.buffer, yPtr, yLen + 32);
            const want = new Uint8Array(yLen + 32).fill(0x5a);
            for (let c = 0; c < count; c++) {
              want.set(bytes.subarray(c * srcStride * es, (c * srcStride + chunk) * es), c * dstStride * es);
            }
            const bad = want.findIndex((v, i) => got[i] !== v);
            if (bad >= 0)
              expect.fail(
                `copy_blocks_sized ${es} B count ${count} chunk ${chunk} strides ${srcStride}/${dstStride}: byte ${bad}`,
              );
          }
        }
      }
    }
  });

  it('DepthToSpace (DCR, CRD), SpaceToDepth and Tile as strided_copy views, 1- to 8-byte elements', async () => {
    const rand = rng(202);
    for (const es of [1, 4, 8]) {
      for (let i = 0; i < 12; i++) {
        const N = 1 + Math.floor(rand() * 2),
          b = 1 + Math.floor(rand() * 3),
          Cq = 1 + Math.floor(rand() * 3),
          H = 1 + Math.floor(rand() * 4),
          W = 1 + Math.floor(rand() * 4);
        // DepthToSpace: x [N, C = Cq·b², H, W] -> y [N, Cq, H·b, W·b].
        const C = Cq * b * b,
          HW = H * W,
          CHW = C * HW;
        const dims = [N, Cq, H, b, W, b];
        const what = `N${N} C${C} ${H}x${W} block ${b}`;
        checkStridedSized(
          es,
          N * CHW,
          dims,
          [CHW, HW, W, b * Cq * HW, 1, Cq * HW],
          transposeSources([N, b, b, Cq, H, W], [0, 3, 4, 1, 5, 2]),
          `DepthToSpace DCR ${what}`,
        );
        checkStridedSized(
          es,
          N * CHW,
          dims,
          [CHW, b * b * HW, W, b * HW, 1, HW],
          transposeSources([N, Cq, b, b, H, W], [0, 1, 4, 2, 5, 3]),
          `DepthToSpace CRD ${what}`,
        );
        // SpaceToDepth: x [N, Cq, H·b, W·b] -> y [N, Cq·b², H, W].
        const Hb = H * b,
          Wb = W * b,
          X = Cq * Hb * Wb;
        checkStridedSized(
          es,
          N * X,
          [N, b, b, Cq, H, W],
          [X, Wb, 1, Hb * Wb, b * Wb, b],
          transposeSources([N, Cq, H, b, W, b], [0, 3, 5, 1, 2, 4]),
          `SpaceToDepth ${what}`,
        );
        // Tile: x [d…] repeated r… times: view [r0, d0, r1, d1, …], strides [0, s0, 0, s1, …].
        const shape = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => 1 + Math.floor(rand() * 3));
        const reps = shape.map(() => 1 + Math.floor(rand() * 3));
        const outShape = shape.map((d, a) => d * reps[a]);
        const sources = transposeSources(
          outShape,
          outShape.map((_, a) => a),
        ).map((o) => {
          let rem = o,
            src = 0;
          for (let a = shape.length - 1; a >= 0; a--) {
            src += ((rem % outShape[a]) % shape[a]) * prod(shape.slice(a + 1));
            rem = Math.floor(rem / outShape[a]);
          }
          return src;
        });
        checkStridedSized(
          es,
          prod(shape),
          shape.flatMap((d, a) => [reps[a], d]),
          shape.flatMap((_, a) => [0, prod(shape.slice(a + 1))]),
          sources,
          `Tile [${shape}] × [${reps}]`,
        );
      }
    }
    // The node tests' own data (float32).
    const cases = (await loadNodeCases()).filter((t) => ['DepthToSpace', 'SpaceToDepth', 'Tile'].includes(t.op));
    expect(cases.length, 'DepthToSpace/SpaceToDepth/Tile node tests').to.equal(5);
    for (const t of cases) {
      const X = t.inputs[0]!;
      let dims: number[], strides: number[];
      if (t.op === 'Tile') {
        const reps = t.inputs[1]!.data;
        dims = X.shape.flatMap((d, a) => [reps[a], d]);
        strides = X.shape.flatMap((_, a) => [0, prod(X.shape.slice(a + 1))]);
      } else {
        const b = t.attrs.blocksize as number;
        const [N, C, H, W] = X.shape;
        if (t.op === 'SpaceToDepth') {
          dims = [N, b, b, C, H / b, W / b];
          strides = [C * H * W, W, 1, H * W, b * W, b];
        } else {
          const Cq = C / (b * b);
          dims = [N, Cq, H, b, W, b];
          strides =
            t.attrs.mode === 'CRD'
              ? [C * H * W, b * b * H * W, W, b * H * W, 1, H * W]
              : [C * H * W, H * W, W, b * Cq * H * W, 1, Cq * H * W];
        }
      }
      arena.reset();
      const xPtr = arena.put(X.data);
      const want = t.outputs[0].data;
      const yPtr = arena.out(want.length);
      call(k, 'strided_copy_sized', {
        x: xPtr,
        y: yPtr,
        rows: dims[0],
        table: arena.putI32([dims.length, 0, ...dims.slice(1), ...strides]),
        elemSize: 4,
      });
      expectFloats(arena, yPtr, want, 0, 0, t.name);
    }
  });
});
