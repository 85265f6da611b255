// ai.onnx.ml preprocessing: Normalizer, Imputer, OneHotEncoder, column gathers, LabelEncoder.

import { NORM_MAX, NORM_L1, NORM_L2 } from "./generated/abi";

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
