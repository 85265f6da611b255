// The indexing kernels of dist/kernels*.wasm (assembly/gather_scatter.ts, select.ts, topk.ts, cumsum.ts,
// reduce_axes.ts) called through the ABI table, against references written from the ONNX operator specs:
// results, and above all memory safety — an index outside its axis makes the kernel stop and say where
// without touching memory past any tensor, and a size beyond the bound the memory was planned for is
// reported without writing the outputs. Canaries sit after every output. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { call, rng, type Arena, type KernelExports, type Ptr, type TypedArrayConstructor } from './kernel-harness.js';
import { describeEachBuild, prod } from './resample-harness.js';

const { ELEM, SCATTER } = CODES;
const CANARY_BYTE = 0xa5;

/** Every byte of [p, p + bytes + 32) still 0xA5: nothing was written there. */
function expectUntouched(arena: Arena, p: Ptr, bytes: number, what: string) {
  const view = arena.view(Uint8Array, p, bytes + 32);
  const at = view.findIndex((b) => b !== CANARY_BYTE);
  expect(at, `${what}: byte ${at} was written`).to.equal(-1);
}

/** The 32 bytes after an output of `bytes` bytes are still canaries. */
function expectTail(arena: Arena, p: Ptr, bytes: number, what: string) {
  const view = arena.view(Uint8Array, p + bytes, 32);
  expect(
    Array.from(view).every((b) => b === CANARY_BYTE),
    `${what}: written past the end`,
  ).to.equal(true);
}

/** Coordinates of flat index i in dims (row-major). */
function coords(i: number, dims: number[]): number[] {
  const c = dims.map(() => 0);
  for (let d = dims.length - 1; d >= 0; d--) {
    c[d] = i % dims[d];
    i = Math.floor(i / dims[d]);
  }
  return c;
}
const flat = (c: number[], dims: number[]) => c.reduce((acc, v, d) => acc * dims[d] + v, 0);

describeEachBuild('indexing kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;
  before(() => ({ k, arena } = env));

  describe('gather_elements and scatter_elements', () => {
    const xDims = [3, 5, 4];
    const cases: { axis: number; idxDims: number[] }[] = [
      { axis: 0, idxDims: [2, 5, 4] },
      { axis: 1, idxDims: [3, 7, 2] },
      { axis: 2, idxDims: [1, 3, 6] },
    ];
    for (const { axis, idxDims } of cases)
      for (const elemBytes of [1, 2, 4, 8])
        it(`gather_elements, axis ${axis}, ${elemBytes}-byte elements, i64 and i32 indices`, () => {
          for (const idxBytes of [4, 8]) {
            arena.reset();
            const rand = rng(axis * 10 + elemBytes + idxBytes);
            const n = prod(xDims);
            const x = Uint8Array.from({ length: n * elemBytes }, () => Math.floor(rand() * 256));
            const len = xDims[axis];
            const m = prod(idxDims);
            const js = Array.from({ length: m }, () => Math.floor(rand() * 2 * len) - len);
            const idx = idxBytes === 8 ? BigInt64Array.from(js, BigInt) : Int32Array.from(js);
            const y = arena.outBytes(m * elemBytes);
            const result = call(k, 'gather_elements', {
              x: arena.putTyped(x, 1),
              idx: arena.putTyped(idx),
              y,
              rank: 3,
              table: arena.putI32([...idxDims, ...xDims]),
              axis,
              idxBytes,
              elemBytes,
            });
            expect(result).to.equal(0);
            const got = arena.view(Uint8Array, y, m * elemBytes);
            for (let p = 0; p < m; p++) {
              const c = coords(p, idxDims);
              c[axis] = js[p] < 0 ? js[p] + len : js[p];
              const src = flat(c, xDims);
              for (let b = 0; b < elemBytes; b++)
                if (got[p * elemBytes + b] !== x[src * elemBytes + b])
                  expect.fail(`[${p}] byte ${b}: got ${got[p * elemBytes + b]}, want ${x[src * elemBytes + b]}`);
            }
            expectTail(arena, y, m * elemBytes, 'y');
          }
        });

    for (const bad of [5, -6, 2 ** 33])
      it(`an index ${bad} on an axis of 5: 1 + its position, nothing written past y`, () => {
        arena.reset();
        const idx = BigInt64Array.from([0, 4, -5, BigInt(bad), 1, 2], BigInt);
        const y = arena.outBytes(6 * 4);
        const x = arena.putTyped(new Float32Array(15).fill(2));
        const args = {
          idx: arena.putTyped(idx),
          rank: 2,
          table: arena.putI32([3, 2, 3, 5]),
          axis: 1,
          idxBytes: 8,
        };
        expect(call(k, 'gather_elements', { ...args, x, y, elemBytes: 4 })).to.equal(4);
        expectTail(arena, y, 6 * 4, 'gather y');
        // Scatter into a y of the data's 15 floats: refused at the same index, nothing written past it.
        const data = arena.outBytes(15 * 4);
        const upd = arena.putTyped(new Float32Array(6).fill(1));
        for (const reduction of Object.values(SCATTER)) {
          expect(
            call(k, 'scatter_elements', { ...args, y: data, upd, kind: ELEM.F32, reduction }),
            `reduction ${reduction}`,
          ).to.equal(4);
          expectTail(arena, data, 15 * 4, 'scatter y');
        }
      });

    for (const [name, reduction] of Object.entries(SCATTER))
      for (const [kind, Ctor] of [
        [ELEM.F32, Float32Array],
        [ELEM.I32, Int32Array],
        [ELEM.U8, Uint8Array],
        [ELEM.I8, Int8Array],
      ] as const)
        it(`scatter_elements, reduction ${name}, kind ${kind}: duplicates applied in index order`, () => {
          arena.reset();
          const dims = [2, 4];
          const data = Ctor.from([1, 2, 3, 4, 5, 6, 7, 8]);
          const idxJs = [1, 1, -1, 0, 3, 3];
          const updJs = [3, 2, 5, 7, 2, 3];
          const want = Array.from(data);
          // indices [2, 3], axis 1: row r, column idx[r, j]
          idxJs.forEach((v, p) => {
            const r = Math.floor(p / 3);
            const at = r * 4 + (v < 0 ? v + 4 : v);
            const [a, b] = [want[at], updJs[p]];
            const combined = [b, a + b, a * b, Math.max(a, b), Math.min(a, b)][reduction];
            want[at] = Ctor.from([combined])[0];
          });
          const y = arena.putTyped(data);
          const result = call(k, 'scatter_elements', {
            y,
            idx: arena.putTyped(BigInt64Array.from(idxJs, BigInt)),
            upd: arena.putTyped(Ctor.from(updJs)),
            rank: 2,
            table: arena.putI32([2, 3, ...dims]),
            axis: 1,
            idxBytes: 8,
            kind,
            reduction,
          });
          expect(result).to.equal(0);
          expect(
            Array.from(
              arena.view(Ctor as TypedArrayConstructor<Float32Array | Int32Array | Uint8Array | Int8Array>, y, 8),
            ),
          ).to.deep.equal(want);
        });
  });

  describe('gather_nd and scatter_nd', () => {
    it('gather_nd with batches: slices by index tuples, an index out of range refused where it is', () => {
      arena.reset();
      // x [2 batches, 3, 2, slice 2], idx [2, 2 tuples, q 2]
      const x = Float32Array.from({ length: 24 }, (_, i) => i);
      const idxJs = [0, 1, 2, -1, 1, 0, -3, 1];
      const y = arena.outBytes(2 * 2 * 2 * 4);
      const args = {
        x: arena.putTyped(x),
        y,
        batches: 2,
        count: 2,
        q: 2,
        slice: 2,
        table: arena.putI32([3, 2]),
        idxBytes: 8,
        elemBytes: 4,
      };
      expect(call(k, 'gather_nd', { ...args, idx: arena.putTyped(BigInt64Array.from(idxJs, BigInt)) })).to.equal(0);
      const want: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 2; c++) {
          const [i, j] = idxJs.slice((b * 2 + c) * 2, (b * 2 + c) * 2 + 2).map((v, q) => (v < 0 ? v + [3, 2][q] : v));
          want.push(...x.slice(((b * 3 + i) * 2 + j) * 2, ((b * 3 + i) * 2 + j) * 2 + 2));
        }
      expect(Array.from(arena.f32(y, 8))).to.deep.equal(want);
      expectTail(arena, y, 32, 'y');
      const bad = BigInt64Array.from([0, 1, 2, -1, 1, 2, 0, 0], BigInt); // position 5: 2 on an axis of 2
      expect(call(k, 'gather_nd', { ...args, idx: arena.putTyped(bad) })).to.equal(6);
      expectTail(arena, y, 32, 'y after the refused call');
    });

    it('scatter_nd add and an out-of-range tuple (nothing written past y)', () => {
      arena.reset();
      const y = arena.outBytes(8 * 4);
      arena.f32(y, 8).set([1, 2, 3, 4, 5, 6, 7, 8]);
      const args = {
        y,
        upd: arena.putTyped(Float32Array.from([10, 20, 30, 40, 50, 60])),
        count: 3,
        q: 1,
        slice: 2,
        table: arena.putI32([4]),
        idxBytes: 4,
        kind: ELEM.F32,
        reduction: SCATTER.ADD,
      };
      expect(call(k, 'scatter_nd', { ...args, idx: arena.putTyped(Int32Array.from([1, -1, 1])) })).to.equal(0);
      expect(Array.from(arena.f32(y, 8))).to.deep.equal([1, 2, 3 + 10 + 50, 4 + 20 + 60, 5, 6, 7 + 30, 8 + 40]);
      expectTail(arena, y, 32, 'y');
      expect(call(k, 'scatter_nd', { ...args, idx: arena.putTyped(Int32Array.from([0, 4, 1])) })).to.equal(2);
      expectTail(arena, y, 32, 'y after the refused call');
    });
  });

  describe('sizes only the data tells: written, outputs untouched beyond the bound', () => {
    const x = Float32Array.from([0, 1, -0, NaN, 2, 0, 0, -3, 0, 4, 0, 0]); // 5 non-zero (NaN counts)
    it('nonzero: coordinates within the bound, nothing at all beyond it', () => {
      for (const max of [5, 4, 0]) {
        arena.reset();
        const y = arena.outBytes(2 * 5 * 8);
        const count = arena.putI32([-1]);
        const args = { x: arena.putTyped(x), y, n: 12, rank: 2, table: arena.putI32([3, 4]), kind: ELEM.F32 };
        call(k, 'nonzero', { ...args, count, max });
        expect(arena.i32(count, 1)[0]).to.equal(5);
        if (max < 5) expectUntouched(arena, y, 80, `max ${max}`);
        else {
          expect(Array.from(arena.view(BigInt64Array, y, 10), Number)).to.deep.equal([0, 0, 1, 1, 2, 1, 3, 0, 3, 1]);
          expectTail(arena, y, 80, 'y');
        }
      }
    });

    it('compress and unique refuse to write past the bound', () => {
      arena.reset();
      const cond = arena.putTyped(Uint8Array.from([1, 0, 1, 1]));
      const y = arena.outBytes(3 * 4 * 4);
      const count = arena.putI32([-1]);
      const xs = arena.putTyped(Float32Array.from({ length: 12 }, (_, i) => i));
      const c = { x: xs, cond, y, outer: 1, len: 4, inner: 3, condLen: 4, elemBytes: 4, count };
      call(k, 'compress', { ...c, max: 2 });
      expect(arena.i32(count, 1)[0]).to.equal(3);
      expectUntouched(arena, y, 48, 'compress beyond the bound');
      call(k, 'compress', { ...c, max: 3 });
      expect(Array.from(arena.f32(y, 9))).to.deep.equal([0, 1, 2, 6, 7, 8, 9, 10, 11]);
      expectTail(arena, y, 36, 'compress y');

      const sizes = [8 * 4, 8 * 8, 8 * 8, 8 * 8];
      const outs = sizes.map((b) => arena.outBytes(b));
      const [uy, first, inverse, counts] = outs;
      const u = {
        x: arena.putTyped(Float32Array.from([3, 1, 3, -0, 0, NaN, 1, NaN])),
        y: uy,
        first,
        inverse,
        counts,
        outer: 1,
        len: 8,
        inner: 1,
        sorted: 1,
        kind: ELEM.F32,
        scratch: arena.alloc(3 * 8),
        count,
      };
      call(k, 'unique', { ...u, max: 3 });
      expect(arena.i32(count, 1)[0]).to.equal(4); // 0 (= −0), 1, 3, NaN
      // The inverse indices are [len] whatever the count; the outputs sized by the count stay untouched.
      for (const i of [0, 1, 3]) expectUntouched(arena, outs[i], sizes[i], `unique output ${i} beyond the bound`);
      call(k, 'unique', { ...u, max: 8 });
      expect(Array.from(arena.f32(uy, 4))).to.deep.equal([-0, 1, 3, NaN]);
      expect(Array.from(arena.view(BigInt64Array, first, 4), Number)).to.deep.equal([3, 1, 0, 5]);
      expect(Array.from(arena.view(BigInt64Array, inverse, 8), Number)).to.deep.equal([2, 1, 2, 0, 0, 3, 1, 3]);
      expect(Array.from(arena.view(BigInt64Array, counts, 4), Number)).to.deep.equal([2, 2, 2, 2]);
      expectTail(arena, uy, 16, 'unique y');
    });
  });

  describe('topk_axis', () => {
    /** The spec's TopK of one column: stable, NaN above everything. */
    function refTopK(col: number[], K: number, largest: boolean): number[] {
      const order = col.map((_, j) => j);
      order.sort((a, b) => {
        const [u, v] = [col[a], col[b]];
        const d = largest ? cmp(v, u) : cmp(u, v);
        return d || a - b;
      });
      function cmp(u: number, v: number): number {
        if (Number.isNaN(u) || Number.isNaN(v))
          return Number.isNaN(u) === Number.isNaN(v) ? 0 : Number.isNaN(u) ? 1 : -1;
        return u < v ? -1 : u > v ? 1 : 0;
      }
      return order.slice(0, K);
    }
    for (const len of [1, 7, 16, 33])
      for (const K of [0, 1, 15, 16, 17, 33].filter((K) => K <= len))
        for (const largest of [1, 0])
          it(`len ${len}, K ${K}, largest ${largest}, inner 3, ties and NaN`, () => {
            arena.reset();
            const rand = rng(len * 100 + K * 2 + largest);
            const [outer, inner] = [2, 3];
            const x = Float32Array.from({ length: outer * len * inner }, () => {
              const r = rand();
              return r < 0.05 ? NaN : r < 0.1 ? -Infinity : Math.floor(rand() * 6) - 3;
            });
            const vals = arena.outBytes(outer * K * inner * 4);
            const idx = arena.outBytes(outer * K * inner * 8);
            call(k, 'topk_axis', {
              x: arena.putTyped(x),
              vals,
              idx,
              outer,
              len,
              inner,
              K,
              largest,
              kind: ELEM.F32,
              idxBytes: 8,
              scratch: arena.alloc(2 * len),
            });
            const gotV = arena.f32(vals, outer * K * inner);
            const gotI = arena.view(BigInt64Array, idx, outer * K * inner);
            for (let o = 0; o < outer; o++)
              for (let i = 0; i < inner; i++) {
                const col = Array.from({ length: len }, (_, j) => x[(o * len + j) * inner + i]);
                refTopK(col, K, largest === 1).forEach((j, r) => {
                  const at = (o * K + r) * inner + i;
                  expect(Number(gotI[at]), `column ${o},${i} rank ${r}`).to.equal(j);
                  expect(Object.is(gotV[at], col[j]) || gotV[at] === col[j], `value at ${at}`).to.equal(true);
                });
              }
            expectTail(arena, vals, outer * K * inner * 4, 'values');
            expectTail(arena, idx, outer * K * inner * 8, 'indices');
          });
  });

  describe('cumsum and reduce_masked over axes read at run time', () => {
    it('cumsum on every axis, exclusive and reverse; an axis outside the rank is refused', () => {
      const dims = [2, 3, 4];
      const x = Float32Array.from({ length: 24 }, (_, i) => (i % 5) - 1.5);
      for (let axis = -3; axis < 3; axis++)
        for (const exclusive of [0, 1])
          for (const reverse of [0, 1]) {
            arena.reset();
            const y = arena.outBytes(96);
            const a = (axis + 3) % 3;
            const args = { x: arena.putTyped(x), y, rank: 3, table: arena.putI32(dims), axisBytes: 8 };
            const flags = { exclusive, reverse, kind: ELEM.F32 };
            expect(
              call(k, 'cumsum', { ...args, ...flags, axis: arena.putTyped(BigInt64Array.of(BigInt(axis))) }),
            ).to.equal(0);
            const want = Array.from(x, (_, p) => {
              const c = coords(p, dims);
              let s = 0;
              for (let j = 0; j < dims[a]; j++) {
                const before = reverse ? j > c[a] : j < c[a];
                if (before || (!exclusive && j === c[a]))
                  s +=
                    x[
                      flat(
                        c.map((v, d) => (d === a ? j : v)),
                        dims,
                      )
                    ];
              }
              return s;
            });
            expect(Array.from(arena.f32(y, 24)), `axis ${axis}`).to.deep.equal(want);
            expectTail(arena, y, 96, 'y');
          }
      arena.reset();
      const y = arena.outBytes(96);
      const bad = { x: arena.putTyped(x), y, rank: 3, table: arena.putI32(dims), axisBytes: 4, exclusive: 0 };
      for (const axis of [3, -4])
        expect(call(k, 'cumsum', { ...bad, reverse: 0, kind: ELEM.F32, axis: arena.putI32([axis]) })).to.equal(1);
      expectUntouched(arena, y, 96, 'y of a refused cumsum');
    });

    it('reduce_masked: sum, mean, max, min and prod over every mask of a rank-4 tensor', () => {
      const dims = [2, 3, 1, 4];
      const x = Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 9) / 4 - 0.5);
      const ops: [number, (xs: number[]) => number][] = [
        [0, (xs) => xs.reduce((a, b) => a + b, 0)],
        [1, (xs) => xs.reduce((a, b) => a + b, 0) / xs.length],
        [2, (xs) => Math.max(...xs)],
        [3, (xs) => Math.min(...xs)],
        [4, (xs) => xs.reduce((a, b) => a * b, 1)],
      ];
      for (let m = 0; m < 16; m++) {
        const mask = dims.map((_, d) => (m >> d) & 1);
        const outDims = dims.map((n, d) => (mask[d] ? 1 : n));
        const n = prod(outDims);
        for (const [op, fn] of ops) {
          arena.reset();
          const y = arena.outBytes(n * 4);
          call(k, 'reduce_masked', {
            x: arena.putTyped(x),
            y,
            rank: 4,
            table: arena.putI32(dims),
            mask: arena.putI32(mask),
            op,
            scratch: arena.alloc(8),
          });
          const groups: number[][] = Array.from({ length: n }, () => []);
          x.forEach((v, p) =>
            groups[
              flat(
                coords(p, dims).map((c, d) => (mask[d] ? 0 : c)),
                outDims,
              )
            ].push(v),
          );
          const got = arena.f32(y, n);
          groups.forEach((g, i) => {
            const want = Math.fround(fn(g));
            expect(
              Math.abs(got[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
              `mask ${mask} op ${op} [${i}]: ${got[i]} vs ${want}`,
            ).to.equal(true);
          });
          expectTail(arena, y, n * 4, 'y');
        }
      }
    });

    it('axes_mask: negative axes, duplicates counted once unless distinct, out of range refused', () => {
      arena.reset();
      const mask = arena.alloc(4);
      const run = (axes: number[], distinct: number, noop = 0) =>
        call(k, 'axes_mask', {
          axes: arena.putTyped(BigInt64Array.from(axes, BigInt)),
          n: axes.length,
          axesBytes: 8,
          rank: 4,
          noop,
          distinct,
          mask,
        });
      expect(run([-1, 1], 1)).to.equal(0);
      expect(Array.from(arena.i32(mask, 4))).to.deep.equal([0, 1, 0, 1]);
      expect(run([2, -2], 0)).to.equal(0);
      expect(Array.from(arena.i32(mask, 4))).to.deep.equal([0, 0, 1, 0]);
      expect(run([2, -2], 1)).to.equal(2);
      expect(run([0, 4], 0)).to.equal(2);
      expect(run([-5], 0)).to.equal(1);
      expect(run([], 0)).to.equal(0);
      expect(Array.from(arena.i32(mask, 4))).to.deep.equal([1, 1, 1, 1]);
      expect(run([], 0, 1)).to.equal(0);
      expect(Array.from(arena.i32(mask, 4))).to.deep.equal([0, 0, 0, 0]);
    });
  });
});
