// Support vector machines (ai.onnx.ml SVMClassifier/SVMRegressor): kernel values, one-vs-one votes,
// Platt-scaled probabilities coupled as libsvm does.

import { vexp } from "./vmath";
import { exp64, log64 } from "./binary";
import { expf_, tanhf_, postRow } from "./scores";
import { POST_NONE, SVM_LINEAR, SVM_POLY, SVM_RBF } from "./generated/abi";

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
