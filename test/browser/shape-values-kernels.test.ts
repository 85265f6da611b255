// The kernels of shape operands given at run time (assembly/shape_values.ts, and pad_at in pad.ts) of
// dist/kernels*.wasm, called through the ABI table. References from the ONNX spec's text: Reshape (0 copies,
// one −1 infers, allowzero), Squeeze/Unsqueeze (axes in [−r, r−1], no repeats, squeezed dims 1), Slice
// (negative indices add the dim, then clamp to [0, dim] for positive steps and [−1, dim−1] for negative
// ones; length ⌈(end − start) / step⌉), Expand (numpy broadcasting), Pad (constant mode). Each output is
// followed by canaries. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { call, CANARY, TAIL, type Arena } from './kernel-harness.js';
import { describeEachBuild } from './resample-harness.js';

/** n i32 outputs written by `run` (given the output's address), their canaries checked; and the result. */
function outputs(arena: Arena, n: number, run: (out: number) => number): { result: number; values: number[] } {
  const out = arena.out(Math.max(n, 1));
  const result = run(out);
  const f = arena.f32(out, Math.max(n, 1) + TAIL);
  for (let t = 0; t < TAIL; t++) expect(f[Math.max(n, 1) + t], `canary ${t}`).to.equal(CANARY);
  return { result, values: Array.from(arena.i32(out, n)) };
}

const i64s = (arena: Arena, values: (number | bigint)[]) =>
  arena.putTyped(
    BigInt64Array.from(values, (v) => BigInt(v)),
    8,
  );

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** ONNX Slice for one axis of dim d (the spec's rules, in BigInt so INT64 bounds stay exact). */
function sliceRef(d: number, start: bigint, end: bigint, step: bigint): [number, number, number] {
  const D = BigInt(d);
  let s = start < 0n ? start + D : start;
  let e = end < 0n ? end + D : end;
  const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);
  if (step > 0n) [s, e] = [clamp(s, 0n, D), clamp(e, 0n, D)];
  else [s, e] = [clamp(s, -1n, D - 1n), clamp(e, -1n, D - 1n)];
  const span = step > 0n ? e - s : s - e;
  const mag = step > 0n ? step : -step;
  const len = span > 0n ? (span + mag - 1n) / mag : 0n;
  const most = D > 1n ? D : 1n;
  const st = step > most ? most : step < -most ? -most : step;
  return [len ? Number(s) : 0, Number(len), Number(st)];
}

describeEachBuild('shape operands given at run time', (env) => {
  const reshape = (shape: number[], inLens: number[], allowZero = 0) =>
    outputs(env.arena, shape.length, (out) =>
      call(env.k, 'reshape_dims', {
        shape: i64s(env.arena, shape),
        shapeBytes: 8,
        n: shape.length,
        inLens: env.arena.putI32(inLens),
        inRank: inLens.length,
        allowZero,
        out,
      }),
    );

  it('reshape_dims: 0 copies, −1 infers; bad entries are 1 + their position', () => {
    env.arena.reset();
    expect(reshape([0, -1, 2], [2, 3, 4])).to.deep.equal({ result: 0, values: [2, 6, 2] });
    expect(reshape([-1], [2, 3, 4])).to.deep.equal({ result: 0, values: [24] });
    expect(reshape([4, 0, -1], [0, 3])).to.deep.equal({ result: 0, values: [4, 3, 0] });
    expect(reshape([3, 0, 5], [0, 3], 1)).to.deep.equal({ result: 0, values: [3, 0, 5] });
    expect(reshape([-1, 2, -1], [2, 3, 4]).result).to.equal(3); // a second −1
    expect(reshape([2, -2, 3], [2, 3, 4]).result).to.equal(2);
    expect(reshape([2, 3, 4, 0], [2, 3, 4]).result).to.equal(4); // a 0 past the input's rank
    expect(reshape([0, -1], [0, 3], 1).result).to.equal(2); // allowzero: a 0 and a −1
  });

  it('dims_count: 0 when the product (or sum) is the total, else 1 + it', () => {
    env.arena.reset();
    const count = (dims: number[], total: number, sum: number) =>
      call(env.k, 'dims_count', { dims: env.arena.putI32(dims), n: dims.length, total, sum });
    expect(count([2, 3, 4], 24, 0)).to.equal(0);
    expect(count([5, 5, 1], 24, 0)).to.equal(26);
    expect(count([1, 2, 3], 6, 1)).to.equal(0);
    expect(count([1, 1, 1], 6, 1)).to.equal(4);
    expect(count([], 1, 0)).to.equal(0);
  });

  const axesDims = (axes: number[], inLens: number[], squeeze: number) =>
    outputs(env.arena, squeeze ? inLens.length - axes.length : inLens.length + axes.length, (out) =>
      call(env.k, 'axes_dims', {
        axes: i64s(env.arena, axes),
        axesBytes: 8,
        nAxes: axes.length,
        inLens: env.arena.putI32(inLens),
        inRank: inLens.length,
        squeeze,
        out,
      }),
    );

  it('axes_dims: Squeeze and Unsqueeze by axes in any order; refused axes', () => {
    env.arena.reset();
    expect(axesDims([2, 0], [1, 3, 1, 2], 1)).to.deep.equal({ result: 0, values: [3, 2] });
    expect(axesDims([-2], [1, 3, 1, 2], 1)).to.deep.equal({ result: 0, values: [1, 3, 2] });
    expect(axesDims([1], [1, 3, 1, 2], 1).result).to.equal(1); // not 1
    expect(axesDims([0, -4], [1, 3, 1, 2], 1).result).to.equal(2); // named twice
    expect(axesDims([4], [1, 3, 1, 2], 1).result).to.equal(1); // outside [−4, 3]
    expect(axesDims([3, 0], [3, 4], 0)).to.deep.equal({ result: 0, values: [1, 3, 4, 1] });
    expect(axesDims([-1, 1], [3, 4], 0)).to.deep.equal({ result: 0, values: [3, 1, 4, 1] });
    expect(axesDims([4], [3, 4], 0).result).to.equal(1); // outside [−3, 2]
    expect(axesDims([1, -3], [3, 4], 0).result).to.equal(2);
  });

  it('slice_ranges: every rule of the spec on every axis', () => {
    env.arena.reset();
    const dims = [5, 6, 1, 0];
    const cases: [bigint, bigint, bigint][] = [
      [0n, 3n, 1n],
      [-2n, INT64_MAX, 1n],
      [-100n, 100n, 2n],
      [4n, INT64_MIN, -1n],
      [-1n, 0n, -2n],
      [10n, 20n, 1n],
      [3n, 1n, 1n],
      [5n, -100n, -3n],
      [0n, 6n, INT64_MAX],
      [3n, 0n, INT64_MIN],
    ];
    for (const [s, e, st] of cases)
      for (const a of dims.keys()) {
        const { result, values } = outputs(env.arena, 3 * dims.length, (out) =>
          call(env.k, 'slice_ranges', {
            starts: i64s(env.arena, [s]),
            startsBytes: 8,
            ends: i64s(env.arena, [e]),
            endsBytes: 8,
            axes: i64s(env.arena, [a - dims.length]),
            axesBytes: 8,
            steps: i64s(env.arena, [st]),
            stepsBytes: 8,
            n: 1,
            inLens: env.arena.putI32(dims),
            rank: dims.length,
            out,
          }),
        );
        const want = dims.flatMap((n, b) => (b === a ? sliceRef(n, s, e, st) : [0, n, 1]));
        expect({ result, values }, `axis ${a}: ${s}:${e}:${st}`).to.deep.equal({ result: 0, values: want });
      }
  });

  it('slice_ranges: i32 operands, no axes or steps; a step of 0, an axis out of range or repeated', () => {
    env.arena.reset();
    const slice = (starts: number[], axes: number[] | null, steps: number[] | null) =>
      outputs(env.arena, 6, (out) =>
        call(env.k, 'slice_ranges', {
          starts: env.arena.putI32(starts),
          startsBytes: 4,
          ends: env.arena.putI32(starts.map(() => 4)),
          endsBytes: 4,
          axes: axes ? env.arena.putI32(axes) : 0,
          axesBytes: axes ? 4 : 0,
          steps: steps ? env.arena.putI32(steps) : 0,
          stepsBytes: steps ? 4 : 0,
          n: starts.length,
          inLens: env.arena.putI32([5, 6]),
          rank: 2,
          out,
        }),
      );
    expect(slice([1, -3], null, null)).to.deep.equal({ result: 0, values: [1, 3, 1, 3, 1, 1] });
    expect(slice([0, 0], [0, 1], [1, 0]).result).to.equal(2);
    expect(slice([0], [2], null).result).to.equal(1);
    expect(slice([0, 0], [1, -1], null).result).to.equal(2);
    expect(slice([0, 0, 0], null, null).result).to.equal(3); // more starts than axes
  });

  it('expand_dims: numpy broadcasting, the shape right-aligned; an entry that does not broadcast', () => {
    env.arena.reset();
    const expand = (shape: number[], inLens: number[]) =>
      outputs(env.arena, Math.max(shape.length, inLens.length), (out) =>
        call(env.k, 'expand_dims', {
          shape: i64s(env.arena, shape),
          shapeBytes: 8,
          n: shape.length,
          inLens: env.arena.putI32(inLens),
          inRank: inLens.length,
          out,
        }),
      );
    expect(expand([2, 1, 6], [3, 1])).to.deep.equal({ result: 0, values: [2, 3, 6] });
    expect(expand([1], [3, 1])).to.deep.equal({ result: 0, values: [3, 1] });
    expect(expand([3, 0], [3, 1])).to.deep.equal({ result: 0, values: [3, 0] });
    expect(expand([2, 2], [3, 1]).result).to.equal(1);
    expect(expand([-1, 1], [3, 1]).result).to.equal(1);
  });

  it('sizes_of: i64 to i32; a negative entry or one beyond i32 is refused', () => {
    env.arena.reset();
    const sizes = (x: (number | bigint)[]) =>
      outputs(env.arena, x.length, (out) =>
        call(env.k, 'sizes_of', { x: i64s(env.arena, x), xBytes: 8, n: x.length, out }),
      );
    expect(sizes([3, 0, 7])).to.deep.equal({ result: 0, values: [3, 0, 7] });
    expect(sizes([3, -1]).result).to.equal(2);
    expect(sizes([2n ** 31n]).result).to.equal(1);
  });

  it('dropout_check: refuses only training with a ratio other than 0', () => {
    env.arena.reset();
    const check = (ratio: number, training: number) =>
      call(env.k, 'dropout_check', {
        ratio: env.arena.put([ratio]),
        training: env.arena.putTyped(Uint8Array.of(training)),
      });
    expect([check(0.5, 0), check(0, 1), check(0.5, 1)]).to.deep.equal([0, 0, 1]);
  });

  it('pad_at: the constant read from memory keeps an int32 bit pattern (−1 is a NaN as a float)', () => {
    env.arena.reset();
    const x = env.arena.putI32([5, 6, 7, 8]); // 2×2
    const y = env.arena.out(3 * 4);
    // Behind a leading axis of 1: out [1, 3, 4], in [1, 2, 2], begins [0, 1, 1].
    const table = env.arena.putI32([3, 1, 3, 4, 1, 2, 2, 0, 1, 1]);
    call(env.k, 'pad_at', { x, y, rows: 1, table, mode: 0, value: env.arena.putI32([-1]) });
    expect(Array.from(env.arena.i32(y, 12))).to.deep.equal([-1, -1, -1, -1, -1, 5, 6, -1, -1, 7, 8, -1]);
    const f = env.arena.f32(y, 12 + TAIL);
    for (let t = 0; t < TAIL; t++) expect(f[12 + t], 'canary').to.equal(CANARY);
  });
});
