import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import { Tensor, product } from '../tensor.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, countArg, i32, mapValues, type RtValue } from '../program.js';
import { convWindow, depthPass, imageInput, imageRows, outputValue, windowArgs, type Window } from './window.js';
import { mul, type Size } from '../shape/size.js';
import { imageGeometry, toPlain } from '../lowering/layout.js';

/**
 * Pooling over channels-last images (compiler/lowering/layout.ts): MaxPool, AveragePool and the global pools.
 * MaxPool on uint8 and int8 runs through float32, which holds every such value exactly, and casts back.
 */

/** The pool's input: float32, or (MaxPool only) an 8-bit integer image as float32. */
function poolInput(ctx: NodeContext, ints: boolean): { x: RtValue; int?: 'uint8' | 'int8' } {
  const raw = ctx.rtLayout(0);
  const type = raw.onnx ?? raw.dtype;
  if (type === 'float32') return { x: imageInput(ctx) };
  if (!ints || (type !== 'uint8' && type !== 'int8'))
    throw new NodeProblem(`input 0 holds ${type}; this pool takes float tensors${ints ? ' (or uint8, int8)' : ''}`);
  const plain = toPlain(ctx.program, raw);
  const x = { ...ctx.newValue(plain.dims), rowAxis: plain.rowAxis };
  const kernel = type === 'uint8' ? 'cast_u8_f32' : 'cast_i8_f32';
  ctx.program.addStep(kernel, () => ({ x: buf(plain), y: buf(x), n: countArg(plain) }), [plain], [x]);
  return { x: imageInput(ctx, 0, x), int: type };
}

/** A float result back in the input's 8-bit type (plain layout: the cast is per element, the bytes narrower). */
function toInt(ctx: NodeContext, y: RtValue, int: 'uint8' | 'int8'): RtValue {
  const plain = toPlain(ctx.program, y);
  const out = { ...ctx.newValue(plain.dims, int), rowAxis: plain.rowAxis };
  const kernel = int === 'uint8' ? 'cast_f32_u8' : 'cast_f32_i8';
  ctx.program.addStep(kernel, () => ({ x: buf(plain), y: buf(out), n: countArg(plain) }), [plain], [out]);
  return out;
}

/**
 * One 2-D pooling pass of `images` images H×W×C. A 3-D pool is two: the (H, W) window per depth slice, then
 * the depth window over those planes (depthPass). Max and mean over a box are separable, so this is exact:
 * the divisor is the (H, W) count times the depth count, each clipped as ONNX clips it.
 */
function poolPass(ctx: NodeContext, kind: 'max' | 'avg', x: RtValue, y: RtValue, images: Size, C: Size, win: Window) {
  const [H, W] = win.spatial;
  if (kind === 'max') {
    ctx.program.addStep(
      'maxpool',
      () => ({ x: buf(x), y: buf(y), images: i32(images), H: i32(H), W: i32(W), C: i32(C), ...windowArgs(win) }),
      [x],
      [y],
    );
    return;
  }
  const [KH, KW] = win.kernel;
  const [SH, SW] = win.strides;
  const [PT, PL, PB, PR] = win.pads;
  const include = ctx.int('count_include_pad', 0);
  if (include !== 0 && include !== 1)
    throw new NodeProblem(`"count_include_pad" is ${include}; it must be 0 or 1`, 'invalid-graph');
  ctx.program.addStep(
    'avgpool',
    () => ({
      x: buf(x),
      y: buf(y),
      images: i32(images),
      ...mapValues({ H, W, C, KH, KW, SH, SW, PT, PL, PB, PR, OH: win.out[0], OW: win.out[1] }, i32),
      countIncludePad: i32(include),
    }),
    [x],
    [y],
  );
}

function poolHandler(kind: 'max' | 'avg'): OpHandler {
  return {
    inputs: 'X',
    lower(ctx) {
      const { x, int } = poolInput(ctx, kind === 'max');
      const win = convWindow(ctx, x, ctx.ints('kernel_shape') ?? [], ctx.int('ceil_mode', 0) !== 0, true);
      if (kind === 'avg' && (win.dilations.some((d) => d !== 1) || (win.depth && win.depth.dilation !== 1)))
        throw new NodeProblem('dilated AveragePool is not supported');
      const y = outputValue(ctx, x, x.dims[1], win);
      const { images, C } = imageGeometry(x);
      const [H, W] = win.spatial;
      if (win.depth) {
        if (ctx.isOutputUsed(1)) throw new NodeProblem("MaxPool's Indices output is not supported for 3-D windows");
        const [N, , D] = x.dims;
        const planes = ctx.newValue([N, C, D, ...win.out]);
        poolPass(ctx, kind, x, planes, mul(N, D), C, win);
        poolPass(ctx, kind, planes, y, N, C, depthPass(win));
        return ctx.output(0, int ? toInt(ctx, y, int) : y);
      }
      poolPass(ctx, kind, x, y, x.dims[0], C, win);
      if (kind === 'max' && ctx.isOutputUsed(1)) {
        // Indices: int64 NCHW flat positions in the input, written directly in ONNX's (plain) order.
        const indices = { ...ctx.newValue(y.dims, 'int64'), rowAxis: imageRows(x) };
        const storageOrder = i32(ctx.int('storage_order', 0));
        ctx.program.addStep(
          'maxpool_indices',
          () => ({
            x: buf(x),
            y: buf(indices),
            images,
            H: i32(H),
            W: i32(W),
            C: i32(C),
            ...windowArgs(win),
            storageOrder,
          }),
          [x],
          [indices],
        );
        ctx.output(1, indices);
      }
      ctx.output(0, int ? toInt(ctx, y, int) : y);
    },
  };
}

function globalPool(kernel: 'global_avgpool' | 'global_maxpool'): OpHandler {
  return {
    inputs: 'X',
    fold(_ctx, [x]) {
      const [n, c] = x!.dims;
      const hw = product(x!.dims.slice(2));
      const v = x!.numbers;
      const out = Array.from({ length: n * c }, (_, i) => {
        const part = Array.from(v.subarray(i * hw, (i + 1) * hw));
        return kernel === 'global_avgpool' ? part.reduce((a, b) => a + b, 0) / hw : Math.max(...part);
      });
      return [Tensor.fromNumbers(x!.dtype, [n, c, ...x!.dims.slice(2).map(() => 1)], out)];
    },
    lower(ctx) {
      const { x } = poolInput(ctx, false);
      const { images, C, HW } = imageGeometry(x);
      // [k, C, 1, 1]: the same bytes channels-last or not, so the result is plain.
      const y = { ...ctx.newValue([x.dims[0], C, ...x.dims.slice(2).map(() => 1)]), rowAxis: imageRows(x) };
      ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), images, HW: i32(HW), C: i32(C) }), [x], [y]);
      ctx.output(0, y);
    },
  };
}

export const POOL_OPS: Record<string, OpHandler> = {
  MaxPool: poolHandler('max'),
  AveragePool: poolHandler('avg'),
  GlobalAveragePool: globalPool('global_avgpool'),
  GlobalMaxPool: globalPool('global_maxpool'),
};
