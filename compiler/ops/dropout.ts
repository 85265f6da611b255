import { meaning, type OpHandler } from './op.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor } from '../tensor.js';
import { buf, countArg, data, f32, i32, type RtValue } from '../program.js';
import { operand } from './operands.js';
import type { Size } from '../shape/size.js';

/**
 * Dropout in inference: the identity. Its optional mask output is what onnxruntime gives there: all true
 * from opset 12, all false (zeros) before — a float tensor like the input before opset 10, bool from 10.
 * Training mode runs only where it drops nothing (ratio 0); given at run time, a call that would drop
 * units is bad-input.
 */

function checkInference(ctx: NodeContext, ratio: Tensor | undefined, training: Tensor | undefined): void {
  // Opsets 1–6 drop units unless is_test=1, and is_test defaults to 0.
  if (ctx.opset < 7 && !ctx.int('is_test', 0))
    throw new NodeProblem(
      'is_test=0 is training mode (random units dropped); export the model for inference (is_test=1, or opset 7 on)',
    );
  if (!training || !training.numbers[0]) return;
  // Training mode with ratio 0 keeps every unit: the identity, exactly. (No ratio means 0.5.)
  if (ratio && ratio.numbers[0] === 0) return;
  throw new NodeProblem(
    'training_mode=true drops random units; only inference, or training with a constant ratio of 0, is supported',
  );
}

/** The mask's ONNX type and its one value. */
const maskOf = (ctx: NodeContext) => ({ bool: ctx.opset >= 10, value: ctx.opset >= 12 ? 1 : 0 });

const dropout: OpHandler = {
  inputs: (opset) => (opset >= 12 ? 'data ratio? training_mode?' : 'data'),
  fold(ctx, [x, ratio, training]) {
    checkInference(ctx, ratio, training);
    const { bool, value } = maskOf(ctx);
    return [x!, new Tensor(bool ? 'bool' : x!.dtype, x!.dims, new Float64Array(x!.size).fill(value))];
  },
  lower(ctx) {
    // A ratio computed at run time matters only in training mode, which then is refused.
    const ratio = ctx.opset >= 12 ? ctx.input(1) : undefined;
    if (ctx.opset >= 12 && ctx.input(2)?.kind === 'rt') checkAtRunTime(ctx);
    else {
      const training = ctx.opset >= 12 ? ctx.optionalConstant(2, 'training_mode') : undefined;
      checkInference(ctx, ratio?.kind === 'const' ? ratio.tensor : undefined, training);
    }
    const v = ctx.input(0)!;
    const x = v.kind === 'rt' ? ctx.rtLayout(0) : v;
    ctx.output(0, x);
    if (!ctx.isOutputUsed(1)) return;
    const dims = x.kind === 'const' ? x.tensor.dims : x.dims;
    ctx.output(1, lowerMask(ctx, dims, x.kind === 'rt' ? x.rowAxis : 'none'));
  },
};

/**
 * training_mode given at run time: a call with it false, or with a ratio of 0, is the identity; one that
 * would drop random units (true, ratio not 0) is bad-input — this model runs inference, and a random mask
 * would not be reproducible anyway.
 */
function checkAtRunTime(ctx: NodeContext): void {
  const training = operand(ctx, 2, 'training_mode');
  if (training.dtype !== 'uint8') throw new NodeProblem(`training_mode holds ${training.onnx}; it must be bool`);
  const r = ctx.input(1);
  const ratio = r ? operand(ctx, 1, 'ratio') : undefined;
  if (ratio && ratio.onnx !== 'float32') throw new NodeProblem(`a ${ratio.onnx} ratio is not supported (float32)`);
  const ratioPtr = ratio?.ptr ?? data(ctx.program.addFloats(Float32Array.of(0.5))); // no ratio means 0.5
  const step = ctx.program.addStep(
    'dropout_check',
    () => ({ ratio: ratioPtr, training: training.ptr }),
    [...(ratio?.reads ?? []), ...training.reads],
    [],
  );
  step.valueCheck = {
    message: `Dropout "${ctx.node.name}": training_mode "${ctx.node.inputs[2]}" is true with a ratio other than 0, which drops random units; this model runs inference only (pass training_mode false, or a ratio of 0)`,
  };
}

/** A run-time tensor of x's dims holding the mask's one value (one fill per call). */
function lowerMask(ctx: NodeContext, dims: Size[], rowAxis: RtValue['rowAxis']): RtValue {
  const { bool, value } = maskOf(ctx);
  if (bool) {
    const y: RtValue = { ...ctx.newValue(dims, 'uint8'), onnx: 'bool', rowAxis };
    ctx.program.addStep('fill_u8', () => ({ y: buf(y), n: countArg(y), v: i32(value) }), [], [y]);
    return y;
  }
  const y: RtValue = { ...ctx.newValue(dims), rowAxis };
  ctx.program.addStep('fill', () => ({ y: buf(y), n: countArg(y), v: f32(value) }), [], [y]);
  return y;
}

export const DROPOUT_OPS: Record<string, OpHandler> = { Dropout: meaning(dropout, { passes: 'values' }) };
