import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { imageGeometry, toNHWC } from '../lowering/layout.js';
import { buf, i32, type RtValue, type Value } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, mul, product, sameSize } from '../shape/size.js';
import { Tensor } from '../tensor.js';
import { lowerBinary } from './binary.js';
import { stridedCopy } from './strided.js';
import { convWindow, imageInput, outputValue, windowArgs } from './window.js';

/**
 * Conv whose weights W are computed at run time (or a graph input): no compile-time packing. Per call,
 * W [Co, C, taps] is transposed into the im2col order [taps·C, Co] (one strided copy), the input unrolled
 * (im2col; a 1×1 stride-1 conv reads the channels-last input as it is) and multiplied by the batched matmul
 * kernel into the channels-last output; a bias B (constant or run-time, [Co]) is one broadcast Add.
 * group must be 1.
 */
export function lowerConvRuntimeW(ctx: NodeContext): RtValue {
  const x = imageInput(ctx);
  if (x.dims.length === 5) throw new NodeProblem('a 3-D Conv needs its weights W as a constant (an initializer)');
  const w = ctx.rt(1);
  const group = ctx.int('group', 1);
  if (group !== 1) throw new NodeProblem(`a run-time W with group ${group} is not supported (group 1 is)`);
  if (w.dims.length !== x.dims.length || !w.dims.every(isConst))
    throw new NodeProblem(
      `W is ${shapeToString(w.dims)} for input ${shapeToString(x.dims)}: a run-time W needs fixed sizes and the input's rank`,
    );
  const [Co, C, ...taps] = w.dims as number[];
  if (!sameSize(x.dims[1], C))
    throw new NodeProblem(`W ${shapeToString(w.dims)} does not fit ${x.dims[1]} input channels`, 'invalid-graph');
  const win = convWindow(ctx, x, ctx.ints('kernel_shape') ?? taps);
  if (product(win.kernel) !== product(taps))
    throw new NodeProblem(`kernel_shape [${win.kernel}] does not match W ${shapeToString(w.dims)}`, 'invalid-graph');
  const y = outputValue(ctx, x, Co, win);
  const T = product(taps) as number;
  const K = T * C;
  // B[t][c][co] = W[co][c][t]: k = t·C + c, im2col's order.
  const b = stridedCopy(ctx, w, [T, C, Co], [1, T, C * T], 0);
  const { images } = imageGeometry(x);
  const [H, Wd] = win.spatial;
  const pixels = product(win.out);
  const pointwise = T === 1 && win.strides.every((s) => s === 1) && win.pads.every((p) => p === 0);
  const col = pointwise ? x : ctx.newValue([x.dims[0], pixels, K]);
  if (!pointwise)
    ctx.program.addStep(
      'im2col',
      () => ({
        x: buf(x),
        col: buf(col),
        images,
        H: i32(H),
        W: i32(Wd),
        C: i32(C),
        c0: i32(0),
        cn: i32(C),
        ...windowArgs(win),
      }),
      [x],
      [col],
    );
  const M = mul(x.dims[0], pixels);
  ctx.program.addStep(
    'matmul',
    () => ({ a: buf(col), b: buf(b), c: buf(y), batches: i32(1), M: i32(M), N: i32(Co), K: i32(K), bPeriod: i32(0) }),
    [col, b],
    [y],
  );
  const bias = ctx.input(2);
  return bias ? addBias(ctx, y, bias, Co) : y;
}

/** y + B over the channel axis, B [Co] a constant or a run-time value. */
function addBias(ctx: NodeContext, y: RtValue, bias: Value, Co: number): RtValue {
  const dims = bias.kind === 'const' ? bias.tensor.dims : bias.dims;
  if (dims.length !== 1 || !sameSize(dims[0], Co))
    throw new NodeProblem(
      `B is ${shapeToString(dims)}; it needs one value per output channel ([${Co}])`,
      'invalid-graph',
    );
  const lifted = [1, Co, ...y.dims.slice(2).map(() => 1)];
  if (bias.kind === 'const')
    return lowerBinary(ctx, 'binary_add', y, {
      kind: 'const',
      tensor: Tensor.fromNumbers('float32', lifted, bias.tensor.toFloat32()),
    });
  const view: RtValue = { ...ctx.alias(ctx.rt(2), lifted), rowAxis: 'none' };
  return lowerBinary(ctx, 'binary_add', y, toNHWC(ctx.program, view));
}
