// MaxUnpool: the inverse of MaxPool with its Indices output, a scatter into a zeroed output.

/**
 * ONNX MaxUnpool (opsets 9, 11). x: f32 [n] (the pooled values, any shape flattened); indices: i64 [n],
 * MaxPool's flat indices into the unpooled tensor of `inferred` dims [N, C, D1…] (ONNX's formula
 * (in_i − 1)·stride_i − pads + kernel_i); y: f32 of `output` dims, zeroed, then y[at(indices[i])] = x[i] in
 * order (a repeated index keeps the last). table = i32 [R, inferred dims (R), output dims (R)]: an index is
 * decomposed by the inferred dims and placed at the same coordinates in y (output_shape larger than
 * inferred: the unpooled tensor sits at the start of every axis, as ONNX's reference places it).
 * Indices outside [0, Π inferred) (which the op handler refuses first, with first_index_outside) or
 * coordinates beyond an output dim are skipped. x and y do not overlap.
 */
export function max_unpool(x: usize, indices: usize, y: usize, n: i32, table: usize): void {
  const R = load<i32>(table);
  if (R <= 0) return;
  let inTotal: i64 = 1;
  let outTotal: i64 = 1;
  let same = true;
  for (let d = 0; d < R; d++) {
    const a = load<i32>(table + 4 + (<usize>d << 2));
    const b = load<i32>(table + 4 + (<usize>(R + d) << 2));
    if (a <= 0 || b <= 0) return;
    inTotal *= a;
    outTotal *= b;
    if (a != b) same = false;
  }
  memory.fill(y, 0, <usize>outTotal << 2);
  for (let i = 0; i < n; i++) {
    const idx = load<i64>(indices + (<usize>i << 3));
    if (idx < 0 || idx >= inTotal) continue;
    let off: i64 = idx;
    if (!same) {
      let rem = idx;
      let stride: i64 = 1;
      off = 0;
      for (let d = R - 1; d >= 0; d--) {
        const a = <i64>load<i32>(table + 4 + (<usize>d << 2));
        const b = <i64>load<i32>(table + 4 + (<usize>(R + d) << 2));
        const c = rem % a;
        rem /= a;
        if (c >= b) {
          off = -1;
          break;
        }
        off += c * stride;
        stride *= b;
      }
      if (off < 0) continue;
    }
    store<f32>(y + (<usize>off << 2), load<f32>(x + (<usize>i << 2)));
  }
}
