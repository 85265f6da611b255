// Tree ensembles (ai.onnx.ml TreeEnsembleClassifier/Regressor), walked branch-free.

import { logistic, probit, postRow } from "./scores";
import { POST_LOGISTIC, POST_PROBIT, AGG_SUM, AGG_AVERAGE, AGG_MIN } from "./generated/abi";

// The compiler normalises every split to one test, `x[feature] <= threshold` → next node, else → the
// node at `right` (compiler/ops/ml/trees.ts buildForest), so a walk is branch-free: nodes are 16 bytes
// [feature byte offset, threshold, right (byte offset), nanLeft] laid out so the left child follows
// its parent. A leaf is [0, NaN, itself, -(payload + 1)]: every test fails there, so walking a tree
// for its height always ends on the row's leaf. `trees` holds (root byte offset, height) pairs; a
// payload in `table` is [count, (target byte offset, weight) × count].


// One step down. A NaN fails `<=` and goes right unless the node says missing values go left; the
// NaN-aware walk is only taken when the batch has a NaN and the forest has such a node.
// @ts-ignore: decorator
@inline function step(nodes: usize, p: usize, row: usize, nanAware: bool): usize {
  const v = load<f32>(row + <usize>load<i32>(p));
  let left = v <= load<f32>(p, 4);
  if (nanAware) left = left | ((v != v) & (load<i32>(p, 12) > 0));
  return select<usize>(p + 16, nodes + <usize>load<i32>(p, 8), left);
}

// @ts-ignore: decorator
@inline function addLeaf(p: usize, table: usize, at: usize, has: usize, aggregate: i32): void {
  let w = table + (<usize>(-1 - load<i32>(p, 12)) << 2);
  const count = load<i32>(w);
  for (let k = 0; k < count; k++, w += 8) {
    const o = at + <usize>load<i32>(w, 4);
    const v = load<f32>(w, 8);
    if (aggregate >= AGG_MIN) {
      const cur = load<f32>(o);
      const seen = load<i32>(has - at + o) != 0;
      store<f32>(o, !seen || (aggregate == AGG_MIN ? v < cur : v > cur) ? v : cur);
    } else {
      store<f32>(o, load<f32>(o) + v);
    }
    store<i32>(has - at + o, 1);
  }
}

// Trees outer, rows inner (a tree's nodes stay in cache across the batch). Eight rows walk a tree
// together so their loads overlap instead of each waiting on the last, until all eight are at leaves
// (at most the tree's height).
// @ts-ignore: decorator
@inline function walkForest(
  x: usize, rowBytes: usize, rows: i32, nodes: usize, trees: usize, nTrees: i32,
  table: usize, outBytes: usize, aggregate: i32, acc: usize, has: usize, nanAware: bool,
): void {
  for (let t = 0; t < nTrees; t++) {
    const root = nodes + <usize>load<i32>(trees + (<usize>t << 3));
    const height = load<i32>(trees + (<usize>t << 3), 4);
    let r = 0;
    for (; r + 8 <= rows; r += 8) {
      const x0 = x + <usize>r * rowBytes;
      const x1 = x0 + rowBytes;
      const x2 = x1 + rowBytes;
      const x3 = x2 + rowBytes;
      const x4 = x3 + rowBytes;
      const x5 = x4 + rowBytes;
      const x6 = x5 + rowBytes;
      const x7 = x6 + rowBytes;
      let p0 = root, p1 = root, p2 = root, p3 = root, p4 = root, p5 = root, p6 = root, p7 = root;
      for (let s = 0; s < height; s++) {
        p0 = step(nodes, p0, x0, nanAware);
        p1 = step(nodes, p1, x1, nanAware);
        p2 = step(nodes, p2, x2, nanAware);
        p3 = step(nodes, p3, x3, nanAware);
        p4 = step(nodes, p4, x4, nanAware);
        p5 = step(nodes, p5, x5, nanAware);
        p6 = step(nodes, p6, x6, nanAware);
        p7 = step(nodes, p7, x7, nanAware);
        const leaves = load<i32>(p0, 12) & load<i32>(p1, 12) & load<i32>(p2, 12) & load<i32>(p3, 12)
          & load<i32>(p4, 12) & load<i32>(p5, 12) & load<i32>(p6, 12) & load<i32>(p7, 12);
        if (leaves < 0) break;
      }
      const a = acc + <usize>r * outBytes;
      const h = has + <usize>r * outBytes;
      addLeaf(p0, table, a, h, aggregate);
      addLeaf(p1, table, a + 1 * outBytes, h + 1 * outBytes, aggregate);
      addLeaf(p2, table, a + 2 * outBytes, h + 2 * outBytes, aggregate);
      addLeaf(p3, table, a + 3 * outBytes, h + 3 * outBytes, aggregate);
      addLeaf(p4, table, a + 4 * outBytes, h + 4 * outBytes, aggregate);
      addLeaf(p5, table, a + 5 * outBytes, h + 5 * outBytes, aggregate);
      addLeaf(p6, table, a + 6 * outBytes, h + 6 * outBytes, aggregate);
      addLeaf(p7, table, a + 7 * outBytes, h + 7 * outBytes, aggregate);
    }
    for (; r < rows; r++) {
      const row = x + <usize>r * rowBytes;
      // one row alone: stop at its leaf rather than at the tree's height
      let p = root;
      while (load<i32>(p, 12) >= 0) p = step(nodes, p, row, nanAware);
      const a = acc + <usize>r * outBytes;
      addLeaf(p, table, a, has - acc + a, aggregate);
    }
  }
}

/**
 * Accumulate every tree's leaf weights for each row: acc [rows, nOut] and has [rows, nOut] (i32
 * flags: whether any leaf scored that target, which the finalisation needs). `nanLeft` says whether
 * any node sends missing values left, which needs the slower NaN-aware walk when the batch has one.
 */
export function tree_accumulate(
  x: usize, F: i32, rows: i32, nodes: usize, trees: usize, nTrees: i32,
  table: usize, nOut: i32, aggregate: i32, nanLeft: i32, acc: usize, has: usize,
): void {
  const n = <usize>(rows * nOut) << 2;
  memory.fill(acc, 0, n);
  memory.fill(has, 0, n);
  const rowBytes = <usize>F << 2;
  const outBytes = <usize>nOut << 2;
  if (nanLeft != 0 && hasNaN(x, rows * F)) {
    walkForest(x, rowBytes, rows, nodes, trees, nTrees, table, outBytes, aggregate, acc, has, true);
  } else {
    walkForest(x, rowBytes, rows, nodes, trees, nTrees, table, outBytes, aggregate, acc, has, false);
  }
}

function hasNaN(x: usize, n: i32): bool {
  let any = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    any = v128.or(any, f32x4.ne(v, v));
  }
  let found = v128.any_true(any);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    found = found || v != v;
  }
  return found;
}

/**
 * TreeEnsembleRegressor finalisation (onnxruntime's FinalizeScores/FinalizeScores1): base values,
 * averaging, post-transform. scores may equal acc.
 */
export function tree_finalize_regressor(
  acc: usize, has: usize, scores: usize, rows: i32, nOut: i32, nTrees: i32, aggregate: i32,
  base: usize, nBase: i32, post: i32,
): void {
  const useBase = nBase == nOut;
  const origin: f32 = nBase == 1 ? load<f32>(base) : 0;
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * nOut) << 2;
    for (let j = 0; j < nOut; j++) {
      const at = row + (<usize>j << 2);
      let s = load<f32>(acc + at);
      const seen = load<i32>(has + at) != 0;
      if (nOut == 1) {
        if (aggregate == AGG_AVERAGE) s = s / <f32>nTrees + origin;
        else if (aggregate == AGG_SUM) s = s + origin;
        else s = seen ? s + origin : origin;
        if (post == POST_PROBIT) s = probit(s);
      } else {
        const b: f32 = useBase ? load<f32>(base + (<usize>j << 2)) : 0;
        if (aggregate == AGG_AVERAGE) s = s / <f32>nTrees + b;
        else if (aggregate == AGG_SUM) s = s + b;
        else s = b + (seen ? s : 0);
      }
      store<f32>(scores + at, s);
    }
    if (nOut > 1) postRow(scores + row, nOut, post);
  }
}

/**
 * TreeEnsembleClassifier finalisation, port of onnxruntime's TreeAggregatorClassifier::FinalizeScores
 * for C ≥ 2 classes: base values, the binary special cases, the label (a class index) and the
 * post-transform. scores is [rows, C]; acc/has come from tree_accumulate with nOut = C.
 */
export function tree_finalize_classifier(
  acc: usize, has: usize, scores: usize, labels: usize, rows: i32, C: i32,
  base: usize, nBase: i32, post: i32, binaryCase: i32, allPositive: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const a = acc + (<usize>(r * C) << 2);
    const h = has + (<usize>(r * C) << 2);
    const out = scores + (<usize>(r * C) << 2);
    let label = 0;
    if (C > 2) {
      for (let k = 0; k < nBase && k < C; k++) {
        const b = load<f32>(base + (<usize>k << 2));
        if (load<i32>(h + (<usize>k << 2)) == 0) {
          store<i32>(h + (<usize>k << 2), 1);
          store<f32>(a + (<usize>k << 2), b);
        } else {
          store<f32>(a + (<usize>k << 2), load<f32>(a + (<usize>k << 2)) + b);
        }
      }
      let best: f32 = 0;
      let at = -1;
      for (let k = 0; k < C; k++) {
        const v = load<f32>(a + (<usize>k << 2));
        if (load<i32>(h + (<usize>k << 2)) != 0 && (at == -1 || v > best)) {
          best = v;
          at = k;
        }
      }
      label = at < 0 ? 0 : at;
      for (let k = 0; k < C; k++) store<f32>(out + (<usize>k << 2), load<f32>(a + (<usize>k << 2)));
      postRow(out, C, post);
    } else {
      let s0 = load<f32>(a);
      let s1 = load<f32>(a, 4);
      const has0 = load<i32>(h) != 0;
      let has1 = load<i32>(h, 4) != 0;
      let size = 2;
      let extra = -1;
      if (nBase == 2) {
        if (has1) {
          // onnxruntime: base_values[0] is ignored here (it assumes both are equal).
          s1 = load<f32>(base, 4) + s0;
          s0 = -s1;
        } else {
          s1 += load<f32>(base, 4);
          s0 += load<f32>(base);
        }
      } else if (nBase == 1) {
        s0 += load<f32>(base);
        if (!has1) size = 1;
      } else {
        extra = 3;
        if (!has1) size = 1;
      }
      // _set_score_binary
      const pos: f32 = size == 2 && has1 ? s1 : has0 ? s0 : 0;
      if (binaryCase != 0) {
        if (allPositive != 0) {
          if (pos > 0.5) { extra = 0; label = 1; } else { extra = 1; label = 0; }
        } else {
          if (pos > 0) { extra = 2; label = 1; } else { extra = 3; label = 0; }
        }
      } else {
        label = pos > 0 ? 1 : 0;
      }
      if (size == 2) {
        store<f32>(out, s0);
        store<f32>(out, s1, 4);
        postRow(out, 2, post);
      } else if (post == POST_PROBIT) {
        store<f32>(out, probit(s0));
        store<f32>(out, 0, 4);
      } else if (extra == 0 || extra == 1) {
        store<f32>(out, 1 - s0);
        store<f32>(out, s0, 4);
      } else if (extra == 2 || extra == 3) {
        if (post == POST_LOGISTIC) {
          store<f32>(out, logistic(-s0));
          store<f32>(out, logistic(s0), 4);
        } else {
          store<f32>(out, -s0);
          store<f32>(out, s0, 4);
        }
      } else {
        store<f32>(out, s0);
        store<f32>(out, 0, 4);
      }
    }
    if (labels != 0) store<i32>(labels + (<usize>r << 2), label);
  }
}
