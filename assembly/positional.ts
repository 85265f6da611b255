// Ops where each output element's source follows from its position alone: Trilu's triangles, OneHot,
// ReverseSequence. Elements of 1, 2, 4 or 8 bytes (elemBytes) of any type.

import { ELEM_F32, ELEM_I32 } from "./generated/abi";
import { copyElement, loadIndex } from "./gather_scatter";
import { truncIndefinite } from "./intmath";

/**
 * Trilu over x viewed as [batches, N, M]: y keeps x[b, r, c] where c − r ≥ k (upper = 1) or c − r ≤ k
 * (upper = 0), zeros elsewhere. k: the i64 at `k` (any value; far diagonals keep all or nothing). y may
 * be x (in place).
 */
export function trilu(x: usize, y: usize, batches: i32, N: i32, M: i32, k: usize, upper: i32, elemBytes: i32): void {
  const big: i64 = <i64>N + <i64>M + 1;
  let kk = load<i64>(k);
  kk = kk > big ? big : kk < -big ? -big : kk;
  const diag = <i32>kk;
  const eb = <usize>elemBytes;
  for (let b = 0; b < batches; b++) {
    for (let r = 0; r < N; r++) {
      const row = (<usize>b * <usize>N + <usize>r) * <usize>M;
      // Columns kept: [from, to) of the row.
      const from = upper ? max(0, min(M, r + diag)) : 0;
      const to = upper ? M : max(0, min(M, r + diag + 1));
      if (x != y) memory.copy(y + (row + <usize>from) * eb, x + (row + <usize>from) * eb, <usize>max(0, to - from) * eb);
      if (from > 0) memory.fill(y + row * eb, 0, <usize>from * eb);
      if (to < M) memory.fill(y + (row + <usize>to) * eb, 0, <usize>(M - to) * eb);
    }
  }
}

/**
 * OneHot: indices viewed as [outer, inner] (kind: CODES.ELEM F32, I32 or I64; floats truncated toward
 * zero, negative ones counting from depth), y = [outer, depth, inner] with values[1] (on) where d equals
 * the index and values[0] (off) elsewhere; an index outside [−depth, depth−1] gives all off, as ONNX
 * says. values: two elements of elemBytes.
 */
export function one_hot_axis(
  idx: usize, values: usize, y: usize, outer: i32, depth: i32, inner: i32, kind: i32, elemBytes: i32,
): void {
  const eb = <usize>elemBytes;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const p = <usize>o * <usize>inner + <usize>i;
      let v: i64 =
        kind == ELEM_F32
          ? truncIndefinite(<f64>load<f32>(idx + (p << 2)), 64)
          : loadIndex(idx, p, kind == ELEM_I32 ? 4 : 8);
      if (v < 0) v += depth;
      for (let d = 0; d < depth; d++) {
        const at = ((<usize>o * <usize>depth + <usize>d) * <usize>inner + <usize>i) * eb;
        copyElement(y + at, values + (<i64>d == v ? eb : 0), elemBytes);
      }
    }
  }
}

/**
 * ReverseSequence: x is [T, B, inner] (timeAxis 0) or [B, T, inner] (timeAxis 1); y reverses the first
 * lens[b] steps of every batch entry b and copies the rest. lens: B lengths (i32 or i64 by lensBytes).
 * Returns 1 + b for the first length outside [0, T] (onnxruntime refuses those), else 0.
 */
export function reverse_sequence(
  x: usize, y: usize, lens: usize, T: i32, B: i32, inner: i32, timeAxis: i32, lensBytes: i32, elemBytes: i32,
): i32 {
  for (let b = 0; b < B; b++) {
    const L = loadIndex(lens, <usize>b, lensBytes);
    if (L < 0 || L > <i64>T) return b + 1;
  }
  const block = <usize>inner * <usize>elemBytes;
  for (let b = 0; b < B; b++) {
    const L = <i32>loadIndex(lens, <usize>b, lensBytes);
    for (let t = 0; t < T; t++) {
      const from = t < L ? L - 1 - t : t;
      const dst = timeAxis == 0 ? <usize>t * <usize>B + <usize>b : <usize>b * <usize>T + <usize>t;
      const src = timeAxis == 0 ? <usize>from * <usize>B + <usize>b : <usize>b * <usize>T + <usize>from;
      memory.copy(y + dst * block, x + src * block, block);
    }
  }
  return 0;
}
