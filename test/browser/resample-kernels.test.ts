// Resampling kernels of dist/kernels*.wasm (Resize/Upsample, GridSample, RoiAlign, MaxUnpool, and the
// strided copies DepthToSpace / SpaceToDepth / Tile reduce to) against double-precision references written
// from the ONNX spec and reference implementation (resample-refs.ts), on small odd shapes with canaries
// after every output and after the scratch; then the ONNX node tests' own data (resample-node-cases.json,
// written from test/fixtures/onnx-node/ by resample-node-cases.mjs). Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { resizeScratchBytes } from '../../compiler/abi/resample.js';
import {
  Arena,
  call,
  CANARY,
  TAIL,
  loadKernels,
  mismatch,
  rng,
  type KernelExports,
  type Ptr,
} from './kernel-harness.js';
import { resizeRef, type CoordMode, type NearestMode, type ResizeOptions } from './resample-refs.js';

const BUILDS = [
  { name: 'simd', url: '/dist/kernels.wasm' },
  { name: 'relaxed-simd', url: '/dist/kernels-relaxed.wasm' },
];

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

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Compares n outputs with the reference and checks the canaries after them. */
export function expectFloats(arena: Arena, p: Ptr, ref: ArrayLike<number>, rtol: number, atol: number, what: string) {
  const got = arena.f32(p, ref.length + TAIL);
  for (let i = 0; i < ref.length; i++) {
    const m = mismatch(got[i], ref[i], rtol, atol);
    if (m) expect.fail(`${what}[${i}]: ${m}`);
  }
  for (let t = 0; t < TAIL; t++) if (got[ref.length + t] !== CANARY) expect.fail(`${what}: wrote past the end (${t})`);
}

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

interface NodeTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: number[];
}
interface NodeCase {
  name: string;
  op: string;
  opset: number;
  attrs: Record<string, number | string | number[]>;
  inputs: (NodeTensor | null)[];
  outputs: NodeTensor[];
}
let nodeCases: Promise<NodeCase[]> | null = null;
/** The ONNX node tests' data (resample-node-cases.json). */
function loadNodeCases(): Promise<NodeCase[]> {
  nodeCases ??= fetch('/test/browser/resample-node-cases.json').then((r) => {
    expect(r.ok, 'resample-node-cases.json').to.equal(true);
    return r.json() as Promise<NodeCase[]>;
  });
  return nodeCases;
}

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
      cubicA: attr('cubic_coeff_a', -0.75),
      excludeOutside: attr('exclude_outside', 0) === 1,
      extrapolation: attr('extrapolation_value', 0),
      roi: roiInput?.data.length ? roiInput.data : [],
    },
  };
}

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

for (const build of BUILDS) {
  describe(`resample kernels (${build.name})`, function () {
    this.timeout(180000);
    let k: KernelExports;
    let arena: Arena;

    before(async function () {
      const loaded = await loadKernels(build.url);
      if (!loaded) {
        expect(build.name, 'the SIMD build must validate').to.equal('relaxed-simd');
        this.skip();
        return;
      }
      k = loaded;
      arena = new Arena(k);
    });

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

    /** strided_copy_sized of elements of es bytes; checks y against x at `sources` byte for byte. */
    function checkStridedSized(
      es: number,
      n: number,
      dims: number[],
      strides: number[],
      sources: number[],
      what: string,
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
      if (es === 4 && rand() < 0.5) call(k, 'strided_copy', { x: xPtr, y: yPtr, rows: dims[0], table });
      else call(k, 'strided_copy_sized', { x: xPtr, y: yPtr, rows: dims[0], table, elemSize: es });
      const got = new Uint8Array(k.memory.buffer, yPtr, total * es + 32);
      for (let o = 0; o < total; o++) {
        for (let b = 0; b < es; b++) {
          if (got[o * es + b] !== bytes[sources[o] * es + b]) expect.fail(`${what} (${es} B): element ${o} byte ${b}`);
        }
      }
      for (let b = total * es; b < got.length; b++) if (got[b] !== 0x5a) expect.fail(`${what} (${es} B): past the end`);
    }

    it('strided_copy_sized: 1-, 2-, 4- and 8-byte elements through permutations, steps and broadcasts', () => {
      const rand = rng(201);
      for (const es of [1, 2, 4, 8]) {
        for (let i = 0; i < 60; i++) {
          const R = 1 + Math.floor(rand() * 9); // beyond 7 outer dims: the index-decomposition path
          const dims = Array.from({ length: R }, () => 1 + Math.floor(rand() * (R > 6 ? 2 : 5)));
          // A view of a larger buffer: per dim a stride of 0 (broadcast), a step, or a permutation's.
          const strides = dims.map(() => [0, 1, 2, 3, 7, 11][Math.floor(rand() * 6)]);
          if (i % 3 === 0) strides.forEach((_, a) => (strides[a] = prod(dims.slice(a + 1)))); // contiguous: one run
          const n = 1 + dims.reduce((s, d, a) => s + (d - 1) * strides[a], 0);
          checkStridedSized(es, n, dims, strides, viewSources(dims, strides), `view [${dims}] strides [${strides}]`);
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

    it('resize: NaN and ±Inf reach the outputs that weigh them, and no others', () => {
      const rand = rng(104);
      for (const base of OPTION_SETS) {
        for (const coord of ['half_pixel', 'align_corners', 'asymmetric'] as CoordMode[]) {
          for (let i = 0; i < 8; i++) {
            const c = randomCase(rand, { ...base, coord, roi: [] }, 2 + (i % 3), 0.8);
            const x = Float32Array.from({ length: prod(c.inShape) }, () => rand() * 2 - 1);
            x[Math.floor(rand() * x.length)] = NaN;
            if (base.mode === 'nearest') x[Math.floor(rand() * x.length)] = rand() < 0.5 ? Infinity : -Infinity;
            checkResize(k, arena, c, x, 1e-5, 1e-6);
          }
        }
      }
    });
  });
}
