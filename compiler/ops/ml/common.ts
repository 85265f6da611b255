import { CODES } from '../../abi/codes.js';
import type { NodeContext } from '../../lowering/context.js';
import { NodeProblem } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { i32, type I32Arg, type RtValue, type Storage } from '../../program.js';
import { shapeToString } from '../../shape/shapes.js';
import { isConst, type Size } from '../../shape/size.js';

/**
 * What the ai.onnx.ml ops share: post_transform codes, attribute lists, class labels, the feature table.
 */

export const POST = CODES.POST;

export function postTransform(ctx: NodeContext): number {
  const name = ctx.string('post_transform', 'NONE');
  const code = (POST as Record<string, number>)[name];
  if (code === undefined) throw new NodeProblem(`post_transform "${name}" is not supported`, 'invalid-graph');
  return code;
}

export function floats(ctx: NodeContext, name: string, required = false): number[] {
  const v = ctx.attr(name) ?? ctx.attr(`${name}_as_tensor`);
  if (v instanceof Tensor) return Array.from(v.numbers);
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'number') return [v];
  if (required) throw new NodeProblem(`the "${name}" attribute is missing`, 'invalid-graph');
  return [];
}

export const ints = (ctx: NodeContext, name: string): number[] => ctx.ints(name) ?? [];

/** Class labels (strings or integers), as the classifier attributes name them. */
export function classLabels(ctx: NodeContext, strings: string, numbers: string): (string | number)[] {
  const s = ctx.attr(strings);
  if (Array.isArray(s) && s.length) return s as string[];
  return ints(ctx, numbers);
}

/** A 2-D float input [N, F]: N rows (any size) of F features (a fixed count). */
export function table(ctx: NodeContext, i = 0): { x: RtValue; F: number } {
  const x = ctx.rt(i);
  const F = x.dims[1];
  if (x.dims.length !== 2 || !isConst(F))
    throw new NodeProblem(
      `expects a 2-D input [N, features] with a fixed number of features, got ${shapeToString(x.dims)}`,
    );
  return { x, F };
}

/** The rows of a table, as a kernel argument. */
export const rowsArg = (x: RtValue): I32Arg => i32(x.dims[0]);

/** A new value with x's rows and `cols` more dims: the models here work row by row, rows stay apart. */
export function rowValue(ctx: NodeContext, x: RtValue, cols: Size[], dtype: Storage = 'float32'): RtValue {
  return {
    ...ctx.newValue([x.dims[0], ...cols], dtype),
    rowAxis: x.rowAxis === 0 ? 0 : x.rowAxis === 'none' ? 'none' : undefined,
  };
}

/** A label output: int32 class indices standing for `categories`. */
export function labelValue(ctx: NodeContext, x: RtValue, categories: (string | number)[]): RtValue {
  return { ...rowValue(ctx, x, [], 'int32'), categories };
}

// ---- linear models -------------------------------------------------------------------------------
