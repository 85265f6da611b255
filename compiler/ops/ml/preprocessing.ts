import { meaning, type OpHandler } from '../op.js';
import { CODES } from '../../abi/codes.js';
import { NodeContext } from '../../lowering/context.js';
import { NodeProblem } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { floats, ints, rowsArg, table, rowValue } from './common.js';
import { lowerBinary } from '../binary.js';
import { lowerConcat } from '../movement.js';
import { castTo, indexValues } from '../elementwise.js';
import { type RtValue, buf, countArg, data, f32, i32 } from '../../program.js';

/**
 * ai.onnx.ml preprocessing: Scaler, Normalizer, Imputer, Binarizer, OneHotEncoder, ArrayFeatureExtractor,
 * LabelEncoder, FeatureVectorizer, and ZipMap (compiled away into a probability tensor plus labels).
 */

const scaler: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const vec = (name: string, fallback: number) => {
      const v = floats(ctx, name);
      if (v.length !== 0 && v.length !== 1 && v.length !== F)
        throw new NodeProblem(`"${name}" has ${v.length} values for ${F} features`, 'invalid-graph');
      return Tensor.fromNumbers('float32', [1, v.length === F ? F : 1], v.length ? v : [fallback]);
    };
    const shifted = lowerBinary(ctx, 'binary_sub', x, { kind: 'const', tensor: vec('offset', 0) });
    ctx.output(0, lowerBinary(ctx, 'binary_mul', shifted, { kind: 'const', tensor: vec('scale', 1) }));
  },
};

const NORMS: Record<string, number> = CODES.NORM;

const normalizer: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const norm = NORMS[ctx.string('norm', 'MAX')];
    if (norm === undefined)
      throw new NodeProblem(`norm "${ctx.string('norm', '')}" is not MAX, L1 or L2`, 'invalid-graph');
    const y = ctx.inPlaceOr(x, x.dims);
    ctx.program.addStep(
      'normalize_rows',
      () => ({ x: buf(x), y: buf(y), rows: rowsArg(x), D: i32(F), norm: i32(norm) }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

const imputer: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const { x, F } = table(ctx);
    const values = floats(ctx, 'imputed_value_floats');
    if (!values.length) throw new NodeProblem('only imputed_value_floats is supported (float inputs)');
    if (values.length !== 1 && values.length !== F)
      throw new NodeProblem(`has ${values.length} imputed values for ${F} features`, 'invalid-graph');
    const replaced = ctx.float('replaced_value_float', 0);
    const ref = ctx.program.addFloats(Float32Array.from(values));
    const y = ctx.inPlaceOr(x, x.dims);
    ctx.program.addStep(
      'impute',
      () => ({
        x: buf(x),
        y: buf(y),
        rows: rowsArg(x),
        D: i32(F),
        values: data(ref),
        nValues: i32(values.length),
        replaced: f32(replaced),
      }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

const binarizer: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const x = ctx.rt(0);
    ctx.output(
      0,
      lowerBinary(ctx, 'binary_greater', x, {
        kind: 'const',
        tensor: Tensor.scalar('float32', ctx.float('threshold', 0)),
      }),
    );
  },
};

const oneHotEncoder: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    // skl2onnx casts the column to int64 first (truncating): compare the truncated codes as floats.
    const x = castTo(ctx, ctx.rtAny(0), 'float32');
    const cats = ints(ctx, 'cats_int64s');
    if (!cats.length) throw new NodeProblem('only integer categories (cats_int64s) are supported');
    const y = { ...ctx.newValue([...x.dims, cats.length]), rowAxis: x.rowAxis };
    const ref = ctx.program.addFloats(Float32Array.from(cats));
    const n = countArg(x);
    ctx.program.addStep('one_hot', () => ({ x: buf(x), y: buf(y), n, cats: data(ref), C: i32(cats.length) }), [x], [y]);
    ctx.output(0, y);
  },
};

/**
 * ArrayFeatureExtractor: from a constant class list by run-time indices (the label of a classifier:
 * the indices stay, the list becomes their categories), or columns of a run-time input.
 */
const arrayFeatureExtractor: OpHandler = {
  inputs: 'X Y',
  lower(ctx) {
    const source = ctx.input(0);
    if (source?.kind === 'const') {
      const indices = indexValues(ctx, ctx.rtAny(1));
      const t = source.tensor;
      if (t.dims.length > 1 && t.dims.slice(0, -1).some((d) => d !== 1))
        throw new NodeProblem('selecting from a constant of rank > 1 is not supported');
      if (indices.dtype !== 'int32') throw new NodeProblem('the indices must be integers', 'invalid-graph');
      const values = Array.isArray(t.data) ? t.data : Array.from(t.data);
      const categories = indices.categories ? indices.categories.map((c) => values[Number(c)]) : values;
      return ctx.output(0, { ...ctx.alias(indices, indices.dims), categories });
    }
    const { x, F } = table(ctx);
    const idx = Array.from(ctx.constant(1, 'indices').numbers);
    if (idx.some((i) => i < 0 || i >= F || !Number.isInteger(i)))
      throw new NodeProblem(`indices [${idx}] are out of range for ${F} columns`, 'invalid-graph');
    const ref = ctx.program.addInts(idx);
    const y = rowValue(ctx, x, [idx.length]);
    ctx.program.addStep(
      'gather_columns',
      () => ({ x: buf(x), y: buf(y), rows: rowsArg(x), D: i32(F), indices: data(ref), K: i32(idx.length) }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

/**
 * LabelEncoder on class indices: compose the mapping into the categories (no run-time work). On numbers
 * (skl2onnx's OrdinalEncoder: float category → int64 code) a run-time lookup.
 */
const labelEncoder: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const x = indexValues(ctx, ctx.rtAny(0));
    if (!x.categories) return numericLabelEncoder(ctx, x);
    const keys: (string | number)[] = (ctx.attr('keys_strings') as string[] | undefined) ?? ints(ctx, 'keys_int64s');
    const values: (string | number)[] =
      (ctx.attr('values_strings') as string[] | undefined) ?? ctx.ints('values_int64s') ?? floats(ctx, 'values_floats');
    if (keys.length !== values.length)
      throw new NodeProblem(`has ${keys.length} keys for ${values.length} values`, 'invalid-graph');
    const fallback =
      typeof values[0] === 'string' ? ctx.string('default_string', '_Unused') : ctx.int('default_int64', -1);
    const map = new Map(keys.map((k, i) => [String(k), values[i]]));
    ctx.output(0, { ...ctx.alias(x, x.dims), categories: x.categories.map((c) => map.get(String(c)) ?? fallback) });
  },
};

function numericLabelEncoder(ctx: NodeContext, x: RtValue): void {
  const keys = floats(ctx, 'keys_floats').length ? floats(ctx, 'keys_floats') : ints(ctx, 'keys_int64s');
  const intValues = ctx.ints('values_int64s');
  const values = intValues ?? floats(ctx, 'values_floats');
  if (!keys.length || !values.length) {
    throw new NodeProblem(
      'only numeric keys_floats/keys_int64s to values_int64s/values_floats are supported on run-time values (strings are not)',
    );
  }
  if (keys.length !== values.length)
    throw new NodeProblem(`has ${keys.length} keys for ${values.length} values`, 'invalid-graph');
  // ONNX defaults: default_int64 −1, default_float −0.0
  const fallback = intValues ? ctx.int('default_int64', -1) : ctx.float('default_float', -0);
  const order = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const sortedKeys = ctx.program.addFloats(Float32Array.from(order, (i) => keys[i]));
  const sortedValues = ctx.program.addFloats(Float32Array.from(order, (i) => values[i]));
  const y: RtValue = { ...ctx.newValue(x.dims, intValues ? 'int32' : 'float32'), rowAxis: x.rowAxis };
  if (intValues) y.onnx = 'int64';
  ctx.program.addStep(
    'label_encode',
    () => ({
      x: buf(x),
      y: buf(y),
      n: countArg(x),
      keys: data(sortedKeys),
      values: data(sortedValues),
      K: i32(keys.length),
      fallback: f32(fallback),
      xInt: i32(x.dtype === 'int32' ? 1 : 0),
      yInt: i32(intValues ? 1 : 0),
    }),
    [x],
    [y],
  );
  ctx.output(0, y);
}

/** FeatureVectorizer: the inputs' columns side by side (each input [N, d]). */
const featureVectorizer: OpHandler = {
  inputs: '...X',
  lower(ctx) {
    const inputs = Array.from({ length: ctx.inputCount }, (_, i) => ctx.rt(i));
    const dims = ctx.ints('inputdimensions') ?? inputs.map((v) => v.dims[1]);
    inputs.forEach((v, i) => {
      if (v.dims.length !== 2 || v.dims[1] !== dims[i])
        throw new NodeProblem(`input ${i} is [${v.dims}], not [N, ${dims[i]}]`, 'invalid-graph');
    });
    ctx.output(0, inputs.length === 1 ? inputs[0] : lowerConcat(ctx, inputs, 1));
  },
};

/**
 * ZipMap turns a probability matrix into a list of {label: probability} maps. Compiled away: the output
 * is the probability tensor itself, and the class labels go into the metadata.
 */
const zipMap: OpHandler = {
  inputs: 'X',
  lower(ctx) {
    const x = ctx.rt(0);
    if (x.dims.length !== 2)
      throw new NodeProblem(`expects a 2-D probability matrix, got rank ${x.dims.length}`, 'invalid-graph');
    const strings = ctx.attr('classlabels_strings');
    const labels = (Array.isArray(strings) && strings.length ? strings : ints(ctx, 'classlabels_int64s')).map(String);
    if (labels.length !== x.dims[1])
      throw new NodeProblem(`has ${labels.length} class labels for ${x.dims[1]} columns`, 'invalid-graph');
    ctx.output(0, { ...ctx.alias(x, x.dims), zipMapLabels: labels });
  },
};

// ---- tree ensembles ------------------------------------------------------------------------------

export const PREPROCESSING_OPS: Record<string, OpHandler> = {
  Scaler: scaler,
  Normalizer: normalizer,
  Imputer: meaning(imputer, { acceptsMissing: true }),
  Binarizer: binarizer,
  OneHotEncoder: oneHotEncoder,
  ArrayFeatureExtractor: arrayFeatureExtractor,
  LabelEncoder: labelEncoder,
  FeatureVectorizer: featureVectorizer,
  ZipMap: zipMap,
};
