import { NodeProblem } from '../errors.js';
import type { OpHandler } from './index.js';

/**
 * ai.onnx.ml ops around classifiers (as skl2onnx and onnxmltools emit them).
 *
 * ArrayFeatureExtractor(classes, argmax) turns a class index into the class value: at run time the
 * index stays an int32 and the value list travels as `categories`, for the runtime to map.
 */
const arrayFeatureExtractor: OpHandler = {
  lower(ctx) {
    const data = ctx.input(0);
    const indices = ctx.rtAny(1);
    if (data?.kind !== 'const' || data.tensor.dims.length > 1 && data.tensor.dims.slice(0, -1).some((d) => d !== 1)) {
      throw new NodeProblem('only selecting from a constant 1-D list (class labels) is supported yet');
    }
    if (indices.dtype !== 'int32') throw new NodeProblem('the indices must be integers', 'invalid-graph');
    const values = data.tensor.data;
    ctx.output(0, { ...ctx.alias(indices, indices.dims), categories: Array.isArray(values) ? values : Array.from(values) });
  },
};

/**
 * ZipMap turns a probability matrix into a list of {label: probability} maps. Compiled away: the output
 * is the probability tensor itself, and the class labels go into the metadata.
 */
const zipMap: OpHandler = {
  lower(ctx) {
    const x = ctx.rt(0);
    if (x.dims.length !== 2) throw new NodeProblem(`expects a 2-D probability matrix, got rank ${x.dims.length}`, 'invalid-graph');
    const strings = ctx.attr('classlabels_strings');
    const ints = ctx.attr('classlabels_int64s');
    const labels = (Array.isArray(strings) && strings.length ? strings : Array.isArray(ints) ? ints : []).map(String);
    if (labels.length !== x.dims[1]) throw new NodeProblem(`has ${labels.length} class labels for ${x.dims[1]} columns`, 'invalid-graph');
    ctx.output(0, { ...ctx.alias(x, x.dims), zipMapLabels: labels });
  },
};

export const ML_OPS: Record<string, OpHandler> = { ArrayFeatureExtractor: arrayFeatureExtractor, ZipMap: zipMap };
