import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { toPlain } from '../lowering/layout.js';
import type { Value } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product, sameSize, type Size } from '../shape/size.js';
import { Tensor } from '../tensor.js';

/**
 * Old-opset conventions (ONNX opsets 1–6) that later opsets replaced, read the way the ONNX spec of the
 * time defines them, so a handler can turn them into what it already lowers.
 */

/** Opset where numpy-style broadcasting replaced the `broadcast`/`axis` attributes (Add, Mul, Less, And…). */
export const NUMPY_BROADCAST_SINCE = 7;

/**
 * Opsets 1–6 of the arithmetic, comparison and logic ops: B is broadcast to A only when `broadcast` = 1,
 * its dims matching a contiguous run of A's that starts at `axis` (default: A's trailing dims), or B has
 * one element. Without `broadcast`, B has A's shape. Returns B re-viewed at A's rank (1s around the run),
 * which numpy broadcasting then treats the same way; the output has A's shape.
 */
export function legacyBroadcast(ctx: NodeContext, a: Value, b: Value): Value {
  if (ctx.opset >= NUMPY_BROADCAST_SINCE) return b;
  const aDims = dimsOf(a);
  const bDims = dimsOf(b);
  const where = `A is ${shapeToString(aDims)}, B is ${shapeToString(bDims)}`;
  if (!ctx.int('broadcast', 0)) {
    if (aDims.length !== bDims.length)
      throw new NodeProblem(
        `without broadcast=1 (opset ${ctx.opset}), B must have A's shape; ${where}`,
        'invalid-graph',
      );
    bDims.forEach((d, i) => {
      if (isConst(d) && isConst(aDims[i]) && d !== aDims[i])
        throw new NodeProblem(
          `without broadcast=1 (opset ${ctx.opset}), B must have A's shape; ${where}`,
          'invalid-graph',
        );
      ctx.require(d, aDims[i], `B's dim ${i} must equal A's (opset ${ctx.opset} has no implicit broadcasting)`);
    });
    return b;
  }
  if (isConst(product(bDims)) && product(bDims) === 1 && bDims.length <= aDims.length) return b;
  const given = ctx.attr('axis');
  const axisAttr = typeof given === 'number' ? given : aDims.length - bDims.length;
  const axis = axisAttr < 0 ? axisAttr + aDims.length : axisAttr;
  if (axis < 0 || axis + bDims.length > aDims.length)
    throw new NodeProblem(`B does not fit in A from axis ${axisAttr}; ${where}`, 'invalid-graph');
  bDims.forEach((d, i) => {
    const ad = aDims[axis + i];
    if (!sameSize(d, 1) && !sameSize(d, ad)) {
      if (isConst(d) && isConst(ad))
        throw new NodeProblem(
          `B's dim ${i} (${d}) does not match A's dim ${axis + i} (${ad}); ${where}`,
          'invalid-graph',
        );
      ctx.require(d, ad, `B's dim ${i} must equal A's dim ${axis + i} (broadcast from axis ${axis})`);
    }
  });
  const dims = [
    ...new Array<Size>(axis).fill(1),
    ...bDims,
    ...new Array<Size>(aDims.length - axis - bDims.length).fill(1),
  ];
  if (dims.length === bDims.length) return b;
  return reshaped(ctx, b, dims, axis);
}

/** B of a constant op at opsets 1–6, re-viewed as its `broadcast`/`axis` attributes say. */
export function legacyTensor(ctx: NodeContext, a: Tensor, b: Tensor): Tensor {
  const v = legacyBroadcast(ctx, { kind: 'const', tensor: a }, { kind: 'const', tensor: b });
  if (v.kind !== 'const') throw new Error('internal error: a legacy broadcast of a constant is not constant');
  return v.tensor;
}

/** Opsets 1–7 of Sum, Mean, Max, Min: every input has the first one's shape (no broadcasting before 8). */
export function requireSameShapes(ctx: NodeContext, values: Value[]): void {
  if (ctx.opset >= 8) return;
  const first = dimsOf(values[0]);
  values.slice(1).forEach((v, k) => {
    const d = dimsOf(v);
    const same = d.length === first.length && d.every((s, i) => !isConst(s) || !isConst(first[i]) || s === first[i]);
    if (!same)
      throw new NodeProblem(
        `input ${k + 1} is ${shapeToString(d)}, input 0 ${shapeToString(first)}: before opset 8 every input has the same shape`,
        'invalid-graph',
      );
    d.forEach((s, i) =>
      ctx.require(s, first[i], `input ${k + 1}'s dim ${i} must equal input 0's (opset ${ctx.opset})`),
    );
  });
}

const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);

function reshaped(ctx: NodeContext, v: Value, dims: Size[], lead: number): Value {
  if (v.kind === 'const') return { kind: 'const', tensor: v.tensor.reshape(dims as number[]) };
  if (v.kind === 'shape') {
    if (!v.values.every(isConst)) throw new NodeProblem('a legacy broadcast of sizes known only at run time');
    return { kind: 'const', tensor: Tensor.fromNumbers('int64', dims as number[], v.values as number[]) };
  }
  const plain = toPlain(ctx.program, v);
  const r = plain.rowAxis;
  return { ...ctx.alias(plain, dims), rowAxis: typeof r === 'number' ? r + lead : r };
}

/** TensorProto.DataType names, as Cast-1 spells its `to` attribute ("FLOAT", "INT64"…). */
const TYPE_CODES: Record<string, number> = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
};

/** Cast's target type code: an int from opset 6, a type name before. */
export function castTargetCode(ctx: NodeContext): number {
  const to = ctx.attr('to');
  if (typeof to !== 'string') return ctx.int('to', 1);
  const code = TYPE_CODES[to.toUpperCase()];
  if (code === undefined)
    throw new NodeProblem(`"to" is "${to}", not a tensor type name (FLOAT, INT64, BOOL…)`, 'invalid-graph');
  return code;
}

/** Concat's axis: required from opset 4, 1 when absent before. */
export const concatAxis = (ctx: NodeContext): number => ctx.int('axis', ctx.opset < 4 ? 1 : 0);
