// Reading a broadcast table, for elementwise kernels over operands of any element size (typed-binary.ts,
// where.ts). The format extends binary.ts's to k operands:
//   table (i32): [R, d0, .., d(R-1), s(0,0) .. s(0,R-1), s(1,0) .. s(1,R-1), …]
//   R (>= 1, any rank) = output rank; d* = output dims (d0 is ignored and replaced by `rows`); s(o, j) = element
//   stride of operand o along output dim j (0 = broadcast). y is contiguous row-major over the dims.
// The innermost dim is a row; the walker (each kernel family has its own, for its row function) counts
// rows along dim R-2 and decomposes the outer index only when that counter wraps, as binary.ts does.

/** Output dim j (dim 0 is `rows`). */
// @ts-ignore: decorator
@inline export function dimAt(table: usize, j: i32, rows: i32): i32 {
  return j == 0 ? rows : load<i32>(table + 4 + (<usize>j << 2));
}

/** Element stride of operand `o` along output dim j. */
// @ts-ignore: decorator
@inline export function strideAt(table: usize, o: i32, j: i32): i32 {
  const R = load<i32>(table);
  return load<i32>(table + 4 + (<usize>(R * (1 + o) + j) << 2));
}

/** Product of output dims 0 .. m-1 (1 when m <= 0). */
// @ts-ignore: decorator
@inline export function outerCount(table: usize, m: i32, rows: i32): i32 {
  let n = 1;
  for (let j = 0; j < m; j++) n *= dimAt(table, j, rows);
  return n;
}

/** Element offset of operand o's first row for index t over output dims 0 .. m-1 (row-major). */
// @ts-ignore: decorator
@inline export function outerOffset(table: usize, o: i32, m: i32, t: i32, rows: i32): i32 {
  let off = 0;
  for (let j = m - 1; j >= 0; j--) {
    const d = dimAt(table, j, rows);
    const q = t / d;
    off += (t - q * d) * strideAt(table, o, j);
    t = q;
  }
  return off;
}
