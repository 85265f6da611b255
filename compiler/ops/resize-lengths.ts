import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, data, i32, slot, type PtrArg, type RtValue } from '../program.js';
import { floorDiv, isConst, mul, type Size } from '../shape/size.js';

/**
 * The lengths of a Resize (and Upsample): per axis the input length, the output length and the scale the
 * kernel table carries (compiler/abi/resample.ts). Output lengths are sizes wherever the compiler can
 * follow them (constant scales that are whole multiples or divisors, sizes from constants or shapes); the
 * rest are computed sizes the model works out per call (`resize_table` from the scales or sizes in memory,
 * `read_size` into each length's slot), bounded by what gives them or, when nothing does (data), by the
 * default bound: a call that asks for more is refused, never overrun.
 */

/** What the node gives for its `axes`: scales or sizes, known at compile time (up to symbols) or in memory. */
export type Given =
  | { what: 'scales'; values: number[] }
  | { what: 'sizes'; values: Size[] }
  | { what: 'scales' | 'sizes'; value: RtValue };

export interface ResizeLengths {
  /** Output dims, logical order. */
  outDims: Size[];
  /** The kernel table in memory order, and the run-time values it is computed from. */
  table: PtrArg;
  reads: RtValue[];
}

/** keep_aspect_ratio_policy codes by name. */
export const ASPECT: Record<string, number> = {
  stretch: CODES.ASPECT.STRETCH,
  not_larger: CODES.ASPECT.NOT_LARGER,
  not_smaller: CODES.ASPECT.NOT_SMALLER,
};

const f32Bits = (v: number): number => new Int32Array(Float32Array.of(v).buffer)[0];

/**
 * ⌊n·s⌋ as a size the compiler can follow (n a size, s a float32 scale), or undefined. The product is a
 * float32 one, as onnxruntime computes it (ONNX's reference multiplies in double: 5 × 1.8f is 9 in float32
 * but 8.99999976 in double); whole and power-of-two scales are exact either way.
 */
export function scaledLength(n: Size, s: number): Size | undefined {
  if (isConst(n)) return Math.floor(Math.fround(Math.fround(n) * s));
  if (s === 1) return n;
  if (Number.isInteger(s)) return mul(n, s);
  const k = 1 / s;
  if (Number.isInteger(k) && k * s === 1) return floorDiv(n, k); // 0.5, 0.25: exact reciprocals
  return undefined;
}

/**
 * The output lengths and kernel table of a Resize of `inDims` (logical order) held in memory order `perm`
 * (physical axis p holds logical axis perm[p]), given `given` for the logical `axes`.
 */
export function resizeLengths(
  ctx: NodeContext,
  inDims: Size[],
  perm: number[],
  axes: number[],
  given: Given,
  policy: number,
): ResizeLengths {
  const outDims = [...inDims];
  const scales: number[] = inDims.map(() => 1);

  if ('values' in given) {
    if (given.what === 'scales') {
      const values = given.values as number[];
      values.forEach((s, i) => {
        if (!(s > 0)) throw new NodeProblem(`scales[${i}] is ${s}; every scale must be above 0`, 'invalid-graph');
      });
      const lengths = axes.map((a, i) => scaledLength(inDims[a], values[i]));
      if (lengths.every((n) => n !== undefined)) {
        axes.forEach((a, i) => ((outDims[a] = lengths[i]!), (scales[a] = values[i])));
        return { outDims, ...staticTable(ctx, inDims, outDims, scales, perm) };
      }
      // A scale the compiler cannot follow on a symbolic length: computed per call, at most ⌊bound·s⌋.
      const bounds = axes.map((a, i) => Math.floor(Math.fround(ctx.symbols.upper(inDims[a]) * values[i])));
      return computedTable(ctx, inDims, perm, axes, bounds, lengths, {
        src: data(ctx.program.addFloats(Float32Array.from(values))),
        kind: CODES.RESIZE_SRC.SCALES,
        policy,
        reads: [],
      });
    }
    const sizes = given.values;
    sizes.forEach((n, i) => {
      if (isConst(n) && n < 0) throw new NodeProblem(`sizes[${i}] is ${n}; a size cannot be negative`, 'invalid-graph');
    });
    if (policy === CODES.ASPECT.STRETCH) {
      axes.forEach((a, i) => ((outDims[a] = sizes[i]), (scales[a] = 0)));
      return { outDims, ...staticTable(ctx, inDims, outDims, scales, perm) };
    }
    const known = [...sizes, ...axes.map((a) => inDims[a])];
    if (known.every(isConst)) {
      // keep_aspect_ratio_policy on known lengths: folded as ONNX's reference computes it.
      const ratios = axes.map((a, i) => (sizes[i] as number) / (inDims[a] as number));
      const common = policy === CODES.ASPECT.NOT_LARGER ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => ((outDims[a] = Math.floor(common * (inDims[a] as number) + 0.5)), (scales[a] = common)));
      return { outDims, ...staticTable(ctx, inDims, outDims, scales, perm) };
    }
    // not_larger never exceeds the size asked for; not_smaller has no bound of its own.
    const bounds = axes.map((_, i) => (policy === CODES.ASPECT.NOT_LARGER ? ctx.symbols.upper(sizes[i]) : Infinity));
    return computedTable(ctx, inDims, perm, axes, bounds, [], {
      src: ctx.program.addTable(sizes),
      kind: CODES.RESIZE_SRC.SIZES_I32,
      policy,
      reads: [],
    });
  }

  const v = given.value;
  if (given.what === 'sizes' && policy === CODES.ASPECT.STRETCH) {
    // Sizes in memory: each read into its length's slot.
    axes.forEach((a, i) => {
      const n = ctx.symbols.computed(lengthName(ctx, a), Infinity);
      ctx.program.addStep('read_size', () => ({ x: buf(v, 8 * i), elemBytes: i32(8), size: slot(n) }), [v], []);
      outDims[a] = n;
      scales[a] = 0;
    });
    return { outDims, ...staticTable(ctx, inDims, outDims, scales, perm) };
  }
  return computedTable(
    ctx,
    inDims,
    perm,
    axes,
    axes.map(() => Infinity),
    [],
    {
      src: buf(v),
      kind: given.what === 'scales' ? CODES.RESIZE_SRC.SCALES : CODES.RESIZE_SRC.SIZES_I64,
      policy,
      reads: [v],
    },
  );
}

/** The table as i32 sizes (the scales as their float32 bits): constant, or written before the call. */
function staticTable(
  ctx: NodeContext,
  ins: Size[],
  outs: Size[],
  scales: number[],
  perm: number[],
): { table: PtrArg; reads: RtValue[] } {
  return { table: ctx.program.addTable(perm.flatMap((a) => [ins[a], outs[a], f32Bits(scales[a])])), reads: [] };
}

interface TableSource {
  src: PtrArg;
  kind: number;
  policy: number;
  reads: RtValue[];
}

/**
 * resize_table writes the table per call; each listed axis's output length is read into its slot, but for
 * those `known` gives (the kernel computes the same length there).
 */
function computedTable(
  ctx: NodeContext,
  ins: Size[],
  perm: number[],
  axes: number[],
  bounds: number[],
  known: (Size | undefined)[],
  source: TableSource,
): ResizeLengths {
  const rank = ins.length;
  const table = ctx.newValue([3 * rank], 'int32');
  const inLens = ctx.program.addTable(perm.map((a) => ins[a]));
  const physicalAxes = data(ctx.program.addInts(axes.map((a) => perm.indexOf(a))));
  ctx.program.addStep(
    'resize_table',
    () => ({
      src: source.src,
      kind: i32(source.kind),
      rank: i32(rank),
      inLens,
      axes: physicalAxes,
      nAxes: i32(axes.length),
      policy: i32(source.policy),
      table: buf(table),
    }),
    source.reads,
    [table],
  );
  const outDims = [...ins];
  axes.forEach((a, i) => {
    if (known[i] !== undefined) return void (outDims[a] = known[i]!);
    const n = ctx.symbols.computed(lengthName(ctx, a), bounds[i]);
    const at = 12 * perm.indexOf(a) + 4;
    ctx.program.addStep('read_size', () => ({ x: buf(table, at), elemBytes: i32(4), size: slot(n) }), [table], []);
    outDims[a] = n;
  });
  return { outDims, table: buf(table), reads: [table] };
}

/** A computed output length is named after the output's dimension, as input dimensions are: `y[2]`. */
const lengthName = (ctx: NodeContext, axis: number): string => `${ctx.node.outputs[0]}[${axis}]`;
