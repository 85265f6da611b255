import { meaning, type OpHandler } from '../op.js';
import { CODES } from '../../abi/codes.js';
import { NodeProblem } from '../../errors.js';
import { POST, classLabels, floats, labelValue, postTransform, rowsArg, table, rowValue } from './common.js';
import { buf, f32, i32 } from '../../program.js';
import { emitGemm } from '../gemm.js';

/**
 * ai.onnx.ml linear models: LinearClassifier and LinearRegressor, one packed GEMM each.
 */

const linearClassifier: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const coef = floats(ctx, 'coefficients', true);
    const intercepts = floats(ctx, 'intercepts');
    const labels = classLabels(ctx, 'classlabels_strings', 'classlabels_ints');
    const C = intercepts.length || coef.length / F;
    if (coef.length !== C * F)
      throw new NodeProblem(`has ${coef.length} coefficients for ${C} classes × ${F} features`, 'invalid-graph');
    const post = postTransform(ctx);
    const raw = emitGemm(
      ctx,
      x,
      F,
      C,
      (k, n) => coef[n * F + k],
      [x.dims[0], C],
      Float32Array.from({ length: C }, (_, n) => intercepts[n] ?? 0),
    );
    const strings = labels.some((l) => typeof l === 'string');

    if (ctx.isOutputUsed(0)) {
      if (C === 1) {
        const cats = labels.length === 2 ? labels : strings ? ['0', '1'] : [0, 1];
        const y = labelValue(ctx, x, cats);
        ctx.program.addStep(
          'label_threshold',
          () => ({ x: buf(raw), y: buf(y), rows: rowsArg(x), threshold: f32(0) }),
          [raw],
          [y],
        );
        ctx.output(0, y);
      } else {
        if (labels.length !== C)
          throw new NodeProblem(`has ${labels.length} class labels for ${C} score columns`, 'invalid-graph');
        const y = labelValue(ctx, x, labels);
        ctx.program.addStep(
          'argmax',
          () => ({ x: buf(raw), y: buf(y), outer: rowsArg(x), len: i32(C), inner: i32(1), selectLast: i32(0) }),
          [raw],
          [y],
        );
        ctx.output(0, y);
      }
    }
    if (C === 1 && labels.length === 2) {
      if (post === POST.PROBIT) throw new NodeProblem('PROBIT on a one-score binary classifier is not supported');
      const z = rowValue(ctx, x, [2]);
      // onnxruntime (1.30) applies LOGISTIC before expanding the score s to [1 − p, p]: mode 2 gives
      // [logistic(−s), logistic(s)]; otherwise [1 − s, s] (mode 1) whatever the post-transform
      const mode = post === POST.LOGISTIC ? CODES.TWO_CLASS.NEGATE : CODES.TWO_CLASS.COMPLEMENT;
      ctx.program.addStep(
        'two_class_scores',
        () => ({ x: buf(raw), y: buf(z), rows: rowsArg(x), mode: i32(mode), post: i32(post) }),
        [raw],
        [z],
      );
      return ctx.output(1, z);
    }
    if (post === POST.NONE || (C === 1 && post !== POST.PROBIT)) return ctx.output(1, raw);
    const z = rowValue(ctx, x, [C]);
    ctx.program.addStep(
      'post_transform',
      () => ({ x: buf(raw), y: buf(z), rows: rowsArg(x), C: i32(C), post: i32(C === 1 ? POST.PROBIT : post) }),
      [raw],
      [z],
    );
    ctx.output(1, z);
  },
};

const linearRegressor: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const coef = floats(ctx, 'coefficients', true);
    const T = ctx.int('targets', 1);
    const intercepts = floats(ctx, 'intercepts');
    if (coef.length !== T * F)
      throw new NodeProblem(`has ${coef.length} coefficients for ${T} targets × ${F} features`, 'invalid-graph');
    if (postTransform(ctx) !== POST.NONE) throw new NodeProblem('only post_transform NONE is supported');
    const bias = intercepts.length
      ? Float32Array.from({ length: T }, (_, n) => intercepts[intercepts.length === 1 ? 0 : n])
      : null;
    ctx.output(
      0,
      emitGemm(ctx, x, F, T, (k, n) => coef[n * F + k], [x.dims[0], T], bias),
    );
  },
};

// ---- preprocessing -------------------------------------------------------------------------------

export const LINEAR_OPS: Record<string, OpHandler> = {
  LinearClassifier: linearClassifier,
  LinearRegressor: meaning(linearRegressor, { outputKind: 'values' }),
};
