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
