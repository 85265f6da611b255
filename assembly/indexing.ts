// Indexing along the last axis of [rows, D] (TopK, CumSum, GatherElements) and the squared distances of
// k-nearest neighbours (skl2onnx's cdist Scan).



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
