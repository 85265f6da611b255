// Broadcast tables (assembly/broadcast.ts) and a plain reference walk over them, for the typed
// elementwise kernel tests: operand o's element for output index i is found by decomposing i over the
// output dims and summing index·stride, exactly as the ONNX broadcasting rule places it.

export interface BroadcastCase {
  name: string;
  /** Output dims; dims[0] is passed as `rows`. */
  dims: number[];
  /** Element strides of each operand along each output dim (0 = broadcast). */
  strides: number[][];
}

/** The i32 table: [R, dims (d0 as `tableD0`), strides of operand 0, 1, …]. */
export function tableOf(c: BroadcastCase, tableD0 = c.dims[0]): number[] {
  return [c.dims.length, tableD0, ...c.dims.slice(1), ...c.strides.flat()];
}

export const outputCount = (c: BroadcastCase): number => c.dims.reduce((p, d) => p * d, 1);

/** Elements operand o needs (largest index reached + 1). */
export function operandLength(c: BroadcastCase, o: number): number {
  return 1 + c.dims.reduce((s, d, j) => s + (d - 1) * c.strides[o][j], 0);
}

/** For every output index, the element index of each operand. */
export function operandIndices(c: BroadcastCase): number[][] {
  const out: number[][] = [];
  for (let lin = 0; lin < outputCount(c); lin++) {
    let t = lin;
    const idx = c.strides.map(() => 0);
    for (let j = c.dims.length - 1; j >= 0; j--) {
      const k = t % c.dims[j];
      t = Math.floor(t / c.dims[j]);
      c.strides.forEach((s, o) => (idx[o] += k * s[j]));
    }
    out.push(idx);
  }
  return out;
}

/** Contiguous row-major strides of dims, with 0 where a dim is broadcast (size 1 in the operand's shape). */
export function stridesFor(outDims: number[], operandDims: number[]): number[] {
  // Right-align the operand's shape against the output's (numpy/ONNX broadcasting).
  const padded = [...Array(outDims.length - operandDims.length).fill(1), ...operandDims];
  const strides = new Array<number>(outDims.length).fill(0);
  let step = 1;
  for (let j = outDims.length - 1; j >= 0; j--) {
    strides[j] = padded[j] === 1 ? 0 : step;
    step *= padded[j];
  }
  return strides;
}

/** Two-operand cases: same shape, scalars, rows, columns, middle broadcast, ranks 1-6, 16+ wide rows. */
export function binaryCases(): BroadcastCase[] {
  const c = (name: string, dims: number[], a: number[], b: number[]): BroadcastCase => ({
    name,
    dims,
    strides: [stridesFor(dims, a), stridesFor(dims, b)],
  });
  return [
    c('same shape, rank 1 (SIMD and a tail)', [1003], [1003], [1003]),
    c('same shape rank 3', [3, 5, 7], [3, 5, 7], [3, 5, 7]),
    c('b scalar', [5, 37], [5, 37], [1]),
    c('a scalar', [5, 37], [1], [5, 37]),
    c('b row vector', [4, 21], [4, 21], [21]),
    c('b column vector', [6, 11], [6, 11], [6, 1]),
    c('3-D middle broadcast', [2, 4, 6], [2, 4, 6], [2, 1, 6]),
    c('outer product', [7, 9], [7, 1], [1, 9]),
    c('rank 4 both broadcast', [3, 4, 5, 6], [1, 4, 1, 6], [3, 1, 5, 6]),
    c('rank 6 mixed', [2, 2, 3, 1, 2, 19], [2, 2, 3, 1, 2, 19], [2, 1, 3, 1, 1, 19]),
    c('1-sized dims', [1, 1, 33], [1, 1, 33], [1, 33]),
    // General strides (a transposed view), which no SIMD path takes.
    {
      name: 'transposed a',
      dims: [5, 6],
      strides: [
        [1, 5],
        [6, 1],
      ],
    },
  ];
}
