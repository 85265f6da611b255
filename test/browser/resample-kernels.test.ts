// Resize / Upsample kernels of dist/kernels*.wasm (resize, resize_nearest) against double-precision
// references written from the ONNX spec and reference implementation (resample-refs.ts), on small odd shapes
// with canaries after every output and after the scratch (sized by resizeScratchBytes), then the Resize and
// Upsample node tests' own data. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { resizeScratchBytes } from '../../compiler/abi/resample.js';
import { call, CANARY, TAIL, mismatch, rng, type Arena, type KernelExports, type Ptr } from './kernel-harness.js';
import { describeEachBuild, expectFloats, loadNodeCases, prod, type NodeCase } from './resample-harness.js';
import { resizeRef, type CoordMode, type NearestMode, type ResizeOptions } from './resample-refs.js';

const COORDS: Record<CoordMode, number> = {
  half_pixel: CODES.COORD.HALF_PIXEL,
  asymmetric: CODES.COORD.ASYMMETRIC,
  pytorch_half_pixel: CODES.COORD.PYTORCH_HALF_PIXEL,
  tf_half_pixel_for_nearest: CODES.COORD.TF_HALF_PIXEL_FOR_NN,
  align_corners: CODES.COORD.ALIGN_CORNERS,
  tf_crop_and_resize: CODES.COORD.TF_CROP_AND_RESIZE,
  half_pixel_symmetric: CODES.COORD.HALF_PIXEL_SYMMETRIC,
};
const NEARESTS: Record<NearestMode, number> = {
  round_prefer_floor: CODES.NEAREST.ROUND_PREFER_FLOOR,
  round_prefer_ceil: CODES.NEAREST.ROUND_PREFER_CEIL,
  floor: CODES.NEAREST.FLOOR,
  ceil: CODES.NEAREST.CEIL,
  simple: CODES.NEAREST.SIMPLE,
};
const MODES = { nearest: CODES.RESIZE.NEAREST, linear: CODES.RESIZE.LINEAR, cubic: CODES.RESIZE.CUBIC };

/** The per-axis table: i32 in, i32 out, f32 scale (0: sizes given). */
function putTable(arena: Arena, inShape: number[], outShape: number[], scales: number[]): Ptr {
  const p = arena.alloc(3 * inShape.length);
  const i = arena.i32(p, 3 * inShape.length);
  const f = arena.f32(p, 3 * inShape.length);
  inShape.forEach((n, a) => {
    i[3 * a] = n;
    i[3 * a + 1] = outShape[a];
    f[3 * a + 2] = scales[a];
  });
  return p;
}

/** Scratch of exactly the documented size (misaligned by 4 bytes), canaries after it. */
function putScratch(arena: Arena, mode: number, outShape: number[]): { p: Ptr; check: (what: string) => void } {
  const floats = resizeScratchBytes(mode, outShape) / 4;
  const p = arena.out(floats, 4);
  return {
    p,
    check: (what) => {
      const tail = arena.f32(p + floats * 4, TAIL);
      for (let t = 0; t < TAIL; t++) if (tail[t] !== CANARY) expect.fail(`${what}: scratch overrun (${t})`);
    },
  };
}

interface ResizeCase {
  inShape: number[];
  outShape: number[];
  scales: number[];
  opts: ResizeOptions;
}

const describeCase = (c: ResizeCase) =>
  `${c.opts.mode}${c.opts.mode === 'nearest' ? `/${c.opts.nearest}` : c.opts.mode === 'cubic' ? `/A${c.opts.cubicA}` : ''}` +
  `${c.opts.excludeOutside ? '/excl' : ''} ${c.opts.coord} [${c.inShape}] -> [${c.outShape}] scales [${c.scales}]` +
  (c.opts.coord === 'tf_crop_and_resize' ? ` roi [${c.opts.roi.map((r) => r.toFixed(3))}]` : '');

let lastOutput: Ptr = 0;
/** Runs `resize` on one case and compares with the reference (the output stays at `lastOutput`). */
function checkResize(k: KernelExports, arena: Arena, c: ResizeCase, x: Float32Array, rtol: number, atol: number) {
  arena.reset();
  c = { ...c, opts: { ...c.opts, roi: c.opts.roi.map(Math.fround) } }; // the kernel reads float32
  const rank = c.inShape.length;
  const xPtr = arena.put(x, 4);
  const total = prod(c.outShape);
  const yPtr = arena.out(total, 8);
  lastOutput = yPtr;
  const mode = MODES[c.opts.mode];
  const scratch = putScratch(arena, mode, c.outShape);
  call(k, 'resize', {
    x: xPtr,
    y: yPtr,
    rank,
    table: putTable(arena, c.inShape, c.outShape, c.scales),
    roi: arena.put(c.opts.roi.length ? c.opts.roi : [0]),
    scratch: scratch.p,
    mode,
    coord: COORDS[c.opts.coord],
    nearest: NEARESTS[c.opts.nearest],
    cubicA: c.opts.cubicA,
    excludeOutside: c.opts.excludeOutside ? 1 : 0,
    extrapolation: c.opts.extrapolation,
  });
  const ref = resizeRef(x, c.inShape, c.outShape, c.scales, c.opts);
  expectFloats(arena, yPtr, ref, rtol, atol, describeCase(c));
  scratch.check(describeCase(c));
}

const SCALES = [0.5, 0.6, 0.75, 1, 4 / 3, 1.5, 2, 2.5, 3];

/** A random case: some axes resized (by a float32 scale or to a size), the others left alone. */
function randomCase(rand: () => number, opts: ResizeOptions, rank: number, resizeProb = 0.6): ResizeCase {
  const inShape: number[] = [],
    outShape: number[] = [],
    scales: number[] = [];
  for (let a = 0; a < rank; a++) {
    const n = 1 + Math.floor(rand() * 6);
    inShape.push(n);
    if (rand() > resizeProb) {
      outShape.push(n);
      scales.push(rand() < 0.5 ? 1 : 0);
    } else if (rand() < 0.5) {
      const s = Math.fround(SCALES[Math.floor(rand() * SCALES.length)]);
      const out = Math.floor(n * s);
      if (out < 1) {
        outShape.push(1);
        scales.push(0);
      } else {
        outShape.push(out);
        scales.push(s);
      }
    } else {
      outShape.push(1 + Math.floor(rand() * 9));
      scales.push(0);
    }
  }
  const roi: number[] = [];
  if (opts.coord === 'tf_crop_and_resize') {
    const starts = inShape.map(() => (rand() < 0.3 ? 0 : Math.fround(-0.3 + rand() * 0.8)));
    const ends = inShape.map(() => (rand() < 0.3 ? 1 : Math.fround(0.4 + rand() * 0.9)));
    roi.push(...starts, ...ends);
  }
  return { inShape, outShape, scales, opts: { ...opts, roi } };
}

const OPTION_SETS: Omit<ResizeOptions, 'coord' | 'roi'>[] = [
  ...(Object.keys(NEARESTS) as NearestMode[]).map((nearest) => ({
    mode: 'nearest' as const,
    nearest,
    cubicA: -0.75,
    excludeOutside: false,
    extrapolation: -3.5,
  })),
  { mode: 'linear', nearest: 'round_prefer_floor', cubicA: -0.75, excludeOutside: false, extrapolation: 7 },
  { mode: 'linear', nearest: 'round_prefer_floor', cubicA: -0.75, excludeOutside: true, extrapolation: 0 },
  { mode: 'cubic', nearest: 'round_prefer_floor', cubicA: -0.75, excludeOutside: false, extrapolation: 10 },
  { mode: 'cubic', nearest: 'round_prefer_floor', cubicA: -0.5, excludeOutside: true, extrapolation: 0 },
  { mode: 'cubic', nearest: 'round_prefer_floor', cubicA: -0.5, excludeOutside: false, extrapolation: -1 },
];

/** A Resize / Upsample node test as a kernel case: the attributes' codes, the table from scales or sizes. */
function resizeNodeCase(t: NodeCase): ResizeCase {
  const X = t.inputs[0]!;
  const out = t.outputs[0].shape;
  const attr = <T>(name: string, fallback: T): T => (t.attrs[name] as T) ?? fallback;
  // Upsample (≤ 9) and Resize-10: asymmetric, nearest_mode 'simple' (onnxruntime's rule for them).
  const old = t.op === 'Upsample' || t.opset <= 10;
  const scalesInput = t.op === 'Upsample' || t.opset <= 10 ? t.inputs[1] : t.inputs[2];
  const sizesInput = old ? null : (t.inputs[3] ?? null);
  const scales = sizesInput ? X.shape.map(() => 0) : scalesInput!.data;
  const roiInput = old ? null : t.inputs[1];
  return {
    inShape: X.shape,
    outShape: out,
    scales,
    opts: {
      mode: attr('mode', 'nearest') as ResizeOptions['mode'],
      coord: old ? 'asymmetric' : (attr('coordinate_transformation_mode', 'half_pixel') as CoordMode),
      nearest: old ? 'simple' : (attr('nearest_mode', 'round_prefer_floor') as NearestMode),
      cubicA: attr<number>('cubic_coeff_a', -0.75),
      excludeOutside: attr<number>('exclude_outside', 0) === 1,
      extrapolation: attr<number>('extrapolation_value', 0),
      roi: roiInput?.data.length ? roiInput.data : [],
    },
  };
}

describeEachBuild('resize kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;
  before(() => ({ k, arena } = env));

  it('resize: every mode × coordinate mode on 1×1, 1×N, up/down and non-integer scales (2-D)', () => {
    const rand = rng(101);
    const shapes: [number[], number[]][] = [
      [
        [1, 1],
        [1, 1],
      ],
      [
        [1, 1],
        [3, 5],
      ],
      [
        [1, 5],
        [1, 9],
      ],
      [
        [1, 7],
        [1, 3],
      ],
      [
        [5, 1],
        [2, 1],
      ],
      [
        [3, 5],
        [7, 2],
      ],
      [
        [4, 4],
        [3, 3],
      ],
      [
        [2, 3],
        [5, 11],
      ],
      [
        [6, 7],
        [4, 13],
      ],
    ];
    for (const base of OPTION_SETS) {
      for (const coord of Object.keys(COORDS) as CoordMode[]) {
        for (const [inShape, outShape] of shapes) {
          for (const bySizes of [true, false]) {
            const scales = bySizes ? [0, 0] : outShape.map((o, a) => Math.fround(o / inShape[a] + 0.01));
            const roi = coord === 'tf_crop_and_resize' ? [0.1, -0.2, 0.8, 1.1] : [];
            const c = { inShape, outShape, scales, opts: { ...base, coord, roi } };
            const x = Float32Array.from({ length: prod(inShape) }, () => rand() * 2 - 1);
            checkResize(k, arena, c, x, 1e-5, 1e-6);
          }
        }
      }
    }
  });

  it('resize: every mode × coordinate mode on random 1- to 5-D tensors (NCHW, NHWC-like, any axes)', () => {
    const rand = rng(102);
    for (const base of OPTION_SETS) {
      for (const coord of Object.keys(COORDS) as CoordMode[]) {
        for (let i = 0; i < 24; i++) {
          const rank = 1 + (i % 5);
          const c = randomCase(rand, { ...base, coord, roi: [] }, rank);
          const x = Float32Array.from({ length: prod(c.inShape) }, () => rand() * 2 - 1);
          checkResize(k, arena, c, x, 1e-5, 1e-6);
        }
      }
    }
  });

  it('resize: NCHW images, H and W resized (the row path), batches and channels', () => {
    const rand = rng(103);
    for (const base of OPTION_SETS) {
      for (const coord of ['half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'] as CoordMode[]) {
        for (const [H, W, OH, OW] of [
          [5, 7, 10, 14],
          [9, 11, 4, 5],
          [3, 4, 7, 17],
          [8, 8, 8, 3],
          [1, 9, 6, 9],
        ]) {
          const inShape = [2, 3, H, W],
            outShape = [2, 3, OH, OW];
          const roi = coord === 'tf_crop_and_resize' ? [0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2] : [];
          const c = { inShape, outShape, scales: [1, 1, 0, 0], opts: { ...base, coord, roi } };
          const x = Float32Array.from({ length: prod(inShape) }, () => rand() * 2 - 1);
          checkResize(k, arena, c, x, 1e-5, 1e-6);
        }
      }
    }
  });

  it('resize: the ONNX node tests (Resize, Upsample) give their expected outputs', async () => {
    const cases = (await loadNodeCases()).filter((t) => t.op === 'Resize' || t.op === 'Upsample');
    expect(cases.length, 'Resize/Upsample node tests').to.be.at.least(20);
    for (const t of cases) {
      const c = resizeNodeCase(t);
      const x = Float32Array.from(t.inputs[0]!.data);
      // Our reference agrees with ONNX's data, and the kernel with both.
      const ref = resizeRef(x, c.inShape, c.outShape, c.scales, { ...c.opts, roi: c.opts.roi.map(Math.fround) });
      const want = t.outputs[0].data;
      want.forEach((v, i) => {
        const m = mismatch(ref[i], v, 1e-5, 1e-6);
        if (m) expect.fail(`${t.name}: the reference [${i}]: ${m}`);
      });
      checkResize(k, arena, c, x, 1e-5, 1e-6);
      const got = arena.f32(lastOutput, want.length);
      want.forEach((v, i) => {
        const m = mismatch(got[i], v, 1e-5, 1e-6);
        if (m) expect.fail(`${t.name}[${i}]: ${m}`);
      });
    }
  });

  it('resize_nearest: 1-, 2-, 4- and 8-byte elements are copied from the inputs nearest_mode picks', () => {
    const rand = rng(105);
    for (const elemSize of [1, 2, 4, 8]) {
      for (const nearest of Object.keys(NEARESTS) as NearestMode[]) {
        for (const coord of Object.keys(COORDS) as CoordMode[]) {
          for (let i = 0; i < 6; i++) {
            const base = { ...OPTION_SETS[0], nearest, coord, roi: [], extrapolation: -1 };
            const c = randomCase(rand, base, 1 + (i % 4));
            c.opts.roi = c.opts.roi.map(Math.fround);
            const n = prod(c.inShape),
              total = prod(c.outShape);
            // Which input each output copies: the reference run on the input indices themselves.
            const source = resizeRef(
              Float64Array.from({ length: n }, (_, j) => j),
              c.inShape,
              c.outShape,
              c.scales,
              c.opts,
            );
            arena.reset();
            const bytes = Uint8Array.from({ length: n * elemSize }, () => Math.floor(rand() * 256));
            const xPtr = arena.alloc((n * elemSize) / 4 + 1, elemSize === 8 ? 0 : 1);
            new Uint8Array(k.memory.buffer, xPtr, bytes.length).set(bytes);
            const yPtr = arena.alloc((total * elemSize) / 4 + 1, elemSize === 1 ? 3 : 0);
            const canary = new Uint8Array(k.memory.buffer, yPtr, total * elemSize + 32);
            canary.fill(0xa5);
            const fill = arena.alloc(2);
            const fillBytes = Uint8Array.from({ length: elemSize }, (_, j) => 0x10 + j);
            new Uint8Array(k.memory.buffer, fill, elemSize).set(fillBytes);
            const scratch = putScratch(arena, CODES.RESIZE.NEAREST, c.outShape);
            call(k, 'resize_nearest', {
              x: xPtr,
              y: yPtr,
              rank: c.inShape.length,
              table: putTable(arena, c.inShape, c.outShape, c.scales),
              roi: arena.put(c.opts.roi.length ? c.opts.roi : [0]),
              scratch: scratch.p,
              coord: COORDS[coord],
              nearest: NEARESTS[nearest],
              elemSize,
              fill,
            });
            const got = new Uint8Array(k.memory.buffer, yPtr, total * elemSize + 32);
            const what = `${elemSize}-byte ${describeCase(c)}`;
            for (let o = 0; o < total; o++) {
              const from =
                source[o] === -1 ? fillBytes : bytes.subarray(source[o] * elemSize, (source[o] + 1) * elemSize);
              for (let b = 0; b < elemSize; b++) {
                if (got[o * elemSize + b] !== from[b]) expect.fail(`${what}: element ${o} byte ${b}`);
              }
            }
            for (let b = total * elemSize; b < got.length; b++)
              if (got[b] !== 0xa5) expect.fail(`${what}: wrote past the end`);
            scratch.check(what);
          }
        }
      }
    }
  });

  it('resize: an empty output (a length 0) writes nothing, with or without an empty input', () => {
    for (const [inShape, outShape] of [
      [
        [2, 3],
        [0, 5],
      ],
      [
        [0, 3],
        [0, 6],
      ],
      [
        [2, 0],
        [4, 0],
      ],
    ]) {
      for (const mode of Object.values(MODES)) {
        arena.reset();
        const y = arena.out(0);
        const scratch = putScratch(arena, mode, outShape);
        call(k, 'resize', {
          ...{ x: arena.put([1, 2, 3, 4, 5, 6]), y, rank: 2, roi: 0, scratch: scratch.p, mode },
          ...{ coord: 0, nearest: 0, cubicA: -0.75, excludeOutside: 0, extrapolation: 0 },
          table: putTable(arena, inShape, outShape, [0, 0]),
        });
        expectFloats(arena, y, [], 0, 0, `resize [${inShape}] -> [${outShape}]`);
      }
    }
  });

  it("resize: NaN and ±Inf propagate as in the reference's weighted sums (nearest copies its pick)", () => {
    const rand = rng(104);
    for (const base of OPTION_SETS) {
      for (const coord of ['half_pixel', 'align_corners', 'asymmetric'] as CoordMode[]) {
        for (let i = 0; i < 8; i++) {
          const c = randomCase(rand, { ...base, coord, roi: [] }, 2 + (i % 3), 0.8);
          const x = Float32Array.from({ length: prod(c.inShape) }, () => rand() * 2 - 1);
          x[Math.floor(rand() * x.length)] = NaN;
          x[Math.floor(rand() * x.length)] = rand() < 0.5 ? Infinity : -Infinity;
          checkResize(k, arena, c, x, 1e-5, 1e-6);
        }
      }
    }
  });
});
