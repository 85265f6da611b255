// Plain data movement used by reshapes, concats and initialisers.

/** Copies nbytes from x to y (overlap allowed, memmove semantics). */
export function copy(x: usize, y: usize, nbytes: i32): void {
  if (nbytes > 0) memory.copy(y, x, <usize>nbytes);
}

/** n bytes at y set to v (0..255): bool and uint8 tensors of one value (Dropout's mask). */
export function fill_u8(y: usize, n: i32, v: i32): void {
  if (n > 0) memory.fill(y, <u8>v, <usize>n);
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

/**
 * Gather along an axis: y[o, c, i] = x[o, idx[c], i] for x viewed as [outer, axis, inner] and `count`
 * indices (i32 or i64 by `idxBytes`, negative ones counting from the end) of `elemBytes`-byte elements.
 * An index outside the axis gives zeros (ONNX leaves it undefined; onnxruntime refuses it).
 */
export function gather_axis(
  x: usize, idx: usize, y: usize, outer: i32, axis: i32, inner: i32, count: i32, idxBytes: i32, elemBytes: i32,
): void {
  const block = <usize>inner * <usize>elemBytes;
  for (let o = 0; o < outer; o++) {
    const src = x + <usize>o * <usize>axis * block;
    const dst = y + <usize>o * <usize>count * block;
    for (let c = 0; c < count; c++) {
      let j: i64 = idxBytes == 8 ? load<i64>(idx + (<usize>c << 3)) : <i64>load<i32>(idx + (<usize>c << 2));
      if (j < 0) j += axis;
      const out = dst + <usize>c * block;
      if (j < 0 || j >= <i64>axis) memory.fill(out, 0, block);
      else memory.copy(out, src + <usize>j * block, block);
    }
  }
}
