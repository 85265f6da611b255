// The squared distances of k-nearest neighbours (skl2onnx's cdist Scan).

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
