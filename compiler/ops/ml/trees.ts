import { meaning, type OpHandler } from '../op.js';
import { CODES } from '../../abi/codes.js';
import { NodeContext } from '../../lowering/context.js';
import { NodeProblem } from '../../errors.js';
import { classLabels, floats, ints, labelValue, postTransform, rowsArg, table, rowValue } from './common.js';
import { type RtValue, buf, data, i32 } from '../../program.js';

/**
 * ai.onnx.ml tree ensembles (TreeEnsembleClassifier/Regressor): forests laid out for the branch-free walk of
 * assembly/trees.ts.
 */

const AGGREGATES: Record<string, number> = CODES.AGG;

const SPLIT_MODES = new Set(['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ']);

interface Forest {
  nodes: Int32Array; // 4 words a node, the kernel's layout (assembly/trees.ts)
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

/** Flatten the attribute arrays into the kernel's node, tree and payload arrays (assembly/trees.ts). */
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
  const acc = rowValue(ctx, x, [nOut]);
  const has = rowValue(ctx, x, [nOut], 'int32');
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
  inputs: 'X',
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
    const y = rowValue(ctx, x, [T]);
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
  inputs: 'X',
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
    const z = rowValue(ctx, x, [C]);
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

export const TREE_OPS: Record<string, OpHandler> = {
  TreeEnsembleClassifier: meaning(treeEnsembleClassifier, { acceptsMissing: true }),
  TreeEnsembleRegressor: meaning(treeEnsembleRegressor, { acceptsMissing: true, outputKind: 'values' }),
};
