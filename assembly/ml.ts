// Kernels for classic machine learning (ai.onnx.ml): tree ensembles, SVMs, score post-transforms,
// Normalizer, Imputer, OneHotEncoder, column gathers. Semantics follow onnxruntime's CPU kernels
// (the reference the converters are tested against), except where noted to match the source library.

import { exp64, log64, powf } from "./binary";
import { vexp, vtanh } from "./vmath";
import {
  POST_NONE, POST_LOGISTIC, POST_SOFTMAX, POST_SOFTMAX_ZERO, POST_PROBIT, AGG_SUM, AGG_AVERAGE, AGG_MIN, AGG_MAX,
  SVM_LINEAR, SVM_POLY, SVM_RBF, SVM_SIGMOID, NORM_MAX, NORM_L1, NORM_L2, TWO_CLASS_COMPLEMENT,
} from "./generated/abi";

// @ts-ignore: decorator
@inline function expf_(x: f32): f32 { return f32x4.extract_lane(vexp(f32x4.splat(x)), 0); }
// @ts-ignore: decorator
@inline function tanhf_(x: f32): f32 { return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0); }

// onnxruntime's ComputeLogistic: stable for large |x|.
// @ts-ignore: decorator
@inline function logistic(x: f32): f32 {
  const v: f32 = 1.0 / (1.0 + expf_(-abs<f32>(x)));
  return x < 0 ? 1.0 - v : v;
}

// onnxruntime's ErfInv approximation (Winitzki), used by PROBIT.
// @ts-ignore: decorator
@inline function probit(x: f32): f32 {
  let v: f32 = 2 * x - 1;
  const sgn: f32 = v < 0 ? -1.0 : 1.0;
  v = (1 - v) * (1 + v);
  // outside (0, 1) the inverse CDF is undefined: onnxruntime's std::log gives NaN (−inf at 0 and 1 → ±inf)
  if (!(v > 0)) return v == 0 ? sgn * Infinity : NaN;
  const l = <f32>log64(<f64>v);
  const a: f32 = 2 / (<f32>3.14159 * <f32>0.147) + <f32>0.5 * l;
  const b: f32 = (<f32>1 / <f32>0.147) * l;
  const c: f32 = -a + sqrt<f32>(a * a - b);
  return <f32>1.41421356 * sgn * sqrt<f32>(c);
}


/** One row of C scores, in place: onnxruntime's write_scores for C ≥ 2. */
function postRow(s: usize, C: i32, post: i32): void {
  if (post == POST_LOGISTIC) {
    for (let j = 0; j < C; j++) store<f32>(s + (<usize>j << 2), logistic(load<f32>(s + (<usize>j << 2))));
  } else if (post == POST_PROBIT) {
    for (let j = 0; j < C; j++) store<f32>(s + (<usize>j << 2), probit(load<f32>(s + (<usize>j << 2))));
  } else if (post == POST_SOFTMAX || post == POST_SOFTMAX_ZERO) {
    let vmax: f32 = -3.4028234663852886e38;
    for (let j = 0; j < C; j++) vmax = max<f32>(vmax, load<f32>(s + (<usize>j << 2)));
    const expNegMax = expf_(-vmax);
    let sum: f32 = 0;
    for (let j = 0; j < C; j++) {
      const p = s + (<usize>j << 2);
      const v = load<f32>(p);
      // SOFTMAX_ZERO leaves zero scores (classes no tree voted for) at zero probability.
      if (post == POST_SOFTMAX || v > <f32>0.0000001 || v < <f32>-0.0000001) {
        const e = expf_(v - vmax);
        store<f32>(p, e);
        sum += e;
      } else {
        store<f32>(p, v * expNegMax);
      }
    }
    for (let j = 0; j < C; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) / sum);
  }
}

/** Row-wise post-transform of [rows, C] scores (x may equal y). */
export function post_transform(x: usize, y: usize, rows: i32, C: i32, post: i32): void {
  const bytes = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    if (x != y) memory.copy(y, x, bytes);
    postRow(y, C, post);
    x += bytes;
    y += bytes;
  }
}

/**
 * One score per row expanded to two columns (binary classifiers): mode COMPLEMENT → [1-s, s];
 * NEGATE → [-s, s], or [logistic(-s), logistic(s)] when post is LOGISTIC.
 */
export function two_class_scores(x: usize, y: usize, rows: i32, mode: i32, post: i32): void {
  for (let r = 0; r < rows; r++) {
    const s = load<f32>(x + (<usize>r << 2));
    const out = y + (<usize>r << 3);
    if (mode == TWO_CLASS_COMPLEMENT) {
      store<f32>(out, 1 - s);
      store<f32>(out, s, 4);
    } else if (post == POST_LOGISTIC) {
      store<f32>(out, logistic(-s));
      store<f32>(out, logistic(s), 4);
    } else {
      store<f32>(out, -s);
      store<f32>(out, s, 4);
    }
  }
}

/** Label index 1 where the score exceeds `threshold`, else 0 (binary linear classifiers). */
export function label_threshold(x: usize, y: usize, rows: i32, threshold: f32): void {
  for (let r = 0; r < rows; r++) store<i32>(y + (<usize>r << 2), load<f32>(x + (<usize>r << 2)) > threshold ? 1 : 0);
}

// ---- tree ensembles ------------------------------------------------------------------------------
// The compiler normalises every split to one test, `x[feature] <= threshold` → next node, else → the
// node at `right` (compiler/ops/ml.ts buildForest), so a walk is branch-free: nodes are 16 bytes
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

// ---- SVM -----------------------------------------------------------------------------------------


/**
 * Kernel values K(x_r, sv_v) for every row and support vector, as f64: out [rows, V]. libsvm works in
 * double; with large feature values (areas, incomes) the one-vs-one sums cancel, and float kernel
 * values would flip labels near the boundary. RBF's distances are small, so they are summed in f32.
 */
export function svm_kernel(x: usize, F: i32, rows: i32, sv: usize, V: i32, kind: i32, gamma: f32, coef0: f32, degree: f32, out: usize): void {
  const g = <f64>gamma;
  const c0 = <f64>coef0;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * F) << 2);
    let v = 0;
    if (kind == SVM_RBF) {
      // Four support vectors at a time: four independent accumulator chains instead of one, so the
      // adds overlap. Each vector's sum is formed in the same order as the one-at-a-time loop below.
      const F4 = F & ~3;
      for (; v + 4 <= V; v += 4) {
        const s0 = sv + (<usize>(v * F) << 2);
        const s1 = s0 + (<usize>F << 2);
        const s2 = s1 + (<usize>F << 2);
        const s3 = s2 + (<usize>F << 2);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let f = 0; f < F4; f += 4) {
          const xv = v128.load(xr + (<usize>f << 2));
          const o = <usize>f << 2;
          const d0 = f32x4.sub(xv, v128.load(s0 + o));
          const d1 = f32x4.sub(xv, v128.load(s1 + o));
          const d2 = f32x4.sub(xv, v128.load(s2 + o));
          const d3 = f32x4.sub(xv, v128.load(s3 + o));
          a0 = f32x4.add(a0, f32x4.mul(d0, d0));
          a1 = f32x4.add(a1, f32x4.mul(d1, d1));
          a2 = f32x4.add(a2, f32x4.mul(d2, d2));
          a3 = f32x4.add(a3, f32x4.mul(d3, d3));
        }
        let u0: f32 = f32x4.extract_lane(a0, 0) + f32x4.extract_lane(a0, 1) + f32x4.extract_lane(a0, 2) + f32x4.extract_lane(a0, 3);
        let u1: f32 = f32x4.extract_lane(a1, 0) + f32x4.extract_lane(a1, 1) + f32x4.extract_lane(a1, 2) + f32x4.extract_lane(a1, 3);
        let u2: f32 = f32x4.extract_lane(a2, 0) + f32x4.extract_lane(a2, 1) + f32x4.extract_lane(a2, 2) + f32x4.extract_lane(a2, 3);
        let u3: f32 = f32x4.extract_lane(a3, 0) + f32x4.extract_lane(a3, 1) + f32x4.extract_lane(a3, 2) + f32x4.extract_lane(a3, 3);
        for (let f = F4; f < F; f++) {
          const xf = load<f32>(xr + (<usize>f << 2));
          const o = <usize>f << 2;
          const d0 = xf - load<f32>(s0 + o), d1 = xf - load<f32>(s1 + o), d2 = xf - load<f32>(s2 + o), d3 = xf - load<f32>(s3 + o);
          u0 += d0 * d0; u1 += d1 * d1; u2 += d2 * d2; u3 += d3 * d3;
        }
        // the four exps in one vector: the same per-lane result as one at a time
        const u = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(u0), 1, u1), 2, u2), 3, u3);
        const e = vexp(f32x4.mul(f32x4.splat(-gamma), u));
        const row = out + (<usize>(r * V + v) << 3);
        v128.store(row, f64x2.promote_low_f32x4(e));
        v128.store(row, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1)), 16);
      }
    }
    for (; v < V; v++) {
      const s = sv + (<usize>(v * F) << 2);
      let k: f64;
      if (kind == SVM_RBF) {
        let acc = f32x4.splat(0);
        let f = 0;
        for (; f + 4 <= F; f += 4) {
          const d = f32x4.sub(v128.load(xr + (<usize>f << 2)), v128.load(s + (<usize>f << 2)));
          acc = f32x4.add(acc, f32x4.mul(d, d));
        }
        let sum: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
        for (; f < F; f++) {
          const d = load<f32>(xr + (<usize>f << 2)) - load<f32>(s + (<usize>f << 2));
          sum += d * d;
        }
        k = <f64>expf_(-gamma * sum);
      } else {
        let acc = f64x2.splat(0);
        let f = 0;
        for (; f + 2 <= F; f += 2) {
          const xa = f64x2.promote_low_f32x4(v128.load64_zero(xr + (<usize>f << 2)));
          const sa = f64x2.promote_low_f32x4(v128.load64_zero(s + (<usize>f << 2)));
          acc = f64x2.add(acc, f64x2.mul(xa, sa));
        }
        let dot = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
        for (; f < F; f++) dot += <f64>load<f32>(xr + (<usize>f << 2)) * <f64>load<f32>(s + (<usize>f << 2));
        if (kind == SVM_LINEAR) k = dot;
        else if (kind == SVM_POLY) {
          const b = g * dot + c0;
          k = degree == 2 ? b * b : degree == 3 ? b * b * b : exp64(<f64>degree * log64(abs(b))) * (b < 0 && (<i32>degree & 1) != 0 ? -1.0 : 1.0);
        } else {
          k = <f64>tanhf_(<f32>(g * dot + c0));
        }
      }
      store<f64>(out + (<usize>(r * V + v) << 3), k);
    }
  }
}

/**
 * SVMClassifier (libsvm SVC) from kernel values: one-vs-one decision values, votes, and with prob_a/
 * prob_b the pairwise-coupled probabilities. The coupling is libsvm's own (double precision, at least
 * 100 iterations), so probabilities match scikit-learn's predict_proba; onnxruntime iterates in float.
 * params (i32 pointers into the data segment): vectors per class (C), coefficients [C-1, V], rho
 * [C(C-1)/2], probA, probB (or 0). scratch: C*C + 2*C doubles. scores [rows, C] with probabilities,
 * else [rows, C(C-1)/2] (or [rows, 2] for two classes) decision values. labels: class index.
 */
export function svm_classify(
  kernels: usize, rows: i32, V: i32, C: i32, perClass: usize, coef: usize, rho: usize,
  probA: usize, probB: usize, scores: usize, labels: usize, scratch: usize, post: i32, allPositive: i32,
): void {
  const pairs = C * (C - 1) / 2;
  const withProba = probA != 0;
  const votes = scratch; // i32 [C]
  const dec = scratch + (<usize>C << 2); // f32 [pairs]
  const q = (scratch + (<usize>(C + pairs) << 2) + 7) & ~<usize>7; // f64 [C*C + 2C]
  for (let r = 0; r < rows; r++) {
    const kr = kernels + (<usize>(r * V) << 3);
    memory.fill(votes, 0, <usize>C << 2);
    let idx = 0;
    let startI = 0;
    for (let i = 0; i < C - 1; i++) {
      const countI = load<i32>(perClass + (<usize>i << 2));
      let startJ = startI + countI;
      for (let j = i + 1; j < C; j++) {
        const countJ = load<i32>(perClass + (<usize>j << 2));
        let sum = dotCoef(coef + (<usize>((j - 1) * V + startI) << 2), kr + (<usize>startI << 3), countI);
        sum += dotCoef(coef + (<usize>(i * V + startJ) << 2), kr + (<usize>startJ << 3), countJ);
        sum += <f64>load<f32>(rho + (<usize>idx << 2));
        store<f32>(dec + (<usize>idx << 2), <f32>sum);
        const winner = sum > 0 ? i : j;
        store<i32>(votes + (<usize>winner << 2), load<i32>(votes + (<usize>winner << 2)) + 1);
        idx++;
        startJ += countJ;
      }
      startI += countI;
    }
    // Label: most votes, first on ties (as libsvm and onnxruntime).
    let best = 0;
    for (let k = 1; k < C; k++) if (load<i32>(votes + (<usize>k << 2)) > load<i32>(votes + (<usize>best << 2))) best = k;
    const out = scores + (<usize>(r * (withProba ? C : (C > 2 ? pairs : 2))) << 2);
    // The label always comes from the votes (as scikit-learn's predict and onnxruntime).
    if (withProba) {
      coupleProbabilities(dec, C, probA, probB, q, out);
    } else if (C > 2) {
      for (let k = 0; k < pairs; k++) store<f32>(out + (<usize>k << 2), load<f32>(dec + (<usize>k << 2)));
      postRow(out, pairs, post);
    } else {
      const s = load<f32>(dec);
      if (post == POST_NONE) {
        store<f32>(out, -s);
        store<f32>(out, s, 4);
      } else {
        store<f32>(out, 1 - s);
        store<f32>(out, s, 4);
      }
    }
    if (labels != 0) store<i32>(labels + (<usize>r << 2), best);
  }
}

/**
 * Σ coef[m] · k[m] in double (f32 coefficients, f64 kernel values). Four partial sums, so the adds
 * overlap instead of each waiting on the last.
 */
function dotCoef(coef: usize, k: usize, n: i32): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let m = 0;
  for (; m + 4 <= n; m += 4) {
    const c = v128.load(coef + (<usize>m << 2));
    const kk = k + (<usize>m << 3);
    a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(c), v128.load(kk)));
    b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(c, c, 2, 3, 0, 1)), v128.load(kk, 16)));
  }
  a = f64x2.add(a, b);
  let sum = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; m < n; m++) sum += <f64>load<f32>(coef + (<usize>m << 2)) * load<f64>(k + (<usize>m << 3));
  return sum;
}

/** Σ a[j] · b[j] over n doubles, two lanes at a time. */
function dot64(a: usize, b: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  let j = 0;
  for (; j + 2 <= n; j += 2) acc = f64x2.add(acc, f64x2.mul(v128.load(a + (<usize>j << 3)), v128.load(b + (<usize>j << 3))));
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; j < n; j++) sum += load<f64>(a + (<usize>j << 3)) * load<f64>(b + (<usize>j << 3));
  return sum;
}

/** libsvm's sigmoid_predict and multiclass_probability (Wu, Lin & Weng), in double. */
function coupleProbabilities(dec: usize, C: i32, probA: usize, probB: usize, q: usize, out: usize): void {
  const minProb: f64 = 1e-7;
  const R = q + (<usize>(C * C) << 3); // r[i][j]
  const Qp = R + (<usize>(C * C) << 3);
  const P = Qp + (<usize>C << 3);
  let idx = 0;
  for (let i = 0; i < C; i++) {
    for (let j = i + 1; j < C; j++) {
      // libsvm's decision value is -(ours): onnxruntime's rho carries the opposite sign.
      const fApB: f64 = <f64>load<f32>(dec + (<usize>idx << 2)) * <f64>load<f32>(probA + (<usize>idx << 2)) + <f64>load<f32>(probB + (<usize>idx << 2));
      let p: f64 = fApB >= 0 ? exp64(-fApB) / (1.0 + exp64(-fApB)) : 1.0 / (1.0 + exp64(fApB));
      p = min(max(p, minProb), 1 - minProb);
      store<f64>(R + (<usize>(i * C + j) << 3), p);
      store<f64>(R + (<usize>(j * C + i) << 3), 1 - p);
      idx++;
    }
  }
  // Two classes too go through the iterative coupling: scikit-learn's libsvm (and onnxruntime) have no
  // binary shortcut, and the iteration stops at eps = 0.0025, which differs from r01 by up to that much.
  const k = C;
  for (let t = 0; t < k; t++) {
    store<f64>(P + (<usize>t << 3), 1.0 / <f64>k);
    let qtt: f64 = 0;
    for (let j = 0; j < t; j++) {
      const rjt = load<f64>(R + (<usize>(j * k + t) << 3));
      qtt += rjt * rjt;
      store<f64>(q + (<usize>(t * k + j) << 3), load<f64>(q + (<usize>(j * k + t) << 3)));
    }
    for (let j = t + 1; j < k; j++) {
      const rjt = load<f64>(R + (<usize>(j * k + t) << 3));
      qtt += rjt * rjt;
      store<f64>(q + (<usize>(t * k + j) << 3), -rjt * load<f64>(R + (<usize>(t * k + j) << 3)));
    }
    store<f64>(q + (<usize>(t * k + t) << 3), qtt);
  }
  const maxIter = max(100, k);
  const eps: f64 = 0.005 / <f64>k;
  for (let iter = 0; iter < maxIter; iter++) {
    let pQp: f64 = 0;
    for (let t = 0; t < k; t++) {
      const s = dot64(q + (<usize>(t * k) << 3), P, k);
      store<f64>(Qp + (<usize>t << 3), s);
      pQp += load<f64>(P + (<usize>t << 3)) * s;
    }
    let maxError: f64 = 0;
    for (let t = 0; t < k; t++) maxError = max(maxError, abs(load<f64>(Qp + (<usize>t << 3)) - pQp));
    if (maxError < eps) break;
    for (let t = 0; t < k; t++) {
      const qtt = load<f64>(q + (<usize>(t * k + t) << 3));
      const qpt = load<f64>(Qp + (<usize>t << 3));
      const diff = (-qpt + pQp) / qtt;
      store<f64>(P + (<usize>t << 3), load<f64>(P + (<usize>t << 3)) + diff);
      pQp = (pQp + diff * (diff * qtt + 2 * qpt)) / (1 + diff) / (1 + diff);
      // Qp = (Qp + diff·q[t]) / (1 + diff) and P /= 1 + diff, two at a time
      const d = f64x2.splat(diff);
      const scale = f64x2.splat(1 + diff);
      const qt = q + (<usize>(t * k) << 3);
      let j = 0;
      for (; j + 2 <= k; j += 2) {
        const o = <usize>j << 3;
        v128.store(Qp + o, f64x2.div(f64x2.add(v128.load(Qp + o), f64x2.mul(d, v128.load(qt + o))), scale));
        v128.store(P + o, f64x2.div(v128.load(P + o), scale));
      }
      for (; j < k; j++) {
        const o = <usize>j << 3;
        store<f64>(Qp + o, (load<f64>(Qp + o) + diff * load<f64>(qt + o)) / (1 + diff));
        store<f64>(P + o, load<f64>(P + o) / (1 + diff));
      }
    }
  }
  for (let t = 0; t < k; t++) store<f32>(out + (<usize>t << 2), <f32>load<f64>(P + (<usize>t << 3)));
}

/** SVMRegressor from kernel values: y = Σ coef_v K(x, sv_v) + rho (one-class: sign). */
export function svm_regress(kernels: usize, rows: i32, V: i32, coef: usize, rho: f32, oneClass: i32, y: usize): void {
  for (let r = 0; r < rows; r++) {
    let sum: f64 = 0;
    for (let v = 0; v < V; v++) sum += <f64>load<f32>(coef + (<usize>v << 2)) * load<f64>(kernels + (<usize>(r * V + v) << 3));
    let s = <f32>(sum + <f64>rho);
    if (oneClass != 0) s = s > 0 ? 1 : -1;
    store<f32>(y + (<usize>r << 2), s);
  }
}

// ---- preprocessing -------------------------------------------------------------------------------


/** Normalizer per row (onnxruntime's NormalizeMax/L1/L2; a zero norm leaves the row as is). */
export function normalize_rows(x: usize, y: usize, rows: i32, D: i32, norm: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * D) << 2);
    const yr = y + (<usize>(r * D) << 2);
    let z: f32 = norm == NORM_MAX ? -3.4028234663852886e38 : 0;
    for (let j = 0; j < D; j++) {
      const v = load<f32>(xr + (<usize>j << 2));
      if (norm == NORM_MAX) z = max<f32>(z, v);
      else if (norm == NORM_L1) z += abs<f32>(v);
      else z += v * v;
    }
    for (let j = 0; j < D; j++) {
      const v = load<f32>(xr + (<usize>j << 2));
      let o = v;
      if (z != 0) {
        if (norm == NORM_L2) {
          o = sqrt<f32>((v * v) / z);
          if (v < 0) o = -o;
        } else {
          o = v / z;
        }
      }
      store<f32>(yr + (<usize>j << 2), o);
    }
  }
}

/** Imputer: values equal to `replaced` (or NaN when replaced is NaN) become the column's value. */
export function impute(x: usize, y: usize, rows: i32, D: i32, values: usize, nValues: i32, replaced: f32): void {
  const nanMode = replaced != replaced;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < D; j++) {
      const at = <usize>(r * D + j) << 2;
      const v = load<f32>(x + at);
      const hit = nanMode ? v != v : v == replaced;
      store<f32>(y + at, hit ? load<f32>(values + (<usize>(nValues == 1 ? 0 : j) << 2)) : v);
    }
  }
}

/** OneHotEncoder: each of n values → C floats, 1 at the matching category (none when unknown). */
export function one_hot(x: usize, y: usize, n: i32, cats: usize, C: i32): void {
  memory.fill(y, 0, <usize>(n * C) << 2);
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    for (let c = 0; c < C; c++) {
      if (load<f32>(cats + (<usize>c << 2)) == v) {
        store<f32>(y + (<usize>(i * C + c) << 2), 1);
        break;
      }
    }
  }
}

/** y[r, k] = x[r, indices[k]] (ArrayFeatureExtractor over columns, FeatureVectorizer pieces). */
export function gather_columns(x: usize, y: usize, rows: i32, D: i32, indices: usize, K: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * D) << 2);
    const yr = y + (<usize>(r * K) << 2);
    for (let k = 0; k < K; k++) store<f32>(yr + (<usize>k << 2), load<f32>(xr + (<usize>load<i32>(indices + (<usize>k << 2)) << 2)));
  }
}

/**
 * LabelEncoder on numbers (OrdinalEncoder exports: float category → int64 code): y[i] = values[k] where
 * keys[k] == x[i], else `fallback`. Keys are sorted ascending at compile time (binary search); x and y
 * are f32, or i32 when xInt / yInt. NaN matches no key.
 */
export function label_encode(x: usize, y: usize, n: i32, keys: usize, values: usize, K: i32, fallback: f32, xInt: i32, yInt: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v: f32 = xInt ? <f32>load<i32>(x + at) : load<f32>(x + at);
    let lo = 0;
    let hi = K - 1;
    let out = fallback;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = load<f32>(keys + (<usize>mid << 2));
      if (k < v) lo = mid + 1;
      else if (k > v) hi = mid - 1;
      else {
        out = load<f32>(values + (<usize>mid << 2));
        break;
      }
    }
    if (yInt) store<i32>(y + at, <i32>out);
    else store<f32>(y + at, out);
  }
}

/** Squared Euclidean distances y[r, m] = Σ_f (x[r, f] − t[m, f])² (skl2onnx's cdist Scan, k-NN). */
export function squared_distances(x: usize, t: usize, y: usize, rows: i32, F: i32, M: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * F) << 2);
    for (let m = 0; m < M; m++) {
      const tm = t + (<usize>(m * F) << 2);
      let s: f32 = 0;
      for (let f = 0; f < F; f++) {
        const d = load<f32>(xr + (<usize>f << 2)) - load<f32>(tm + (<usize>f << 2));
        s += d * d;
      }
      store<f32>(y + (<usize>(r * M + m) << 2), s);
    }
  }
}

/**
 * TopK along the last axis, sorted: the K largest (or smallest) of each row of D values with their
 * indices (i32); equal values keep index order, as onnxruntime's. Selection, O(K·D) a row: K is small
 * (neighbours, boosting stages).
 */
export function topk(x: usize, vals: usize, idx: usize, rows: i32, D: i32, K: i32, largest: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * D) << 2);
    const vr = vals + (<usize>(r * K) << 2);
    const ir = idx + (<usize>(r * K) << 2);
    for (let k = 0; k < K; k++) {
      let best = -1;
      let bv: f32 = 0;
      for (let j = 0; j < D; j++) {
        let taken = false;
        for (let q = 0; q < k; q++) if (load<i32>(ir + (<usize>q << 2)) == j) { taken = true; break; }
        if (taken) continue;
        const v = load<f32>(xr + (<usize>j << 2));
        if (best < 0 || (largest ? v > bv : v < bv)) { best = j; bv = v; }
      }
      store<f32>(vr + (<usize>k << 2), bv);
      store<i32>(ir + (<usize>k << 2), best);
    }
  }
}

/** Cumulative sums along rows of D (AdaBoost's weighted median): exclusive / reverse as ONNX CumSum. */
export function cumsum_rows(x: usize, y: usize, rows: i32, D: i32, exclusive: i32, reverse: i32): void {
  for (let r = 0; r < rows; r++) {
    let s: f32 = 0;
    for (let k = 0; k < D; k++) {
      const j = reverse ? D - 1 - k : k;
      const at = <usize>(r * D + j) << 2;
      const v = load<f32>(x + at);
      if (exclusive) {
        store<f32>(y + at, s);
        s += v;
      } else {
        s += v;
        store<f32>(y + at, s);
      }
    }
  }
}

/** GatherElements on the last axis of [rows, D]: y[r, k] = x[r, idx[r, k]] (32-bit values, any type). */
export function gather_row_elements(x: usize, idx: usize, y: usize, rows: i32, D: i32, K: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      let j = load<i32>(idx + (<usize>(r * K + k) << 2));
      if (j < 0) j += D;
      const v = j >= 0 && j < D ? load<u32>(x + (<usize>(r * D + j) << 2)) : 0;
      store<u32>(y + (<usize>(r * K + k) << 2), v);
    }
  }
}
