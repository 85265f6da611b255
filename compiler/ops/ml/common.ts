import { CODES } from '../../abi/codes.js';
import { NodeContext } from '../../lowering/context.js';
import { NodeProblem } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { type Arg, type RtValue, i32 } from '../../program.js';

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

/** A 2-D float input [rows, F] (a 1-D input is one row). */
export function table(ctx: NodeContext, i = 0): { x: RtValue; F: number } {
  const x = ctx.rt(i);
  if (x.dims.length !== 2 || x.dims[0] !== 1)
    throw new NodeProblem(`expects a 2-D input [N, features], got [${x.dims}]`);
  return { x, F: x.dims[1] };
}

export const rowsArg = (x: RtValue): Arg => (x.batched ? { t: 'rows', times: 1 } : i32(1));

/** A label output: int32 class indices standing for `categories`. */
export function labelValue(ctx: NodeContext, x: RtValue, categories: (string | number)[]): RtValue {
  return { ...ctx.newValue([1], x.batched, 'int32'), categories };
}

// ---- linear models -------------------------------------------------------------------------------
