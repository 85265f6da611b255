// Checks of index data an op reads at run time (RoiAlign's batch_indices, MaxUnpool's indices): the
// emitted run() calls one before the op's kernel and fails with a bad-input error naming the entry,
// where ONNX's and onnxruntime's ops refuse the data, rather than computing around it.

/**
 * The position of the first of x[0..n-1] (i64) outside [lo, hi), or −1 when every entry is inside.
 * n ≥ 0 (0 gives −1); lo ≤ hi. Reads x only.
 */
export function first_index_outside(x: usize, n: i32, lo: i32, hi: i32): i32 {
  const a = <i64>lo;
  const b = <i64>hi;
  for (let i = 0; i < n; i++) {
    const v = load<i64>(x + (<usize>i << 3));
    if (v < a || v >= b) return i;
  }
  return -1;
}
