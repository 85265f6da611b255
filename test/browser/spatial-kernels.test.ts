// GridSample, RoiAlign and MaxUnpool kernels of dist/kernels*.wasm (grid_sample, roi_align, max_unpool)
// against double-precision references written from ONNX's reference implementation (resample-refs.ts), with
// canaries after every output, then the node tests' own data. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { call, rng, type Arena, type KernelExports, type Ptr } from './kernel-harness.js';
import { describeEachBuild, expectFloats, loadNodeCases, prod, type NodeTensor } from './resample-harness.js';
import {
  gridSampleRef,
  maxUnpoolRef,
  roiAlignRef,
  type GridMode,
  type GridPadding,
  type RoiAlignOptions,
} from './resample-refs.js';

const GRID_MODES: Record<GridMode, number> = {
  bilinear: CODES.GRID.BILINEAR,
  nearest: CODES.GRID.NEAREST,
  bicubic: CODES.GRID.BICUBIC,
};
const GRID_PADS: Record<GridPadding, number> = {
  zeros: CODES.GRID_PAD.ZEROS,
  border: CODES.GRID_PAD.BORDER,
  reflection: CODES.GRID_PAD.REFLECTION,
};

describeEachBuild('spatial kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;
  before(() => ({ k, arena } = env));

  /** grid_sample on one case against the reference; returns the output pointer. */
  function checkGridSample(
    shape: number[],
    outHW: number[],
    x: ArrayLike<number>,
    grid: ArrayLike<number>,
    mode: GridMode,
    padding: GridPadding,
    align: boolean,
  ): Ptr {
    arena.reset();
    const [N, C, H, W] = shape,
      [OH, OW] = outHW;
    const xPtr = arena.put(x, 4);
    const gPtr = arena.put(grid);
    const yPtr = arena.out(N * C * OH * OW, 12);
    call(k, 'grid_sample', {
      x: xPtr,
      grid: gPtr,
      y: yPtr,
      N,
      C,
      H,
      W,
      OH,
      OW,
      mode: GRID_MODES[mode],
      padding: GRID_PADS[padding],
      alignCorners: align ? 1 : 0,
    });
    const ref = gridSampleRef(x, shape, grid, outHW, mode, padding, align);
    expectFloats(
      arena,
      yPtr,
      ref,
      1e-5,
      1e-6,
      `grid_sample ${mode} ${padding} align ${align} [${shape}] -> ${OH}x${OW}`,
    );
    return yPtr;
  }

  it('grid_sample: every mode × padding × align_corners, points inside, on and far outside the image', () => {
    const rand = rng(301);
    for (const mode of Object.keys(GRID_MODES) as GridMode[]) {
      for (const padding of Object.keys(GRID_PADS) as GridPadding[]) {
        for (const align of [false, true]) {
          for (let i = 0; i < 16; i++) {
            const shape = [
              1 + (i % 2),
              1 + Math.floor(rand() * 3),
              1 + Math.floor(rand() * 5),
              1 + Math.floor(rand() * 5),
            ];
            const outHW = [1 + Math.floor(rand() * 4), 1 + Math.floor(rand() * 5)];
            const x = Float32Array.from({ length: prod(shape) }, () => rand() * 2 - 1);
            const points = shape[0] * prod(outHW);
            // Mostly inside [-1, 1], some just outside, some far (reflected several times), some exact.
            const grid = Float32Array.from({ length: points * 2 }, () => {
              const r = rand();
              return r < 0.6
                ? rand() * 2 - 1
                : r < 0.8
                  ? rand() * 3 - 1.5
                  : r < 0.9
                    ? rand() * 16 - 8
                    : [-1, 0, 1][Math.floor(rand() * 3)];
            });
            checkGridSample(shape, outHW, x, grid, mode, padding, align);
          }
        }
      }
    }
  });

  it('grid_sample: the ONNX node tests give their expected outputs', async () => {
    const cases = (await loadNodeCases()).filter((t) => t.op === 'GridSample');
    expect(cases.length, 'GridSample node tests').to.equal(8);
    for (const t of cases) {
      const X = t.inputs[0]!,
        G = t.inputs[1]!;
      const mode = (t.attrs.mode ?? 'bilinear') as GridMode;
      const padding = (t.attrs.padding_mode ?? 'zeros') as GridPadding;
      const yPtr = checkGridSample(
        X.shape,
        G.shape.slice(1, 3),
        X.data,
        G.data,
        mode,
        padding,
        t.attrs.align_corners === 1,
      );
      // Their expected values are written to 4 decimals: ONNX's runner tolerance.
      expectFloats(arena, yPtr, t.outputs[0].data, 1e-3, 1e-7, t.name);
    }
  });

  /** roi_align on one case against the reference; returns the output pointer. */
  function checkRoiAlign(
    shape: number[],
    x: ArrayLike<number>,
    rois: ArrayLike<number>,
    batch: number[],
    o: RoiAlignOptions,
    what: string,
  ): Ptr {
    arena.reset();
    const [N, C, H, W] = shape;
    const R = batch.length;
    const xPtr = arena.put(x);
    const rPtr = arena.put(rois, 4);
    const bPtr = arena.alloc(2 * R + 2);
    new BigInt64Array(k.memory.buffer, bPtr, R).set(batch.map(BigInt));
    const yPtr = arena.out(R * C * o.OH * o.OW, 4);
    call(k, 'roi_align', {
      x: xPtr,
      rois: rPtr,
      batchIndices: bPtr,
      y: yPtr,
      N,
      C,
      H,
      W,
      R,
      OH: o.OH,
      OW: o.OW,
      samplingRatio: o.samplingRatio,
      spatialScale: o.spatialScale,
      halfPixel: o.halfPixel ? 1 : 0,
      maxMode: o.mode === 'max' ? 1 : 0,
    });
    const ref = roiAlignRef(x, shape, Float32Array.from(rois), batch, {
      ...o,
      spatialScale: Math.fround(o.spatialScale),
    });
    expectFloats(arena, yPtr, ref, 1e-4, 1e-5, what);
    return yPtr;
  }

  it('roi_align: avg and max, half_pixel and output_half_pixel, sampling ratios, scales, odd ROIs', () => {
    const rand = rng(401);
    for (const mode of ['avg', 'max'] as const) {
      for (const halfPixel of [false, true]) {
        for (const samplingRatio of [0, 1, 2, 3]) {
          for (let i = 0; i < 10; i++) {
            const shape = [
              1 + Math.floor(rand() * 2),
              1 + Math.floor(rand() * 3),
              1 + Math.floor(rand() * 9),
              1 + Math.floor(rand() * 9),
            ];
            const spatialScale = [1, 0.5, 0.25, 1 / 3][i % 4];
            const R = 1 + Math.floor(rand() * 4);
            const size = Math.max(shape[2], shape[3]) / spatialScale;
            // Boxes inside, partly or wholly outside, degenerate (zero size) and reversed.
            const rois = Float32Array.from({ length: 4 * R }, (_, j) =>
              j % 4 === 2 && rand() < 0.1 ? 0 : -0.3 * size + rand() * 1.6 * size,
            );
            const batch = Array.from({ length: R }, () => (rand() < 0.1 ? shape[0] : Math.floor(rand() * shape[0])));
            const o = {
              OH: 1 + Math.floor(rand() * 4),
              OW: 1 + Math.floor(rand() * 4),
              samplingRatio,
              spatialScale,
              halfPixel,
              mode,
            };
            const x = Float32Array.from({ length: prod(shape) }, () => rand() * 2 - 1);
            checkRoiAlign(
              shape,
              x,
              rois,
              batch,
              o,
              `roi_align ${mode} halfPixel ${halfPixel} ratio ${samplingRatio} scale ${spatialScale} [${shape}]`,
            );
          }
        }
      }
    }
  });

  it('roi_align: the ONNX node tests give their expected outputs', async () => {
    const cases = (await loadNodeCases()).filter((t) => t.op === 'RoiAlign');
    expect(cases.length, 'RoiAlign node tests').to.equal(2);
    for (const t of cases) {
      const [X, rois, batch] = t.inputs as NodeTensor[];
      const o: RoiAlignOptions = {
        OH: t.attrs.output_height as number,
        OW: t.attrs.output_width as number,
        samplingRatio: t.attrs.sampling_ratio as number,
        spatialScale: t.attrs.spatial_scale as number,
        halfPixel: (t.attrs.coordinate_transformation_mode ?? 'half_pixel') === 'half_pixel',
        mode: (t.attrs.mode ?? 'avg') as 'avg' | 'max',
      };
      const yPtr = checkRoiAlign(X.shape, X.data, rois.data, batch.data, o, t.name);
      expectFloats(arena, yPtr, t.outputs[0].data, 1e-3, 1e-7, t.name);
    }
  });

  /** max_unpool with table [R, inferred…, output…] against the reference; returns the output pointer. */
  function checkMaxUnpool(
    x: ArrayLike<number>,
    indices: number[],
    inferred: number[],
    output: number[],
    what: string,
  ): Ptr {
    arena.reset();
    const xPtr = arena.put(x, 4);
    const iPtr = arena.alloc(2 * indices.length + 2);
    new BigInt64Array(k.memory.buffer, iPtr, indices.length).set(indices.map(BigInt));
    const yPtr = arena.out(prod(output), 8);
    arena.f32(yPtr, prod(output)).fill(NaN); // the kernel zeroes it
    call(k, 'max_unpool', {
      x: xPtr,
      indices: iPtr,
      y: yPtr,
      n: x.length,
      table: arena.putI32([inferred.length, ...inferred, ...output]),
    });
    expectFloats(arena, yPtr, maxUnpoolRef(x, indices, inferred, output), 0, 0, what);
    return yPtr;
  }

  it('max_unpool: MaxPool indices back into the inferred shape, output_shape larger, repeats and bad indices', async () => {
    const rand = rng(501);
    for (let i = 0; i < 40; i++) {
      const [N, C] = [1 + Math.floor(rand() * 2), 1 + Math.floor(rand() * 3)];
      const spatial = Array.from({ length: 1 + (i % 3) }, () => 2 + Math.floor(rand() * 5));
      const kernel = spatial.map(() => 1 + Math.floor(rand() * 2));
      const strides = kernel.map((kk) => kk + Math.floor(rand() * 2));
      // A MaxPool (no padding) of random data with its flat indices: the input MaxUnpool gets.
      const inferredSpatial = spatial.map((n, d) => n - ((n - kernel[d]) % strides[d]));
      const pooled = inferredSpatial.map((n, d) => Math.floor((n - kernel[d]) / strides[d]) + 1);
      const inferred = [N, C, ...inferredSpatial.map((_, d) => (pooled[d] - 1) * strides[d] + kernel[d])];
      const data = Float32Array.from({ length: prod(inferred) }, () => rand() * 2 - 1);
      const xs: number[] = [],
        idx: number[] = [];
      const outShape = [N, C, ...pooled];
      for (let o = 0; o < prod(outShape); o++) {
        let rem = o;
        const coord = outShape.map(() => 0);
        for (let d = outShape.length - 1; d >= 0; d--) {
          coord[d] = rem % outShape[d];
          rem = Math.floor(rem / outShape[d]);
        }
        let best = -Infinity,
          at = -1;
        for (let w = 0; w < prod(kernel); w++) {
          let wr = w,
            flat = 0;
          const pos = coord.slice();
          for (let d = kernel.length - 1; d >= 0; d--) {
            pos[d + 2] = coord[d + 2] * strides[d] + (wr % kernel[d]);
            wr = Math.floor(wr / kernel[d]);
          }
          for (let d = 0; d < inferred.length; d++) flat = flat * inferred[d] + pos[d];
          if (data[flat] > best) [best, at] = [data[flat], flat];
        }
        xs.push(best);
        idx.push(at);
      }
      if (i % 4 === 1) idx[0] = idx[idx.length - 1]; // a repeated index: the later value stays
      if (i % 4 === 2) idx[0] = prod(inferred) + 3; // out of range: skipped
      if (i % 4 === 3) idx[idx.length - 1] = -1;
      // output_shape: the inferred one, larger (the unpooled values at the start of each axis), or — not
      // valid ONNX, but it must not write out of bounds — smaller (what falls outside is dropped).
      const change = () => (i % 5 === 0 ? -1 : i % 2 ? Math.floor(rand() * 3) : 0);
      const output = inferred.map((d, a) => (a < 2 ? d : Math.max(1, d + change())));
      checkMaxUnpool(xs, idx, inferred, output, `max_unpool [${inferred}] -> [${output}]`);
    }
    const cases = (await loadNodeCases()).filter((t) => t.op === 'MaxUnpool');
    expect(cases.length, 'MaxUnpool node tests').to.equal(1);
    for (const t of cases) {
      const [X, I] = t.inputs as NodeTensor[];
      const out = t.outputs[0].shape;
      const yPtr = checkMaxUnpool(X.data, I.data, out, out, t.name);
      expectFloats(arena, yPtr, t.outputs[0].data, 0, 0, t.name);
    }
  });

  it('first_index_outside: the first i64 outside [lo, hi), or -1; beyond-i32 values, empty, misaligned', () => {
    const first = (values: bigint[], lo: number, hi: number, misalign = 0): number => {
      arena.reset();
      const p = arena.putTyped(BigInt64Array.from(values), misalign);
      const before = arena.view(BigInt64Array, p, values.length).slice();
      const got = call(k, 'first_index_outside', { x: p, n: values.length, lo, hi });
      expect(Array.from(arena.view(BigInt64Array, p, values.length)), 'x is only read').to.deep.equal(
        Array.from(before),
      );
      return got;
    };
    expect(first([0n, 1n, 2n, 3n], 0, 4)).to.equal(-1);
    expect(first([], 0, 4)).to.equal(-1);
    expect(first([], 0, 0)).to.equal(-1);
    expect(first([0n], 0, 0), 'nothing is inside an empty range').to.equal(0);
    expect(first([3n, 4n, 9n], 0, 4), 'hi itself is outside').to.equal(1);
    expect(first([2n, 0n, -1n, 7n], 0, 4), 'negative').to.equal(2);
    expect(first([5n, 6n, 4n], 5, 7), 'lo above 0').to.equal(2);
    // Values that wrap to an in-range i32 must still be outside: 2^32 + 1 is not 1.
    expect(first([1n, (1n << 32n) + 1n], 0, 4)).to.equal(1);
    expect(first([1n, -(1n << 63n)], 0, 4)).to.equal(1);
    expect(first([1n, (1n << 63n) - 1n], 0, 4)).to.equal(1);
    // Long vectors, misaligned by 8 bytes, the bad entry at each end and in the middle.
    for (const at of [0, 1, 499, 998, 999]) {
      const v = Array.from({ length: 1000 }, (_, i) => BigInt(i % 7));
      v[at] = 7n;
      expect(first(v, 0, 7, 8), `bad at ${at}`).to.equal(at);
    }
  });
});
