// Plain data movement used by reshapes, concats and initialisers.

/** Copies nbytes from x to y (overlap allowed, memmove semantics). */
export function copy(x: usize, y: usize, nbytes: i32): void {
  if (nbytes > 0) memory.copy(y, x, <usize>nbytes);
}

/** y[0..n-1] = v. */
export function fill(y: usize, n: i32, v: f32): void {
  if (n <= 0) return;
  const vv = f32x4.splat(v);
  const end4 = y + (<usize>(n & ~3) << 2);
  while (y < end4) {
    v128.store(y, vv);
    y += 16;
  }
  const rest = n & 3;
  if (rest > 0) store<f32>(y, v);
  if (rest > 1) store<f32>(y, v, 4);
  if (rest > 2) store<f32>(y, v, 8);
}

/**
 * y[i, :] = table[idx[i], :] for i < count: a constant table (rows of `inner` 4-byte values) looked up by
 * run-time int32 indices (Gather axis 0). Negative indices count from the end; an index outside the
 * table gives a row of NaN rather than another row's numbers.
 */
export function gather_rows(idx: usize, table: usize, y: usize, count: i32, inner: i32, rows: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let i = 0; i < count; i++) {
    let j = load<i32>(idx + (<usize>i << 2));
    if (j < 0) j += rows;
    const out = y + <usize>i * rowBytes;
    if (j < 0 || j >= rows) {
      for (let k = 0; k < inner; k++) store<f32>(out + (<usize>k << 2), NaN);
    } else {
      memory.copy(out, table + <usize>j * rowBytes, rowBytes);
    }
  }
}
