import type { OnnxGraph } from '../onnx.js';
import type { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { shapeToString } from '../shape/shapes.js';
import { buf, data, i32 } from '../program.js';
import { stridedCopy } from './strided.js';

/**
 * The Scan body skl2onnx writes for k-nearest neighbours (squared distances to the training rows), compiled
 * as one kernel; every other Scan runs as a loop (./loop.ts).
 */

/**
 * What skl2onnx's nearest-neighbour models (KNeighborsClassifier/Regressor) export around the
 * ai.onnx.ml ops: a Scan computing the distances to every training row, then TopK; and the weighted
 * median of AdaBoostRegressor (TopK, CumSum, GatherElements).
 */

/**
 * Scan, only in the form skl2onnx's cdist writes: the state is the input X, the scanned input a
 * constant table T, and the body emits ReduceSumSquare(X − T[m], axis 1) per row m of T. Compiled as
 * one squared-distance kernel; the stacked output is [M, N] (batch on axis 1, as the graph transposes
 * it back), so the model runs row-wise.
 */
/** Lower the Scan as skl2onnx's cdist when it is one (and its table a constant); false otherwise. */
export function lowerCdistScan(ctx: NodeContext): boolean {
  {
    const body = ctx.attr('body') as OnnxGraph | undefined;
    if (!body || ctx.int('num_scan_inputs', 0) !== 1 || ctx.inputCount !== 2) return false;
    const ops = body.nodes.map((n) => n.opType).join(',');
    const [stateIn, scanned] = body.inputs.map((i) => i.name);
    const sub = body.nodes.find((n) => n.opType === 'Sub');
    const red = body.nodes.find((n) => n.opType === 'ReduceSumSquare');
    const axes = red?.attrs.get('axes');
    const cdist =
      ops === 'Identity,Sub,ReduceSumSquare,Identity' &&
      sub!.inputs[0] === stateIn &&
      sub!.inputs[1] === scanned &&
      red!.inputs[0] === sub!.outputs[0] &&
      Array.isArray(axes) &&
      axes.length === 1 &&
      axes[0] === 1 &&
      Number(red!.attrs.get('keepdims') ?? 1) === 0 &&
      body.nodes[0].inputs[0] === stateIn &&
      body.outputs[0].name === body.nodes[0].outputs[0] &&
      body.nodes[3].inputs[0] === red!.outputs[0] &&
      body.outputs[1].name === body.nodes[3].outputs[0];
    const tv = ctx.input(1);
    const xv = ctx.input(0);
    if (!cdist || tv?.kind !== 'const' || xv?.kind !== 'rt' || xv.dtype !== 'float32') return false;
    const x = ctx.rt(0);
    const t = ctx.constant(1, 'the scanned table');
    if (x.dims.length !== 2 || t.dims.length !== 2 || t.dims[1] !== x.dims[1])
      throw new NodeProblem(
        `expects [N, F] against a constant [M, F], got ${shapeToString(x.dims)} and [${t.dims}]`,
        'invalid-graph',
      );
    const [M, F] = t.dims;
    ctx.output(0, x);
    const table = ctx.program.addFloats(t.toFloat32());
    // The kernel writes [N, M]; the scan stacks its outputs as [M, N] (rows on axis 1).
    const N = x.dims[0];
    const d = { ...ctx.newValue([N, M]), rowAxis: x.rowAxis === 0 ? 0 : undefined };
    ctx.program.addStep(
      'squared_distances',
      () => ({ x: buf(x), t: data(table), y: buf(d), rows: i32(N), F: i32(F), M: i32(M) }),
      [x],
      [d],
    );
    const y = stridedCopy(ctx, d, [M, N], [1, M], 0);
    ctx.output(1, { ...y, rowAxis: d.rowAxis === 0 ? 1 : undefined });
    return true;
  }
}
