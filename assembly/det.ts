// Det: the determinant of each of `batches` square n×n float32 matrices (row-major, one after another)
// into y[batches], by LU decomposition with partial pivoting (the row with the largest |pivot|, the first
// on ties) computed in f64 and rounded once. n = 0 gives 1 (the empty product). A zero pivot column gives
// 0; NaN or Inf in the matrix propagate as the elimination takes them.
// scratch: ≥ n·n f64 (8·n² bytes, 8-byte aligned). x and y may not overlap scratch.

/** y[b] = det(x[b]) for b < batches. */
export function det(x: usize, y: usize, batches: i32, n: i32, scratch: usize): void {
  const nn = <usize>n * <usize>n;
  for (let b = 0; b < batches; b++) {
    const src = x + ((<usize>b * nn) << 2);
    for (let i: usize = 0; i < nn; i++) store<f64>(scratch + (i << 3), <f64>load<f32>(src + (i << 2)));
    store<f32>(y + (<usize>b << 2), <f32>luDeterminant(scratch, n));
  }
}

// @ts-ignore: decorator
@inline function at(a: usize, n: i32, i: i32, j: i32): usize {
  return a + ((<usize>i * <usize>n + <usize>j) << 3);
}

/** The determinant of the n×n f64 matrix at a (overwritten by its elimination). */
function luDeterminant(a: usize, n: i32): f64 {
  let d = 1.0;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = abs(load<f64>(at(a, n, k, k)));
    for (let i = k + 1; i < n; i++) {
      const v = abs(load<f64>(at(a, n, i, k)));
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best == 0) return 0.0;
    if (p != k) {
      for (let j = k; j < n; j++) {
        const t = load<f64>(at(a, n, k, j));
        store<f64>(at(a, n, k, j), load<f64>(at(a, n, p, j)));
        store<f64>(at(a, n, p, j), t);
      }
      d = -d;
    }
    const pivot = load<f64>(at(a, n, k, k));
    d *= pivot;
    for (let i = k + 1; i < n; i++) {
      const f = load<f64>(at(a, n, i, k)) / pivot;
      if (f == 0) continue;
      for (let j = k + 1; j < n; j++) store<f64>(at(a, n, i, j), load<f64>(at(a, n, i, j)) - f * load<f64>(at(a, n, k, j)));
    }
  }
  return d;
}
