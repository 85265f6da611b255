import { NodeContext } from '../lowering/context.js';
import { Tensor } from '../tensor.js';

/**
 * Reading op arguments that older opsets give as attributes and newer ones as constant inputs.
 */

export const asInts = (t: Tensor | undefined): number[] | undefined => (t ? Array.from(t.numbers) : undefined);

/** Axes from the attribute (older opsets) or the input (newer). */
export function axesOf(ctx: NodeContext, inputIndex: number, sinceOpset: number): number[] | undefined {
  return ctx.opset >= sinceOpset ? asInts(ctx.optionalConstant(inputIndex, 'axes')) : ctx.ints('axes');
}
