import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, ELEMENT_BYTES, i32, slot, type RtValue, type Value } from '../program.js';
import { stridesOf } from '../shape/shapes.js';
import { floorDiv, isConst, mod, mul, type Size } from '../shape/size.js';
import { stridedView, Tensor } from '../tensor.js';
import type { OpHandler } from './op.js';
import { runtimeInput } from './strided.js';

/**
 * Ops that rearrange elements into a new order: DepthToSpace, SpaceToDepth and Tile. Each is one view of
 * its input, copied by `strided_copy_sized` (any element size): output dims split into a view whose
 * per-dimension input strides read the elements in output order (compiler/abi/resample.ts gives the views).
 */

interface View {
  dims: Size[];
  strides: Size[];
}

/** y (of outDims) = x read through the view. */
function copyView(ctx: NodeContext, x: RtValue, view: View, outDims: Size[], rowAxis: RtValue['rowAxis']): RtValue {
  const y: RtValue = { ...ctx.newValue(outDims, x.dtype), onnx: x.onnx, rowAxis };
  const dims = view.dims.length ? view.dims : [1];
  const strides = view.dims.length ? view.strides : [1];
  const table = ctx.program.addTable([dims.length, ...dims, ...strides]);
  ctx.program.addStep(
    'strided_copy_sized',
    () => ({ x: buf(x), y: buf(y), rows: i32(dims[0]), table, elemSize: i32(ELEMENT_BYTES[x.dtype]) }),
    [x],
    [y],
  );
  return y;
}

/** The folded result: the same view over the constant. */
const foldView = (t: Tensor, view: View, outDims: Size[]): Tensor =>
  stridedView(t, view.dims as number[], view.strides as number[], 0).reshape(outDims as number[]);

function blocksize(ctx: NodeContext): number {
  const b = ctx.int('blocksize', 0);
  if (!Number.isInteger(b) || b < 1) throw new NodeProblem(`blocksize ${b} must be at least 1`, 'invalid-graph');
  return b;
}

/** `n` must be a multiple of `k`: checked now when known, else before the call. */
function requireMultiple(ctx: NodeContext, n: Size, k: number, what: string): void {
  const r = mod(n, k);
  if (isConst(r)) {
    if (r !== 0) throw new NodeProblem(`${what} ${String(n)} is not a multiple of ${k}`, 'invalid-graph');
  } else ctx.require(r, 0, `${what} must be a multiple of ${k}`);
}

function imageDims(dims: Size[]): [Size, Size, Size, Size] {
  if (dims.length !== 4)
    throw new NodeProblem(`the input has rank ${dims.length}; it must be [N, C, H, W]`, 'invalid-graph');
  return dims as [Size, Size, Size, Size];
}

/** DepthToSpace: [N, C, H, W] → [N, C/b², H·b, W·b], channels read in DCR or CRD order. */
function depthToSpace(ctx: NodeContext, inDims: Size[]): { view: View; outDims: Size[] } {
  const [N, C, H, W] = imageDims(inDims);
  const b = blocksize(ctx);
  requireMultiple(ctx, C, b * b, 'the channel count');
  const mode = ctx.opset >= 11 ? ctx.string('mode', 'DCR') : 'DCR';
  if (mode !== 'DCR' && mode !== 'CRD') throw new NodeProblem(`mode "${mode}" is not DCR or CRD`, 'invalid-graph');
  const c = floorDiv(C, b * b);
  const HW = mul(H, W);
  const CHW = mul(C, HW);
  const strides =
    mode === 'DCR' ? [CHW, HW, W, mul(floorDiv(C, b), HW), 1, mul(c, HW)] : [CHW, mul(b * b, HW), W, mul(b, HW), 1, HW];
  return { view: { dims: [N, c, H, b, W, b], strides }, outDims: [N, c, mul(H, b), mul(W, b)] };
}

/** SpaceToDepth: [N, C, H, W] → [N, C·b², H/b, W/b]. */
function spaceToDepth(ctx: NodeContext, inDims: Size[]): { view: View; outDims: Size[] } {
  const [N, C, H, W] = imageDims(inDims);
  const b = blocksize(ctx);
  requireMultiple(ctx, H, b, 'the height');
  requireMultiple(ctx, W, b, 'the width');
  const [h, w] = [floorDiv(H, b), floorDiv(W, b)];
  const HW = mul(H, W);
  return {
    view: { dims: [N, b, b, C, h, w], strides: [mul(C, HW), W, 1, HW, mul(b, W), b] },
    outDims: [N, mul(C, b * b), h, w],
  };
}

function blockHandler(geometry: typeof depthToSpace): OpHandler {
  return {
    inputs: 'input',
    fold(ctx, [x]) {
      const { view, outDims } = geometry(ctx, x!.dims);
      return [foldView(x!, view, outDims)];
    },
    lower(ctx) {
      const x = runtimeInput(ctx, 0);
      const { view, outDims } = geometry(ctx, x.dims);
      ctx.output(0, copyView(ctx, x, view, outDims, x.rowAxis === 0 || x.rowAxis === 'none' ? x.rowAxis : undefined));
    },
  };
}

/** Tile's view: [r0, d0, r1, d1, …] read at strides [0, s0, 0, s1, …]. */
function tileView(dims: Size[], repeats: Size[]): { view: View; outDims: Size[] } {
  const s = stridesOf(dims);
  return {
    view: { dims: dims.flatMap((d, a) => [repeats[a], d]), strides: s.flatMap((st) => [0, st]) },
    outDims: dims.map((d, a) => mul(d, repeats[a])),
  };
}

const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);

/** The repeats: sizes known up to symbols, or computed per call from the data (each read into its slot). */
function repeatsOf(ctx: NodeContext, rank: number): Size[] {
  const v = ctx.input(1)!;
  const n = dimsOf(v).length === 1 ? dimsOf(v)[0] : undefined;
  if (n === undefined || (isConst(n) && n !== rank))
    throw new NodeProblem(`repeats must be a vector of ${rank} values, one per input dimension`, 'invalid-graph');
  if (v.kind !== 'rt') {
    const repeats = ctx.sizes(1, 'repeats');
    repeats.forEach((r, a) => {
      if (isConst(r) && r < 0) throw new NodeProblem(`repeats[${a}] is ${r}; it cannot be negative`, 'invalid-graph');
    });
    return repeats;
  }
  const r = ctx.rtAny(1);
  if ((r.onnx ?? r.dtype) !== 'int64') throw new NodeProblem(`repeats holds ${r.onnx ?? r.dtype}; it must be int64`);
  ctx.require(n, rank, `repeats must have ${rank} values, one per input dimension`);
  return Array.from({ length: rank }, (_, a) => {
    const count = ctx.symbols.computed(`${ctx.node.outputs[0]}:repeats[${a}]`, Infinity);
    ctx.program.addStep('read_size', () => ({ x: buf(r, 8 * a), elemBytes: i32(8), size: slot(count) }), [r], []);
    return count;
  });
}

const tile: OpHandler = {
  inputs: 'input repeats',
  fold(ctx, [x]) {
    const { view, outDims } = tileView(x!.dims, repeatsOf(ctx, x!.dims.length));
    return [foldView(x!, view, outDims)];
  },
  lower(ctx) {
    if (ctx.opset < 6) throw new NodeProblem(`Tile-${ctx.opset} (tiles and axis inputs) is not supported`);
    const v = ctx.input(0)!;
    if (v.kind === 'shape' && v.dims.length === 1) {
      // A shape vector tiled by a constant: still sizes.
      const [r] = repeatsOf(ctx, 1);
      if (!isConst(r))
        throw new NodeProblem('tiling a shape a number of times known only at run time is not supported');
      return ctx.outputSizes(0, [v.values.length * r], Array.from({ length: r }, () => v.values).flat());
    }
    const x = runtimeInput(ctx, 0);
    const repeats = repeatsOf(ctx, x.dims.length);
    const { view, outDims } = tileView(x.dims, repeats);
    const rows = x.rowAxis;
    const rowAxis = typeof rows === 'number' ? (repeats[rows] === 1 ? rows : undefined) : rows;
    ctx.output(0, copyView(ctx, x, view, outDims, rowAxis));
  },
};

export const REARRANGE_OPS: Record<string, OpHandler> = {
  DepthToSpace: blockHandler(depthToSpace),
  SpaceToDepth: blockHandler(spaceToDepth),
  Tile: tile,
};
