import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lower.js';
import { buf, countArg, data, f32, i32, type Arg, type RtValue } from '../program.js';
import { Tensor } from '../tensor.js';
import { lowerBinary } from './elementwise.js';
import { emitGemm } from './gemm.js';
import { lowerConcat } from './structure.js';
import type { OpHandler } from './index.js';

/**
 * ai.onnx.ml: the ops scikit-learn (skl2onnx) and XGBoost/LightGBM (onnxmltools) export. Semantics
 * follow onnxruntime's CPU kernels, which the converters are tested against; class labels travel as
 * `categories` of an int32 index value, mapped by the runtime.
 */

const POST = CODES.POST;

function postTransform(ctx: NodeContext): number {
  const name = ctx.string('post_transform', 'NONE');
  const code = (POST as Record<string, number>)[name];
  if (code === undefined) throw new NodeProblem(`post_transform "${name}" is not supported`, 'invalid-graph');
  return code;
}

function floats(ctx: NodeContext, name: string, required = false): number[] {
  const v = ctx.attr(name) ?? ctx.attr(`${name}_as_tensor`);
  if (v instanceof Tensor) return Array.from(v.numbers);
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'number') return [v];
  if (required) throw new NodeProblem(`the "${name}" attribute is missing`, 'invalid-graph');
  return [];
}

const ints = (ctx: NodeContext, name: string): number[] => ctx.ints(name) ?? [];

/** Class labels (strings or integers), as the classifier attributes name them. */
function classLabels(ctx: NodeContext, strings: string, numbers: string): (string | number)[] {
  const s = ctx.attr(strings);
  if (Array.isArray(s) && s.length) return s as string[];
  return ints(ctx, numbers);
}

/** A 2-D float input [rows, F] (a 1-D input is one row). */
function table(ctx: NodeContext, i = 0): { x: RtValue; F: number } {
  const x = ctx.rt(i);
  if (x.dims.length !== 2 || x.dims[0] !== 1)
    throw new NodeProblem(`expects a 2-D input [N, features], got [${x.dims}]`);
  return { x, F: x.dims[1] };
}

const rowsArg = (x: RtValue): Arg => (x.batched ? { t: 'rows', times: 1 } : i32(1));

/** A label output: int32 class indices standing for `categories`. */
function labelValue(ctx: NodeContext, x: RtValue, categories: (string | number)[]): RtValue {
  return { ...ctx.newValue([1], x.batched, 'int32'), categories };
}

// ---- linear models -------------------------------------------------------------------------------

const linearClassifier: OpHandler = {
  lower(ctx) {
    const { x, F } = table(ctx);
    const coef = floats(ctx, 'coefficients', true);
    const intercepts = floats(ctx, 'intercepts');
    const labels = classLabels(ctx, 'classlabels_strings', 'classlabels_ints');
    const C = intercepts.length || coef.length / F;
    if (coef.length !== C * F)
      throw new NodeProblem(`has ${coef.length} coefficients for ${C} classes × ${F} features`, 'invalid-graph');
    const post = postTransform(ctx);
    const raw = emitGemm(ctx, x, F, C, (k, n) => coef[n * F + k], [1, C]);
    raw.gemm!.bias = Float32Array.from({ length: C }, (_, n) => intercepts[n] ?? 0);
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
      const z = ctx.newValue([1, 2], x.batched);
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
    if (post === POST.NONE || (C === 1 && post !== POST.PROBIT)) return ctx.output(1, { ...raw, gemm: undefined });
    const z = ctx.newValue([1, C], x.batched);
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
  lower(ctx) {
    const { x, F } = table(ctx);
    const coef = floats(ctx, 'coefficients', true);
    const T = ctx.int('targets', 1);
    const intercepts = floats(ctx, 'intercepts');
    if (coef.length !== T * F)
      throw new NodeProblem(`has ${coef.length} coefficients for ${T} targets × ${F} features`, 'invalid-graph');
    if (postTransform(ctx) !== POST.NONE) throw new NodeProblem('only post_transform NONE is supported');
    const y = emitGemm(ctx, x, F, T, (k, n) => coef[n * F + k], [1, T]);
    if (intercepts.length)
      y.gemm!.bias = Float32Array.from({ length: T }, (_, n) => intercepts[intercepts.length === 1 ? 0 : n]);
    ctx.output(0, y);
  },
};

// ---- preprocessing -------------------------------------------------------------------------------

const scaler: OpHandler = {
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
  lower(ctx) {
    const { x, F } = table(ctx);
    const norm = NORMS[ctx.string('norm', 'MAX')];
    if (norm === undefined)
      throw new NodeProblem(`norm "${ctx.string('norm', '')}" is not MAX, L1 or L2`, 'invalid-graph');
    const y = ctx.inPlaceOr(x, x.dims, x.batched);
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
  lower(ctx) {
    const { x, F } = table(ctx);
    const values = floats(ctx, 'imputed_value_floats');
    if (!values.length) throw new NodeProblem('only imputed_value_floats is supported (float inputs)');
    if (values.length !== 1 && values.length !== F)
      throw new NodeProblem(`has ${values.length} imputed values for ${F} features`, 'invalid-graph');
    const replaced = ctx.float('replaced_value_float', 0);
    const ref = ctx.program.addFloats(Float32Array.from(values));
    const y = ctx.inPlaceOr(x, x.dims, x.batched);
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
  lower(ctx) {
    let x = ctx.rtAny(0);
    if (x.dtype === 'int32') {
      // skl2onnx casts the column to int64 first (truncating): compare the truncated codes as floats.
      const f = ctx.newValue(x.dims, x.batched);
      f.batchAxis = x.batchAxis;
      const from = x;
      ctx.program.addStep('cast_i32_f32', () => ({ x: buf(from), y: buf(f), n: countArg(from) }), [from], [f]);
      x = f;
    }
    const cats = ints(ctx, 'cats_int64s');
    if (!cats.length) throw new NodeProblem('only integer categories (cats_int64s) are supported');
    const y = ctx.newValue([...x.dims, cats.length], x.batched);
    const ref = ctx.program.addFloats(Float32Array.from(cats));
    const per = x.dims.reduce((a, b) => a * b, 1);
    const n: Arg = x.batched ? { t: 'rows', times: per } : i32(per);
    ctx.program.addStep('one_hot', () => ({ x: buf(x), y: buf(y), n, cats: data(ref), C: i32(cats.length) }), [x], [y]);
    ctx.output(0, y);
  },
};

/**
 * ArrayFeatureExtractor: from a constant class list by run-time indices (the label of a classifier:
 * the indices stay, the list becomes their categories), or columns of a run-time input.
 */
const arrayFeatureExtractor: OpHandler = {
  lower(ctx) {
    const source = ctx.input(0);
    if (source?.kind === 'const') {
      const indices = ctx.rtAny(1);
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
    const y = ctx.newValue([1, idx.length], x.batched);
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
  lower(ctx) {
    const x = ctx.rtAny(0);
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
  const y = ctx.newValue(x.dims, x.batched, intValues ? 'int32' : 'float32');
  y.batchAxis = x.batchAxis;
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

/**
 * ZipMap turns a probability matrix into a list of {label: probability} maps. Compiled away: the output
 * is the probability tensor itself, and the class labels go into the metadata.
 */
const zipMap: OpHandler = {
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

const AGGREGATES: Record<string, number> = CODES.AGG;
const SPLIT_MODES = new Set(['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ']);

interface Forest {
  nodes: Int32Array; // 4 words a node, the kernel's layout (assembly/ml.ts tree ensembles)
  trees: Int32Array; // (root byte offset, height) a tree
  table: Int32Array; // leaf payloads: count, then (target byte offset, weight bits) pairs
  nTrees: number;
  nanLeft: boolean; // some node sends a missing value left
}

/** A split as the kernel evaluates it: `x[feature] <= threshold` → left, else right. */
interface Test {
  feature: number;
  threshold: number;
  left: Ref;
  right: Ref;
  nanLeft: boolean;
}
/** A node of the normalised graph: an ONNX node index, or the second test of an EQ/NEQ split. */
type Ref = number | { second: Test };

const float32 = new Float32Array(1);
const bits = new Int32Array(float32.buffer);
const NAN_BITS = 0x7fc00000;

/** The float32 just below f (a float32 number), or NaN below −∞. */
function stepDown(f: number): number {
  if (f === -Infinity) return NaN;
  float32[0] = f;
  if (f === 0) bits[0] = 0x80000001;
  else bits[0] += f > 0 ? -1 : 1;
  return float32[0];
}

/**
 * The largest float32 ≤ t, so `v <= t` is `v <= atMost(t)` for every float32 v; thresholds given as
 * doubles (nodes_values_as_tensor) compare exactly too.
 */
function atMost(t: number): number {
  const f = Math.fround(t);
  return f > t ? stepDown(f) : f;
}

/** The largest float32 < t: `v < t` is `v <= below(t)`. NaN when there is none (t is −∞). */
function below(t: number): number {
  const f = atMost(t);
  return f === t ? stepDown(f) : f;
}

/**
 * Normalise one ONNX split into the kernel's single test. LT/GTE use the float below t; GTE/GT
 * swap the children; EQ/NEQ become two tests (≤ t, then ≤ below(t)) sharing the not-equal child.
 * A missing value fails every test and goes right unless `nanLeft`, so it is set where ONNX sends
 * NaN (the false child, or the true child for NEQ or missing_value_tracks_true) to the left child.
 */
function normalise(
  mode: string,
  feature: number,
  t: number,
  onTrue: number,
  onFalse: number,
  tracksTrue: boolean,
): Test {
  const nanTo = tracksTrue || mode === 'BRANCH_NEQ' ? onTrue : onFalse;
  const test = (threshold: number, left: Ref, right: Ref, nanGoes: Ref): Test => ({
    feature,
    threshold,
    left,
    right,
    nanLeft: nanGoes === left && left !== right,
  });
  if (t !== t) {
    // every comparison with a NaN threshold is false: NEQ is always true
    const always = mode === 'BRANCH_NEQ' ? onTrue : onFalse;
    return test(NaN, nanTo, always, nanTo);
  }
  switch (mode) {
    case 'BRANCH_LEQ':
      return test(atMost(t), onTrue, onFalse, nanTo);
    case 'BRANCH_LT':
      return test(below(t), onTrue, onFalse, nanTo);
    case 'BRANCH_GTE':
      return test(below(t), onFalse, onTrue, nanTo);
    case 'BRANCH_GT':
      return test(atMost(t), onFalse, onTrue, nanTo);
    default: {
      const [equal, unequal] = mode === 'BRANCH_EQ' ? [onTrue, onFalse] : [onFalse, onTrue];
      const second: Ref = { second: { feature, threshold: below(t), left: unequal, right: equal, nanLeft: false } };
      return test(atMost(t), second, unequal, nanTo === equal ? second : unequal);
    }
  }
}

/** Flatten the attribute arrays into the kernel's node, tree and payload arrays (assembly/ml.ts). */
function buildForest(ctx: NodeContext, F: number, prefix: 'class' | 'target', nOut: number): Forest {
  const treeIds = ints(ctx, 'nodes_treeids');
  const nodeIds = ints(ctx, 'nodes_nodeids');
  const features = ints(ctx, 'nodes_featureids');
  const modes = (ctx.attr('nodes_modes') as string[] | undefined) ?? [];
  const values = floats(ctx, 'nodes_values');
  const trues = ints(ctx, 'nodes_truenodeids');
  const falses = ints(ctx, 'nodes_falsenodeids');
  const missing = ints(ctx, 'nodes_missing_value_tracks_true');
  const n = treeIds.length;
  if ([nodeIds, features, modes, trues, falses].some((a) => a.length !== n) || values.length !== n) {
    throw new NodeProblem('the nodes_* attributes have different lengths', 'invalid-graph');
  }
  // tree id → node id → attribute index
  const index = new Map<number, Map<number, number>>();
  treeIds.forEach((t, i) => (index.get(t) ?? index.set(t, new Map()).get(t)!).set(nodeIds[i], i));
  const indexOf = (t: number, id: number) => index.get(t)?.get(id);
  const weights = new Map<number, [number, number][]>();
  const wTrees = ints(ctx, `${prefix}_treeids`);
  const wNodes = ints(ctx, `${prefix}_nodeids`);
  const wIds = ints(ctx, `${prefix}_ids`);
  const wValues = floats(ctx, `${prefix}_weights`);
  wTrees.forEach((t, i) => {
    const at = indexOf(t, wNodes[i]);
    if (at === undefined)
      throw new NodeProblem(`a weight names node ${wNodes[i]} of tree ${t}, which does not exist`, 'invalid-graph');
    if (wIds[i] < 0 || wIds[i] >= nOut)
      throw new NodeProblem(`a weight targets ${prefix} ${wIds[i]} of ${nOut}`, 'invalid-graph');
    (weights.get(at) ?? weights.set(at, []).get(at)!).push([wIds[i], wValues[i]]);
  });

  const testOf = (i: number): Test | undefined => {
    if (modes[i] === 'LEAF') return undefined;
    if (!SPLIT_MODES.has(modes[i])) throw new NodeProblem(`node mode "${modes[i]}" is not supported`, 'invalid-graph');
    if (features[i] < 0 || features[i] >= F)
      throw new NodeProblem(
        `node ${nodeIds[i]} of tree ${treeIds[i]} reads feature ${features[i]} of ${F}`,
        'invalid-graph',
      );
    const child = (id: number) => {
      const at = indexOf(treeIds[i], id);
      if (at === undefined)
        throw new NodeProblem(`node ${nodeIds[i]} of tree ${treeIds[i]} points to missing node ${id}`, 'invalid-graph');
      return at;
    };
    return normalise(modes[i], features[i], values[i], child(trues[i]), child(falses[i]), !!missing[i]);
  };

  // Lay each tree out depth-first with a node's left child right after it. A node reached a second
  // time (exporters don't share nodes, but ONNX allows it) gets a jump: a test that always fails.
  const words: number[] = [];
  const tableWords: number[] = [];
  const trees: number[] = [];
  // where each node went (−1: not yet); EQ/NEQ second tests by identity
  const placedNode = new Int32Array(n).fill(-1);
  const placedSecond = new Map<Ref, number>();
  const placedAt = (ref: Ref) => (typeof ref === 'number' ? placedNode[ref] : (placedSecond.get(ref) ?? -1));
  const patches: [number, Ref][] = []; // word index of a `right` field, node it names
  const emitTest = (feature: number, threshold: number, right: Ref, nanLeft: boolean) => {
    float32[0] = threshold;
    patches.push([words.length + 2, right]);
    words.push(feature * 4, bits[0], 0, nanLeft ? 1 : 0);
  };
  let nanLeft = false;
  const roots = new Map<number, number>();
  treeIds.forEach((t, i) => roots.has(t) || roots.set(t, i));
  // A tree's root is the node no other node points to; exporters list it first.
  for (const [tree, root] of [...roots.entries()].sort((a, b) => a[0] - b[0])) {
    const first = words.length / 4;
    const todo: Ref[] = [root];
    while (todo.length) {
      let ref: Ref | undefined = todo.pop()!;
      while (ref !== undefined && placedAt(ref) < 0) {
        if (typeof ref === 'number') placedNode[ref] = words.length / 4;
        else placedSecond.set(ref, words.length / 4);
        const test: Test | undefined = typeof ref === 'number' ? testOf(ref) : ref.second;
        if (!test) {
          // a leaf: its payload goes in the table (each node is placed once, so each leaf is written once)
          const payload = tableWords.length;
          const w = weights.get(ref as number) ?? [];
          tableWords.push(w.length);
          for (const [target, value] of w) {
            float32[0] = value;
            tableWords.push(target * 4, bits[0]);
          }
          words.push(0, NAN_BITS, (words.length / 4) * 16, -1 - payload);
          break;
        }
        nanLeft ||= test.nanLeft;
        emitTest(test.feature, test.threshold, test.right, test.nanLeft);
        todo.push(test.right);
        if (placedAt(test.left) >= 0) {
          // the left child is elsewhere: jump to it
          emitTest(0, NaN, test.left, false);
          break;
        }
        ref = test.left;
      }
    }
    for (const [at, ref] of patches.splice(0)) words[at] = placedAt(ref) * 16;
    trees.push(first * 16, treeHeight(words, first, tree));
  }
  return {
    nodes: Int32Array.from(words),
    trees: Int32Array.from(trees),
    table: Int32Array.from(tableWords),
    nTrees: roots.size,
    nanLeft,
  };
}

/**
 * The most steps a walk from `root` takes to its leaf — the kernel walks every row that many steps.
 * Refuses a tree with a cycle, whose walk would never reach a leaf.
 */
function treeHeight(words: number[], root: number, tree: number): number {
  // per node of this tree (they are words[root * 4 ..]): −1 not seen, −2 on the current path, else its height
  const height = new Int32Array(words.length / 4 - root).fill(-1);
  const stack = [root];
  while (stack.length) {
    const at = stack[stack.length - 1];
    if (words[at * 4 + 3] < 0) {
      height[at - root] = 0;
      stack.pop();
      continue;
    }
    height[at - root] = -2;
    // a NaN threshold never goes left, unless a missing value is sent there
    const leftTaken = (words[at * 4 + 1] & 0x7fffffff) <= 0x7f800000 || words[at * 4 + 3] > 0;
    const right = words[at * 4 + 2] / 16;
    const next = leftTaken && height[at + 1 - root] < 0 ? at + 1 : height[right - root] < 0 ? right : -1;
    if (next < 0) {
      height[at - root] = 1 + Math.max(leftTaken ? height[at + 1 - root] : 0, height[right - root]);
      stack.pop();
    } else if (height[next - root] === -2) {
      throw new NodeProblem(
        `tree ${tree} has a cycle: following its nodes can come back to the same node, so some rows never reach a leaf`,
        'invalid-graph',
      );
    } else {
      stack.push(next);
    }
  }
  return height[0];
}

/** Emit tree_accumulate; returns the accumulators for the finalisation kernel. */
function accumulate(ctx: NodeContext, x: RtValue, F: number, forest: Forest, nOut: number, aggregate: number) {
  const nodes = ctx.program.addData(new Uint8Array(forest.nodes.buffer));
  const trees = ctx.program.addData(new Uint8Array(forest.trees.buffer));
  const table = ctx.program.addData(new Uint8Array(forest.table.buffer));
  const acc = ctx.newValue([1, nOut], x.batched);
  const has = ctx.newValue([1, nOut], x.batched, 'int32');
  ctx.program.addStep(
    'tree_accumulate',
    () => ({
      x: buf(x),
      F: i32(F),
      rows: rowsArg(x),
      nodes: data(nodes),
      trees: data(trees),
      nTrees: i32(forest.nTrees),
      table: data(table),
      nOut: i32(nOut),
      aggregate: i32(aggregate),
      nanLeft: i32(forest.nanLeft ? 1 : 0),
      acc: buf(acc),
      has: buf(has),
    }),
    [x],
    [acc, has],
  );
  return { acc, has };
}

const treeEnsembleRegressor: OpHandler = {
  lower(ctx) {
    const { x, F } = table(ctx);
    const T = ctx.int('n_targets', 1);
    const aggregate = AGGREGATES[ctx.string('aggregate_function', 'SUM')];
    if (aggregate === undefined)
      throw new NodeProblem(
        `aggregate_function "${ctx.string('aggregate_function', '')}" is not supported`,
        'invalid-graph',
      );
    const forest = buildForest(ctx, F, 'target', T);
    const { acc, has } = accumulate(ctx, x, F, forest, T, aggregate);
    const base = floats(ctx, 'base_values');
    const baseRef = ctx.program.addFloats(Float32Array.from(base.length ? base : [0]));
    const post = postTransform(ctx);
    const y = ctx.newValue([1, T], x.batched);
    ctx.program.addStep(
      'tree_finalize_regressor',
      () => ({
        acc: buf(acc),
        has: buf(has),
        scores: buf(y),
        rows: rowsArg(x),
        nOut: i32(T),
        nTrees: i32(forest.nTrees),
        aggregate: i32(aggregate),
        base: data(baseRef),
        nBase: i32(base.length),
        post: i32(post),
      }),
      [acc, has],
      [y],
    );
    ctx.output(0, y);
  },
};

const treeEnsembleClassifier: OpHandler = {
  lower(ctx) {
    const { x, F } = table(ctx);
    const labels = classLabels(ctx, 'classlabels_strings', 'classlabels_int64s');
    const C = labels.length;
    if (C < 2) throw new NodeProblem(`needs at least two class labels, has ${C}`);
    const forest = buildForest(ctx, F, 'class', C);
    const { acc, has } = accumulate(ctx, x, F, forest, C, AGGREGATES.SUM);
    const base = floats(ctx, 'base_values');
    const baseRef = ctx.program.addFloats(Float32Array.from(base.length ? base : [0]));
    const classIds = ints(ctx, 'class_ids');
    const binaryCase = C === 2 && new Set(classIds).size === 1 ? 1 : 0;
    const allPositive = floats(ctx, 'class_weights').every((w) => w >= 0) ? 1 : 0;
    const post = postTransform(ctx);
    const y = labelValue(ctx, x, labels);
    const z = ctx.newValue([1, C], x.batched);
    ctx.program.addStep(
      'tree_finalize_classifier',
      () => ({
        acc: buf(acc),
        has: buf(has),
        scores: buf(z),
        labels: buf(y),
        rows: rowsArg(x),
        C: i32(C),
        base: data(baseRef),
        nBase: i32(base.length),
        post: i32(post),
        binaryCase: i32(binaryCase),
        allPositive: i32(allPositive),
      }),
      [acc, has],
      [z, y],
    );
    ctx.output(0, y);
    ctx.output(1, z);
  },
};

// ---- support vector machines ---------------------------------------------------------------------

const KERNELS: Record<string, number> = { LINEAR: 0, POLY: 1, RBF: 2, SIGMOID: 3 };

/** Kernel values of x against the support vectors, as f64 [rows, V] (assembly/ml.ts svm_kernel). */
function kernelValues(ctx: NodeContext, x: RtValue, F: number, sv: number[], V: number): RtValue {
  const kind = KERNELS[ctx.string('kernel_type', 'LINEAR')];
  if (kind === undefined)
    throw new NodeProblem(`kernel_type "${ctx.string('kernel_type', '')}" is not supported`, 'invalid-graph');
  const [gamma = 0, coef0 = 0, degree = 0] = floats(ctx, 'kernel_params');
  const ref = ctx.program.addFloats(Float32Array.from(sv));
  const k = ctx.newValue([1, 2 * V], x.batched); // f64 values: two floats each
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
    const z = ctx.newValue([1, cols], x.batched);
    const y = labelValue(ctx, x, labels);
    // votes (C i32) + decision values (pairs f32) + alignment + 2C² + 2C doubles
    const work = ctx.newValue([C + pairs + 2 + 2 * (2 * C * C + 2 * C)], false);
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
  lower(ctx) {
    const { x, F } = table(ctx);
    const coef = floats(ctx, 'coefficients', true);
    const rho = floats(ctx, 'rho', true);
    const V = ctx.int('n_supports', 0);
    if (postTransform(ctx) !== POST.NONE) throw new NodeProblem('only post_transform NONE is supported');
    if (V === 0) {
      // liblinear mode: y = x·coef + rho
      const y = emitGemm(ctx, x, F, 1, (f) => coef[f], [1, 1]);
      y.gemm!.bias = Float32Array.of(rho[0]);
      return ctx.output(0, y);
    }
    const sv = floats(ctx, 'support_vectors', true);
    if (sv.length !== V * F || coef.length < V)
      throw new NodeProblem('support vectors or coefficients do not match n_supports', 'invalid-graph');
    const k = kernelValues(ctx, x, F, sv, V);
    const coefRef = ctx.program.addFloats(Float32Array.from(coef.slice(0, V)));
    const y = ctx.newValue([1, 1], x.batched);
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

/** FeatureVectorizer: the inputs' columns side by side (each input [N, d]). */
const featureVectorizer: OpHandler = {
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

export const ML_OPS: Record<string, OpHandler> = {
  ArrayFeatureExtractor: arrayFeatureExtractor,
  ZipMap: zipMap,
  LinearClassifier: linearClassifier,
  LinearRegressor: linearRegressor,
  Scaler: scaler,
  Normalizer: normalizer,
  Imputer: imputer,
  Binarizer: binarizer,
  OneHotEncoder: oneHotEncoder,
  LabelEncoder: labelEncoder,
  TreeEnsembleClassifier: treeEnsembleClassifier,
  TreeEnsembleRegressor: treeEnsembleRegressor,
  SVMClassifier: svmClassifier,
  SVMRegressor: svmRegressor,
  FeatureVectorizer: featureVectorizer,
};
