import { meaning, type OpHandler } from '../op.js';
import { NodeContext } from '../../lowering/context.js';
import { NodeProblem } from '../../errors.js';
import { POST, classLabels, floats, ints, labelValue, postTransform, rowsArg, table, rowValue } from './common.js';
import { emitGemm } from '../gemm.js';
import { type RtValue, buf, data, f32, i32 } from '../../program.js';

/**
 * ai.onnx.ml support vector machines: SVMClassifier (one-vs-one votes, Platt probabilities) and SVMRegressor.
 */

const SVM_KERNELS: Record<string, number> = { LINEAR: 0, POLY: 1, RBF: 2, SIGMOID: 3 };

/** Kernel values of x against the support vectors, as f64 [rows, V] (assembly/svm.ts svm_kernel). */
function kernelValues(ctx: NodeContext, x: RtValue, F: number, sv: number[], V: number): RtValue {
  const kind = SVM_KERNELS[ctx.string('kernel_type', 'LINEAR')];
  if (kind === undefined)
    throw new NodeProblem(`kernel_type "${ctx.string('kernel_type', '')}" is not supported`, 'invalid-graph');
  const [gamma = 0, coef0 = 0, degree = 0] = floats(ctx, 'kernel_params');
  const ref = ctx.program.addFloats(Float32Array.from(sv));
  const k = rowValue(ctx, x, [2 * V]); // f64 values: two floats each
  ctx.program.addStep(
    'svm_kernel',
    () => ({
      x: buf(x),
      F: i32(F),
      rows: rowsArg(x),
      sv: data(ref),
      V: i32(V),
      kind: i32(kind),
      gamma: f32(gamma),
      coef0: f32(coef0),
      degree: f32(degree),
      out: buf(k),
    }),
    [x],
    [k],
  );
  return k;
}

const svmClassifier: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const labels = classLabels(ctx, 'classlabels_strings', 'classlabels_ints');
    const C = labels.length;
    const perClass = ints(ctx, 'vectors_per_class');
    const V = perClass.reduce((a, b) => a + b, 0);
    const coef = floats(ctx, 'coefficients', true);
    const rho = floats(ctx, 'rho', true);
    const probA = floats(ctx, 'prob_a');
    const probB = floats(ctx, 'prob_b');
    const post = postTransform(ctx);
    if (V === 0) throw new NodeProblem('linear (liblinear-mode) SVMClassifier is not supported yet');
    if (perClass.length !== C)
      throw new NodeProblem(`vectors_per_class has ${perClass.length} entries for ${C} classes`, 'invalid-graph');
    const sv = floats(ctx, 'support_vectors', true);
    if (sv.length !== V * F)
      throw new NodeProblem(`has ${sv.length} support vector values for ${V} vectors × ${F} features`, 'invalid-graph');
    const pairs = (C * (C - 1)) / 2;
    if (coef.length < (C - 1) * V || rho.length < pairs)
      throw new NodeProblem('coefficients or rho are too short for the classes', 'invalid-graph');
    const withProba = probA.length > 0;
    if (withProba && (probA.length < pairs || probB.length < pairs))
      throw new NodeProblem('prob_a/prob_b are too short', 'invalid-graph');

    const k = kernelValues(ctx, x, F, sv, V);
    const refs = {
      perClass: ctx.program.addInts(perClass),
      coef: ctx.program.addFloats(Float32Array.from(coef)),
      rho: ctx.program.addFloats(Float32Array.from(rho)),
      probA: withProba ? ctx.program.addFloats(Float32Array.from(probA)) : null,
      probB: withProba ? ctx.program.addFloats(Float32Array.from(probB)) : null,
    };
    const cols = withProba ? C : C > 2 ? pairs : 2;
    const z = rowValue(ctx, x, [cols]);
    const y = labelValue(ctx, x, labels);
    // votes (C i32) + decision values (pairs f32) + alignment + 2C² + 2C doubles
    const work = ctx.newValue([C + pairs + 2 + 2 * (2 * C * C + 2 * C)]);
    const allPositive = coef.every((c) => c >= 0) ? 1 : 0;
    ctx.program.addStep(
      'svm_classify',
      () => ({
        kernels: buf(k),
        rows: rowsArg(x),
        V: i32(V),
        C: i32(C),
        perClass: data(refs.perClass),
        coef: data(refs.coef),
        rho: data(refs.rho),
        probA: data(refs.probA),
        probB: data(refs.probB),
        scores: buf(z),
        labels: buf(y),
        scratch: buf(work),
        post: i32(post),
        allPositive: i32(allPositive),
      }),
      [k],
      [z, y, work],
    );
    ctx.output(0, y);
    ctx.output(1, z);
  },
};

const svmRegressor: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const coef = floats(ctx, 'coefficients', true);
    const rho = floats(ctx, 'rho', true);
    const V = ctx.int('n_supports', 0);
    if (postTransform(ctx) !== POST.NONE) throw new NodeProblem('only post_transform NONE is supported');
    if (V === 0) {
      // liblinear mode: y = x·coef + rho
      return ctx.output(
        0,
        emitGemm(ctx, x, F, 1, (f) => coef[f], [x.dims[0], 1], Float32Array.of(rho[0])),
      );
    }
    const sv = floats(ctx, 'support_vectors', true);
    if (sv.length !== V * F || coef.length < V)
      throw new NodeProblem('support vectors or coefficients do not match n_supports', 'invalid-graph');
    const k = kernelValues(ctx, x, F, sv, V);
    const coefRef = ctx.program.addFloats(Float32Array.from(coef.slice(0, V)));
    const y = rowValue(ctx, x, [1]);
    ctx.program.addStep(
      'svm_regress',
      () => ({
        kernels: buf(k),
        rows: rowsArg(x),
        V: i32(V),
        coef: data(coefRef),
        rho: f32(rho[0]),
        oneClass: i32(ctx.int('one_class', 0)),
        y: buf(y),
      }),
      [k],
      [y],
    );
    ctx.output(0, y);
  },
};

export const SVM_OPS: Record<string, OpHandler> = {
  SVMClassifier: svmClassifier,
  SVMRegressor: meaning(svmRegressor, { outputKind: 'values' }),
};
