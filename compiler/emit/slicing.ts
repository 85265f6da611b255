/**
 * How a kernel call splits into slices that threads run at once (compiler/emit/threads.ts emits them).
 *
 * A rule says how many independent units a call's work is made of (rows of an output image, 4-row blocks
 * or 8-column panels of a GEMM, 16-element runs of an elementwise op, rows of a batch), roughly how much
 * work it is, and the arguments of the call that does units [lo, hi): pointers moved to the slice's
 * first unit, counts cut to its length, a padding offset shifted so the slice's first output row sees
 * the input rows it saw before. Every slice writes a disjoint part of the output and computes each output
 * element with exactly the arithmetic of the whole call, so threaded results are bit-identical (the GEMM
 * sums each element in k order whatever tile computes it; pooling and convolutions per output pixel;
 * trees per row). Kernels without a rule run whole, on one thread.
 *
 * Rules are written once over `Ints`, an integer algebra: emitted as wasm code they evaluate a call's
 * actual sizes (threads.ts), evaluated at the symbols' bounds they give the model's work estimate (meta).
 */
import { KERNELS, type KernelName } from '../abi/kernels.js';

/** Integer expressions (non-negative operands): wasm code per call, or numbers at the bounds. */
export interface Ints<T> {
  /** The call's argument by parameter name (a size, or a byte address). */
  arg(name: string): T;
  c(n: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  /** Floor division. */
  div(a: T, b: T): T;
  min(a: T, b: T): T;
  max(a: T, b: T): T;
  /** 1 if a ≥ b, else 0. */
  ge(a: T, b: T): T;
  /** cond ≠ 0 ? a : b (both are evaluated). */
  select(cond: T, a: T, b: T): T;
}

export interface SliceRule {
  /** Independent units of work the call is made of (≥ 1 when there is work). */
  units<T>(o: Ints<T>): T;
  /** The call's work, in multiply-adds or their equivalent (what is worth a barrier). */
  work<T>(o: Ints<T>): T;
  /** Arguments that differ for the call that does units [lo, hi) (others are the whole call's). */
  slice<T>(o: Ints<T>, lo: T, hi: T): Record<string, T>;
}

const F32 = 4;
const ceilDiv = <T>(o: Ints<T>, a: T, n: number): T => o.div(o.add(a, o.c(n - 1)), o.c(n));
/** `ptr` advanced by `elements` floats. */
const at = <T>(o: Ints<T>, ptr: string, elements: T): T => o.add(o.arg(ptr), o.mul(elements, o.c(F32)));
/** An optional pointer (0 = none) advanced like `at`. */
const atOptional = <T>(o: Ints<T>, ptr: string, elements: T): T => o.select(o.arg(ptr), at(o, ptr, elements), o.c(0));
const prod = <T>(o: Ints<T>, ...names: string[]): T => names.map((n) => o.arg(n)).reduce((p, v) => o.mul(p, v));

/**
 * A kernel over `count` independent rows: each pointer moves by its row of `per` elements (the product
 * of those arguments) of `bytes` each (floats unless said).
 */
function rows(
  count: string,
  pointers: [ptr: string, per: string[], bytes?: number][],
  cost: string[],
  factor = 1,
): SliceRule {
  return {
    units: (o) => o.arg(count),
    work: (o) => o.mul(prod(o, count, ...cost), o.c(factor)),
    slice: (o, lo, hi) => ({
      [count]: o.sub(hi, lo),
      ...Object.fromEntries(
        pointers.map(([ptr, per, bytes = F32]) => [
          ptr,
          o.add(o.arg(ptr), o.mul(o.mul(lo, prod(o, ...per)), o.c(bytes))),
        ]),
      ),
    }),
  };
}

/**
 * A kernel over NHWC images [images, H, W, C] → [images, OH, OW, C·outC]: by output rows of one image
 * (the padding offset PT shifts with the slice, so each output row reads the input rows it did), or by
 * whole images when there are several. `y` advances by `yPixel` floats per output pixel.
 */
function imageRows(y: string, yPixel: <T>(o: Ints<T>) => T, cost: string[]): SliceRule {
  const byImages = <T>(o: Ints<T>) => o.ge(o.arg('images'), o.c(2));
  return {
    units: (o) => o.select(byImages(o), o.arg('images'), o.arg('OH')),
    work: (o) => prod(o, 'images', 'OH', 'OW', ...cost),
    slice: <T>(o: Ints<T>, lo: T, hi: T) => {
      const images = byImages(o);
      const yRow = o.mul(o.arg('OW'), yPixel(o));
      return {
        x: o.select(images, at(o, 'x', o.mul(lo, prod(o, 'H', 'W', 'C'))), o.arg('x')),
        [y]: at(o, y, o.mul(lo, o.select(images, o.mul(o.arg('OH'), yRow), yRow))),
        images: o.select(images, o.sub(hi, lo), o.arg('images')),
        OH: o.select(images, o.arg('OH'), o.sub(hi, lo)),
        PT: o.select(images, o.arg('PT'), o.sub(o.arg('PT'), o.mul(lo, o.arg('SH')))),
      };
    },
  };
}

/**
 * GEMM: 4-row blocks (the SIMD build's register tile) or 8-column panels (the packed weights), whichever are
 * more. The relaxed build's 6-row tiles leave at most one 4-row tile at a slice's end; each element's sum
 * never depends on its tile, so slices stay bit-identical to one call.
 */
const GEMM: SliceRule = {
  units: (o) => o.max(ceilDiv(o, o.arg('M'), 4), ceilDiv(o, o.arg('N'), 8)),
  work: (o) => prod(o, 'M', 'N', 'K'),
  slice: (o, lo, hi) => {
    const byRows = o.ge(ceilDiv(o, o.arg('M'), 4), ceilDiv(o, o.arg('N'), 8));
    const r0 = o.mul(lo, o.c(4));
    const c0 = o.mul(lo, o.c(8));
    return {
      a: o.select(byRows, at(o, 'a', o.mul(r0, o.arg('lda'))), o.arg('a')),
      c: at(o, 'c', o.select(byRows, o.mul(r0, o.arg('ldc')), c0)),
      M: o.select(byRows, o.sub(o.min(o.arg('M'), o.mul(hi, o.c(4))), r0), o.arg('M')),
      w: o.select(byRows, o.arg('w'), at(o, 'w', o.mul(c0, o.arg('K')))),
      bias: o.select(byRows, o.arg('bias'), atOptional(o, 'bias', c0)),
      N: o.select(byRows, o.arg('N'), o.sub(o.min(o.arg('N'), o.mul(hi, o.c(8))), c0)),
    };
  },
};

/** Batched MatMul: by batches (whole periods of B when B repeats), or by rows of a single product. */
const periodic = <T>(o: Ints<T>) => o.ge(o.arg('bPeriod'), o.c(1));
const MATMUL: SliceRule = {
  units: (o) =>
    o.select(
      o.ge(o.arg('batches'), o.c(2)),
      o.select(periodic(o), ceilDiv2(o, o.arg('batches'), o.arg('bPeriod')), o.arg('batches')),
      o.arg('M'),
    ),
  work: (o) => prod(o, 'batches', 'M', 'N', 'K'),
  slice: (o, lo, hi) => {
    const byBatch = o.ge(o.arg('batches'), o.c(2));
    // Whole periods, so batch b of the slice still uses B[(b0 + b) mod bPeriod] = B[b mod bPeriod].
    const per = o.select(periodic(o), o.arg('bPeriod'), o.c(1));
    const b0 = o.mul(lo, per);
    const b1 = o.min(o.arg('batches'), o.mul(hi, per));
    return {
      a: at(o, 'a', o.select(byBatch, o.mul(b0, prod(o, 'M', 'K')), o.mul(lo, o.arg('K')))),
      b: o.select(o.sub(byBatch, o.mul(byBatch, periodic(o))), at(o, 'b', o.mul(b0, prod(o, 'K', 'N'))), o.arg('b')),
      c: at(o, 'c', o.select(byBatch, o.mul(b0, prod(o, 'M', 'N')), o.mul(lo, o.arg('N')))),
      batches: o.select(byBatch, o.sub(b1, b0), o.arg('batches')),
      M: o.select(byBatch, o.arg('M'), o.sub(hi, lo)),
    };
  },
};

function ceilDiv2<T>(o: Ints<T>, a: T, b: T): T {
  return o.div(o.sub(o.add(a, b), o.c(1)), b);
}

/** Elementwise over n floats: runs of 16 (whole cache lines, whole SIMD vectors). */
function elementwise(cost: number): SliceRule {
  return {
    units: (o) => ceilDiv(o, o.arg('n'), 16),
    work: (o) => o.mul(o.arg('n'), o.c(cost)),
    slice: (o, lo, hi) => {
      const e0 = o.mul(lo, o.c(16));
      return { x: at(o, 'x', e0), y: at(o, 'y', e0), n: o.sub(o.min(o.arg('n'), o.mul(hi, o.c(16))), e0) };
    },
  };
}

/** Unary kernels whose work per element is a few instructions; the others cost like a transcendental. */
const CHEAP_UNARY = new Set(['relu', 'leaky_relu', 'neg', 'abs', 'clip', 'hard_sigmoid', 'hard_swish', 'sign']);
const CHEAP_UNARY_COST = 1;
const TRANSCENDENTAL_COST = 16;

const RULES: Partial<Record<KernelName, SliceRule>> = {
  gemm: GEMM,
  matmul: MATMUL,
  im2col: imageRows('col', (o) => o.mul(o.mul(o.arg('KH'), o.arg('KW')), o.arg('cn')), ['KH', 'KW', 'cn']),
  conv_depthwise: imageRows('y', (o) => o.arg('C'), ['C', 'KH', 'KW']),
  maxpool: imageRows('y', (o) => o.arg('C'), ['C', 'KH', 'KW']),
  avgpool: imageRows('y', (o) => o.arg('C'), ['C', 'KH', 'KW']),
  global_avgpool: rows(
    'images',
    [
      ['x', ['HW', 'C']],
      ['y', ['C']],
    ],
    ['HW', 'C'],
  ),
  global_maxpool: rows(
    'images',
    [
      ['x', ['HW', 'C']],
      ['y', ['C']],
    ],
    ['HW', 'C'],
  ),
  tree_accumulate: rows(
    'rows',
    [
      ['x', ['F']],
      ['acc', ['nOut']],
      ['has', ['nOut']],
    ],
    ['nTrees'],
    8,
  ),
  // Kernel values are doubles: out [rows, V] f64.
  svm_kernel: rows(
    'rows',
    [
      ['x', ['F']],
      ['out', ['V'], 8],
    ],
    ['V', 'F'],
  ),
  squared_distances: rows(
    'rows',
    [
      ['x', ['F']],
      ['y', ['M']],
    ],
    ['F', 'M'],
  ),
  softmax: rows(
    'outer',
    [
      ['x', ['axis', 'inner']],
      ['y', ['axis', 'inner']],
    ],
    ['axis', 'inner'],
    8,
  ),
  log_softmax: rows(
    'outer',
    [
      ['x', ['axis', 'inner']],
      ['y', ['axis', 'inner']],
    ],
    ['axis', 'inner'],
    8,
  ),
  layer_norm: rows(
    'rows',
    [
      ['x', ['D']],
      ['y', ['D']],
    ],
    ['D'],
    4,
  ),
  copy_blocks: rows(
    'count',
    [
      ['x', ['srcStride']],
      ['y', ['dstStride']],
    ],
    ['chunk'],
  ),
};

/** The rule that splits calls of `kernel`, if it has one. */
export function sliceRule(kernel: KernelName): SliceRule | undefined {
  const rule = RULES[kernel];
  if (rule) return rule;
  const spec = KERNELS[kernel] as { family?: string };
  if (spec.family !== 'unary') return undefined;
  const op = kernel.slice('unary_'.length);
  return elementwise(CHEAP_UNARY.has(op) ? CHEAP_UNARY_COST : TRANSCENDENTAL_COST);
}
