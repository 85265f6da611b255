import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, i32, onnxTypeOf, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { mul, product, sameSizes, type Size } from '../shape/size.js';
import { FLOAT_TYPES, Tensor, broadcastMap, product as count } from '../tensor.js';
import { lowerBinary } from './binary.js';
import type { OpHandler } from './op.js';

/**
 * PRelu (the slope broadcast to X, one SIMD binary call: assembly/binary.ts) and Det (LU with partial
 * pivoting per matrix, in double: assembly/det.ts).
 */

const prelu: OpHandler = {
  inputs: 'X slope',
  fold: (_ctx, [x, slope]) => [broadcastMap([x!, slope!], x!.dtype, (v, s) => (v < 0 ? v * s : v))],
  lower(ctx) {
    const [x, slope] = [ctx.input(0)!, ctx.input(1)!];
    if (!FLOAT_TYPES.has(onnxTypeOf(x)) || !FLOAT_TYPES.has(onnxTypeOf(slope)))
      throw new NodeProblem(`PRelu on ${onnxTypeOf(x)} tensors is not supported (float32 is)`);
    const y = lowerBinary(ctx, 'binary_prelu', x, slope);
    // The slope broadcasts to X (unidirectionally): the output has X's shape.
    const xDims = x.kind === 'const' ? x.tensor.dims : x.dims;
    if (!sameSizes(y.dims, xDims))
      throw new NodeProblem(
        `the slope's shape does not broadcast to X's ${shapeToString(xDims)} (the output would be ${shapeToString(y.dims)})`,
        'invalid-graph',
      );
    ctx.output(0, y);
  },
};

/** The determinant of an n×n matrix of doubles as assembly/det.ts computes it (same pivots, same order). */
function luDeterminant(a: Float64Array, n: number): number {
  let d = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]);
      if (v > best) [best, p] = [v, i];
    }
    if (best === 0) return 0;
    if (p !== k) {
      for (let j = k; j < n; j++) [a[k * n + j], a[p * n + j]] = [a[p * n + j], a[k * n + j]];
      d = -d;
    }
    const pivot = a[k * n + k];
    d *= pivot;
    for (let i = k + 1; i < n; i++) {
      const f = a[i * n + k] / pivot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
    }
  }
  return d;
}

const det: OpHandler = {
  inputs: 'X',
  fold(_ctx, [x]) {
    const dims = x!.dims;
    const n = dims[dims.length - 1];
    checkSquare(dims);
    const batches = count(dims.slice(0, -2));
    const v = x!.numbers;
    const out = Array.from({ length: batches }, (_, b) =>
      luDeterminant(Float64Array.from(v.subarray(b * n * n, (b + 1) * n * n)), n),
    );
    return [Tensor.fromNumbers(x!.dtype, dims.slice(0, -2), out)];
  },
  lower(ctx: NodeContext) {
    const x = ctx.rt(0);
    checkSquare(x.dims, ctx);
    const n = x.dims[x.dims.length - 1];
    const outDims = x.dims.slice(0, -2);
    // Rows stay apart on the batch axes of the matrices.
    const r = x.rowAxis;
    const y: RtValue = {
      ...ctx.newValue(outDims),
      rowAxis: typeof r === 'number' && r >= outDims.length ? undefined : r,
    };
    // Scratch: one matrix of doubles (two floats per element).
    const scratch = ctx.newValue([mul(2, mul(n, n))]);
    ctx.program.addStep(
      'det',
      () => ({ x: buf(x), y: buf(y), batches: i32(product(outDims)), n: i32(n), scratch: buf(scratch) }),
      [x],
      [y, scratch],
    );
    ctx.output(0, y);
  },
};

function checkSquare(dims: readonly Size[], ctx?: NodeContext): void {
  if (dims.length < 2)
    throw new NodeProblem(`Det takes [..., M, M] matrices, not ${shapeToString(dims)}`, 'invalid-graph');
  const [m, n] = dims.slice(-2);
  if (typeof m === 'number' && typeof n === 'number') {
    if (m !== n) throw new NodeProblem(`Det takes square matrices, not ${shapeToString(dims)}`, 'invalid-graph');
  } else ctx?.require(m, n, 'the matrices must be square');
}

export const PRELU_DET_OPS: Record<string, OpHandler> = { PRelu: prelu, Det: det };
