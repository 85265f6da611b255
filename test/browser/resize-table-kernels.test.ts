// resize_table (the Resize kernel table from scales or sizes in memory) and read_size (one size into a
// symbol's slot) of dist/kernels*.wasm, against the ONNX Resize spec and its reference implementation
// (onnx/reference/ops/op_resize.py: output_size = ⌊scale·in⌋; with sizes and keep_aspect_ratio_policy,
// scale = min / max over the axes of size/in and output = int(scale·in + 0.5)). One deviation, on purpose:
// the scale·in product is a float32 one, as onnxruntime computes it (the reference's double gives 8 for
// 5 × 1.8f, onnxruntime and PyTorch 9). Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { call, CANARY, TAIL, type Arena, type KernelExports } from './kernel-harness.js';
import { describeEachBuild } from './resample-harness.js';

type Source = { scales: number[] } | { sizes: number[]; i32?: boolean };

interface Entry {
  in: number;
  out: number;
  scale: number;
}

/** The reference table (logical order), from the spec's formulas in double precision. */
function reference(inLens: number[], axes: number[], src: Source, policy: number): Entry[] {
  const table = inLens.map((n) => ({ in: n, out: n, scale: 1 }));
  if ('scales' in src) {
    axes.forEach((a, i) => {
      const s = Math.fround(src.scales[i]);
      table[a] = { in: inLens[a], out: Math.floor(Math.fround(inLens[a] * s)), scale: s };
    });
    return table;
  }
  if (policy === CODES.ASPECT.STRETCH) {
    axes.forEach((a, i) => (table[a] = { in: inLens[a], out: src.sizes[i], scale: 0 }));
    return table;
  }
  const ratios = axes.map((a, i) => src.sizes[i] / inLens[a]);
  const scale = policy === CODES.ASPECT.NOT_LARGER ? Math.min(...ratios) : Math.max(...ratios);
  axes.forEach(
    (a) => (table[a] = { in: inLens[a], out: Math.trunc(scale * inLens[a] + 0.5), scale: Math.fround(scale) }),
  );
  return table;
}

function run(k: KernelExports, arena: Arena, inLens: number[], axes: number[], src: Source, policy: number): Entry[] {
  const rank = inLens.length;
  let p: number;
  let kind: number;
  if ('scales' in src) {
    p = arena.putTyped(Float32Array.from(src.scales), 4);
    kind = CODES.RESIZE_SRC.SCALES;
  } else if (src.i32) {
    p = arena.putTyped(Int32Array.from(src.sizes), 4);
    kind = CODES.RESIZE_SRC.SIZES_I32;
  } else {
    p = arena.putTyped(BigInt64Array.from(src.sizes, BigInt), 8);
    kind = CODES.RESIZE_SRC.SIZES_I64;
  }
  const table = arena.out(3 * rank, 4);
  call(k, 'resize_table', {
    src: p,
    kind,
    rank,
    inLens: arena.putI32(inLens),
    axes: arena.putI32(axes),
    nAxes: axes.length,
    policy,
    table,
  });
  const words = arena.i32(table, 3 * rank);
  const floats = arena.f32(table, 3 * rank + TAIL);
  for (let t = 0; t < TAIL; t++) expect(floats[3 * rank + t], `canary ${t}`).to.equal(CANARY);
  return inLens.map((_, a) => ({ in: words[3 * a], out: words[3 * a + 1], scale: floats[3 * a + 2] }));
}

describeEachBuild('resize_table', (env) => {
  const { STRETCH, NOT_LARGER, NOT_SMALLER } = CODES.ASPECT;
  const cases: [string, number[], number[], Source, number][] = [
    ['scales on every axis (node test: downsample 0.6)', [1, 1, 2, 4], [0, 1, 2, 3], { scales: [1, 1, 0.6, 0.6] }, 0],
    ['upsample scales 2, 3', [1, 3, 5, 7], [0, 1, 2, 3], { scales: [1, 1, 2, 3] }, 0],
    [
      'products near an integer (5 × 1.8f: 9 in float32)',
      [3, 10, 7, 5],
      [0, 1, 2, 3],
      { scales: [1 / 3, 0.3, 1.7, 1.8] },
      0,
    ],
    ['scales for some axes (opset 18 axes, out of order)', [2, 3, 9, 11], [3, 2], { scales: [0.5, 1.5] }, 0],
    ['sizes i64, stretch', [1, 1, 4, 4], [0, 1, 2, 3], { sizes: [1, 1, 3, 7] }, STRETCH],
    ['sizes i32, stretch, axes', [5, 6, 7], [1], { sizes: [2], i32: true }, STRETCH],
    ['not_larger (node test of opset 18)', [1, 1, 4, 4], [2, 3], { sizes: [7, 8] }, NOT_LARGER],
    ['not_smaller (node test of opset 18)', [1, 1, 4, 4], [2, 3], { sizes: [7, 8] }, NOT_SMALLER],
    ['not_larger, a tie at .5 rounds up', [1, 3, 2, 6], [2, 3], { sizes: [5, 5] }, NOT_LARGER],
    ['not_smaller on i32 sizes', [1, 3, 10, 6], [1, 2, 3], { sizes: [3, 5, 9], i32: true }, NOT_SMALLER],
    ['no axes listed', [4, 4], [], { sizes: [] }, STRETCH],
  ];
  for (const [what, inLens, axes, src, policy] of cases) {
    it(what, () => {
      env.arena.reset();
      expect(run(env.k, env.arena, inLens, axes, src, policy)).to.deep.equal(reference(inLens, axes, src, policy));
    });
  }

  it('lengths that are no sizes are written so that the bound check refuses them', () => {
    env.arena.reset();
    const got = (src: Source) => run(env.k, env.arena, [8, 8, 8, 8], [0, 1, 2, 3], src, STRETCH).map((e) => e.out);
    expect(got({ scales: [-1, NaN, 1e12, 0] })).to.deep.equal([-8, -1, 2147483647, 0]);
    expect(got({ sizes: [-3, 2 ** 40, -(2 ** 40), 5] })).to.deep.equal([-3, 2147483647, -1, 5]);
  });
});

describeEachBuild('read_size', (env) => {
  it('reads an i64 or i32 into a slot, clamped into i32, writing nothing else', () => {
    env.arena.reset();
    const { arena, k } = env;
    const i64 = arena.putTyped(BigInt64Array.of(7n, -2n, 2n ** 40n, -(2n ** 40n)), 4);
    const i32s = arena.putI32([12, -5]);
    const read = (x: number, elemBytes: number) => {
      const slot = arena.out(1);
      call(k, 'read_size', { x, elemBytes, size: slot });
      const f = arena.f32(slot, 1 + TAIL);
      for (let t = 0; t < TAIL; t++) expect(f[1 + t], 'canary').to.equal(CANARY);
      return arena.i32(slot, 1)[0];
    };
    expect([0, 1, 2, 3].map((i) => read(i64 + 8 * i, 8))).to.deep.equal([7, -2, 2147483647, -2147483648]);
    expect([0, 1].map((i) => read(i32s + 4 * i, 4))).to.deep.equal([12, -5]);
  });
});
