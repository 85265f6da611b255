import { NodeProblem } from '../errors.js';
import { legacyBroadcast, legacyTensor } from './legacy.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, countArg, i32, onnxTypeOf, type RtValue, type Value } from '../program.js';
import { broadcastMap } from '../tensor.js';
import { lowerBroadcast, toBool } from './elementwise.js';
import { meaning, type OpHandler } from './op.js';

/**
 * Logic on bools (uint8 0/1 in memory): And, Or, Xor with numpy broadcasting, Not; and the float tests
 * IsNaN and IsInf (its detect_positive / detect_negative attributes), which make bools
 * (compiler/abi/compare.ts).
 */

/** A bool operand: run-time values that are not bools are read as x ≠ 0 (constants fold as numbers). */
const asBool = (ctx: NodeContext, v: Value): Value => (v.kind === 'rt' ? toBool(ctx, v) : v);

function logicalHandler(kernel: 'and_u8' | 'or_u8' | 'xor_u8', fn: (a: boolean, b: boolean) => boolean): OpHandler {
  return {
    inputs: 'A B',
    fold: (ctx, [a, b]) => [broadcastMap([a!, legacyTensor(ctx, a!, b!)], 'bool', (x, y) => +fn(!!x, !!y))],
    lower(ctx) {
      const b = legacyBroadcast(ctx, ctx.input(0)!, ctx.input(1)!);
      const [a, bb] = [asBool(ctx, ctx.input(0)!), asBool(ctx, b)];
      const y = lowerBroadcast(ctx, kernel, a, bb, ['uint8', 'uint8'], 'uint8');
      ctx.output(0, { ...y, onnx: 'bool' });
    },
  };
}

/** A float input of a test that makes one bool per element. */
function floatInput(ctx: NodeContext): RtValue {
  const x = ctx.rtAny(0);
  if (x.dtype !== 'float32')
    throw new NodeProblem(`takes floating-point tensors, not ${onnxTypeOf(x)}`, 'invalid-graph');
  return x;
}

const not: OpHandler = {
  inputs: 'X',
  fold: (_ctx, [x]) => [broadcastMap([x!], 'bool', (v) => +!v)],
  lower(ctx) {
    const x = toBool(ctx, ctx.rtAny(0));
    const y: RtValue = { ...ctx.inPlaceOr(x, x.dims, 'uint8'), onnx: 'bool', rowAxis: x.rowAxis };
    ctx.program.addStep('not_u8', () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
    ctx.output(0, y);
  },
};

const isNaN: OpHandler = {
  inputs: 'X',
  fold: (_ctx, [x]) => [broadcastMap([x!], 'bool', (v) => +Number.isNaN(v))],
  lower(ctx) {
    const x = floatInput(ctx);
    const y: RtValue = { ...ctx.newValue(x.dims, 'uint8'), onnx: 'bool', rowAxis: x.rowAxis };
    ctx.program.addStep('isnan_f32', () => ({ x: buf(x), y: buf(y), n: countArg(x) }), [x], [y]);
    ctx.output(0, y);
  },
};

const isInf: OpHandler = {
  inputs: 'X',
  fold(ctx, [x]) {
    const [pos, neg] = [ctx.int('detect_positive', 1) !== 0, ctx.int('detect_negative', 1) !== 0];
    return [broadcastMap([x!], 'bool', (v) => +((pos && v === Infinity) || (neg && v === -Infinity)))];
  },
  lower(ctx) {
    const x = floatInput(ctx);
    const y: RtValue = { ...ctx.newValue(x.dims, 'uint8'), onnx: 'bool', rowAxis: x.rowAxis };
    const detectPositive = i32(ctx.int('detect_positive', 1) !== 0 ? 1 : 0);
    const detectNegative = i32(ctx.int('detect_negative', 1) !== 0 ? 1 : 0);
    ctx.program.addStep(
      'isinf_f32',
      () => ({ x: buf(x), y: buf(y), n: countArg(x), detectPositive, detectNegative }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

export const LOGICAL_OPS: Record<string, OpHandler> = {
  And: logicalHandler('and_u8', (a, b) => a && b),
  Or: logicalHandler('or_u8', (a, b) => a || b),
  Xor: logicalHandler('xor_u8', (a, b) => a !== b),
  Not: not,
  // A model that tests for NaN handles missing values itself.
  IsNaN: meaning(isNaN, { acceptsMissing: true }),
  IsInf: isInf,
};
