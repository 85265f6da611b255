// Casts between the run-time element types: f32 values and i32 integers (ONNX int64/int32/bool).

/** int → float. */
export function cast_i32_f32(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>load<i32>(x + (<usize>i << 2)));
}

/** float → int, truncating toward zero (NaN and out-of-range give 0, never a trap). */
export function cast_f32_i32(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<i32>(y + (<usize>i << 2), v == v && v > -2147483648.0 && v < 2147483648.0 ? <i32>v : 0);
  }
}

/** y[i] = table[idx[i]] as f32: class indices to their numeric class values. */
export function lookup_f32(idx: usize, table: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), load<f32>(table + (<usize>load<i32>(idx + (<usize>i << 2)) << 2)));
}
