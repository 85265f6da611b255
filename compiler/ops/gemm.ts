import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, broadcastStrides, product, stridedView } from '../tensor.js';
import { broadcastTo } from './expand.js';
import { constPerRow } from './strided.js';
import { lowerBinary } from './binary.js';
import { packPanels, padBias } from '../pack.js';
import {
  type Arg,
  type DataRef,
  type GemmEpilogue,
  type RtValue,
  batchAxisOf,
  buf,
  data,
  f32,
  i32,
} from '../program.js';

/**
 * out = x · B + bias for run-time x [rows…, K] and constant B: one call of the packed GEMM kernel. Its
 * epilogue may later absorb a per-column affine map and an activation (compiler/fuse.ts); the weights are
 * packed once that is settled.
 */
export function emitGemm(
  ctx: NodeContext,
  x: RtValue,
  K: number,
  N: number,
  b: (k: number, n: number) => number,
  outDims: number[],
  bias: Float32Array | null = null,
): RtValue {
  const y: RtValue = { ...ctx.newValue(outDims, x.batched), batchAxis: x.batchAxis };
  const epilogue: GemmEpilogue = { n: N, scale: null, bias, act: CODES.ACT.NONE, p0: 0, p1: 0 };
  let weights: DataRef | null = null;
  let biasRef: DataRef | null = null;
  ctx.program.beforeLayout(() => {
    const s = epilogue.scale;
    weights = ctx.program.addFloats(packPanels(K, N, s ? (k, n) => Math.fround(b(k, n) * s[n]) : b));
    biasRef = epilogue.bias ? ctx.program.addFloats(padBias(N, (n) => epilogue.bias![n])) : null;
  });
  const rowsPerBatchRow = product(x.dims) / K;
  const m: Arg = x.batched ? { t: 'rows', times: rowsPerBatchRow } : i32(rowsPerBatchRow);
  const step = ctx.program.addStep(
    'gemm',
    () => ({
      a: buf(x),
      lda: i32(K),
      w: data(weights),
      bias: data(biasRef),
      c: buf(y),
      ldc: i32(N),
      M: m,
      N: i32(N),
      K: i32(K),
      act: i32(epilogue.act),
      p0: f32(epilogue.p0),
      p1: f32(epilogue.p1),
    }),
    [x],
    [y],
  );
  step.epilogue = epilogue;
  return y;
}

function foldMatMul(a: Tensor, b: Tensor): Tensor {
  if (a.dims.length !== 2 || b.dims.length !== 2)
    throw new NodeProblem('constant MatMul folding supports 2-D operands only');
  const [M, K] = a.dims;
  const N = b.dims[1];
  const out = new Float64Array(M * N);
  const A = a.numbers;
  const B = b.numbers;
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[i * N + j] += A[i * K + k] * B[k * N + j];
  return Tensor.fromNumbers(a.dtype, [M, N], out);
}

const matMul: OpHandler = {
  inputs: 'A B',
  fold: (_ctx, [a, b]) => [foldMatMul(a!, b!)],
  lower(ctx) {
    if (ctx.input(0)?.kind === 'const')
      return ctx.output(0, lowerConstantLeft(ctx, ctx.constant(0, 'A'), ctx.rt(1, true)));
    const x = ctx.rt(0, true);
    if (batchAxisOf(x) === x.dims.length - 1) throw new NodeProblem('MatMul would sum over the batch axis', 'batch');
    if (ctx.input(1)?.kind === 'rt') return ctx.output(0, lowerRuntimeMatMul(ctx, x, ctx.rt(1, true)));
    const w = ctx.constant(1, 'the second MatMul operand (weights)');
    if (x.dims.length < 1 || x.dims.length === 1) throw new NodeProblem('a 1-D first operand is not supported');
    const K = x.dims[x.dims.length - 1];
    if (w.dims.length === 1) {
      // [.., K] · [K] → [..]: a one-column GEMM.
      if (w.dims[0] !== K) throw new NodeProblem(`inner dimensions differ: ${K} and ${w.dims[0]}`, 'invalid-graph');
      const v = w.toFloat32();
      return ctx.output(
        0,
        emitGemm(ctx, x, K, 1, (k) => v[k], x.dims.slice(0, -1)),
      );
    }
    if (w.dims.slice(0, -2).some((d) => d !== 1)) {
      if (batchAxisOf(x) > 0) throw new NodeProblem('stacked weights over a moved batch axis', 'batch');
      return ctx.output(0, lowerStackedWeights(ctx, x, w));
    }
    const [K2, N] = w.dims.slice(-2);
    if (K2 !== K) throw new NodeProblem(`inner dimensions differ: [${x.dims}] · [${w.dims}]`, 'invalid-graph');
    if (w.dims.length > x.dims.length)
      throw new NodeProblem(`weights [${w.dims}] have more dims than the input [${x.dims}]`, 'batch');
    const v = w.toFloat32();
    ctx.output(
      0,
      emitGemm(ctx, x, K, N, (k, n) => v[k * N + n], [...x.dims.slice(0, -1), N]),
    );
  },
};

const gemm: OpHandler = {
  inputs: 'A B C?',
  fold(ctx, [a, b, c]) {
    const ta = ctx.int('transA', 0);
    const tb = ctx.int('transB', 0);
    const alpha = ctx.float('alpha', 1);
    const beta = ctx.float('beta', 1);
    const A = ta ? transposed(a!) : a!;
    const B = tb ? transposed(b!) : b!;
    let y = foldMatMul(A, B);
    y = Tensor.fromNumbers(
      y.dtype,
      y.dims,
      y.numbers.map((v) => v * alpha),
    );
    if (c) {
      const ct = c;
      const scaled = Tensor.fromNumbers(
        ct.dtype,
        ct.dims,
        ct.numbers.map((v) => v * beta),
      );
      const sum = new Float64Array(y.size);
      const [M, N] = y.dims;
      const cs = scaled.numbers;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          const ci =
            scaled.dims.length === 0 || scaled.size === 1
              ? 0
              : scaled.dims.length === 1
                ? j
                : (scaled.dims[0] === 1 ? 0 : i) * scaled.dims[1] + (scaled.dims[1] === 1 ? 0 : j);
          sum[i * N + j] = y.numbers[i * N + j] + cs[ci];
        }
      y = Tensor.fromNumbers(y.dtype, y.dims, sum);
    }
    return [y];
  },
  lower(ctx) {
    const x = ctx.rt(0);
    const w = ctx.constant(1, 'B (weights)');
    if (x.dims.length !== 2 || w.dims.length !== 2)
      throw new NodeProblem(`Gemm needs 2-D A and B, got [${x.dims}] and [${w.dims}]`, 'invalid-graph');
    if (ctx.int('transA', 0)) {
      if (x.batched) throw new NodeProblem('transA=1 on a run-time input transposes the batch away', 'batch');
      throw new NodeProblem('transA=1 on a run-time input is not supported');
    }
    const transB = ctx.int('transB', 0) !== 0;
    const alpha = ctx.float('alpha', 1);
    const beta = ctx.float('beta', 1);
    const K = x.dims[1];
    const [K2, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
    if (K2 !== K)
      throw new NodeProblem(
        `inner dimensions differ: A is [${x.dims}], B is [${w.dims}]${transB ? ' (transposed)' : ''}`,
        'invalid-graph',
      );
    const v = w.toFloat32();
    const at = transB ? (k: number, n: number) => alpha * v[n * K + k] : (k: number, n: number) => alpha * v[k * N + n];
    const c = ctx.input(2);
    if (
      c?.kind === 'const' &&
      beta !== 0 &&
      (c.tensor.size === 1 || (c.tensor.size === N && c.tensor.dims[c.tensor.dims.length - 1] === N))
    ) {
      // C per column: the GEMM's own bias.
      const cv = c.tensor.toFloat32();
      const bias = Float32Array.from({ length: N }, (_, n) => beta * cv[c.tensor.size === 1 ? 0 : n]);
      return ctx.output(0, emitGemm(ctx, x, K, N, at, [x.dims[0], N], bias));
    }
    const y = emitGemm(ctx, x, K, N, at, [x.dims[0], N]);
    if (!c || beta === 0) return ctx.output(0, y);
    // A full [M, N] or run-time C: add it after the GEMM.
    const cScaled =
      beta === 1 || c.kind !== 'const'
        ? c
        : {
            kind: 'const' as const,
            tensor: Tensor.fromNumbers(
              'float32',
              c.tensor.dims,
              c.tensor.numbers.map((t) => t * beta),
            ),
          };
    if (c.kind !== 'const' && beta !== 1) throw new NodeProblem('beta ≠ 1 with a run-time C is not supported');
    ctx.output(0, lowerBinary(ctx, 'binary_add', y, cScaled));
  },
};

/** MatMul of two run-time tensors [.., M, K] · [.., K, N] with equal leading dims (attention). */
function lowerRuntimeMatMul(ctx: NodeContext, a: RtValue, b: RtValue): RtValue {
  const ra = a.dims.length;
  if (ra < 3 || b.dims.length !== ra || !a.batched || !b.batched) {
    throw new NodeProblem(
      `a MatMul of two run-time tensors needs equal-rank batched operands of rank ≥ 3, got [${a.dims}] and [${b.dims}]`,
      a.batched && ra === 2 ? 'batch' : 'unsupported-ops',
    );
  }
  if (batchAxisOf(a) !== batchAxisOf(b) || batchAxisOf(b) >= ra - 2)
    throw new NodeProblem('MatMul would mix the rows of a batch', 'batch');
  // Leading dims broadcast (numpy rules, the batch excepted): copy the size-1 side out first.
  const lead = a.dims.slice(0, -2).map((d, i) => (i === batchAxisOf(a) ? d : Math.max(d, b.dims[i])));
  for (const v of [a, b]) {
    if (v.dims.slice(0, -2).some((d, i) => d !== lead[i] && d !== 1))
      throw new NodeProblem(`the leading dims of [${a.dims}] and [${b.dims}] do not broadcast`, 'invalid-graph');
  }
  if (
    batchAxisOf(a) > 0 &&
    (a.dims.slice(0, -2).some((d, i) => d !== lead[i]) || b.dims.slice(0, -2).some((d, i) => d !== lead[i]))
  ) {
    throw new NodeProblem('broadcasting leading dims around a moved batch axis', 'batch');
  }
  a = broadcastTo(ctx, a, [...lead, ...a.dims.slice(-2)], true);
  b = broadcastTo(ctx, b, [...lead, ...b.dims.slice(-2)], true);
  const [M, K] = a.dims.slice(-2);
  const [K2, N] = b.dims.slice(-2);
  if (K !== K2) throw new NodeProblem(`inner dimensions differ: [${a.dims}] · [${b.dims}]`, 'invalid-graph');
  const y: RtValue = { ...ctx.newValue([...lead, M, N], true), batchAxis: a.batchAxis };
  const batches: Arg = { t: 'rows', times: product(lead) };
  ctx.program.addStep(
    'matmul',
    () => ({ a: buf(a), b: buf(b), c: buf(y), batches, M: i32(M), N: i32(N), K: i32(K), bPeriod: i32(0) }),
    [a, b],
    [y],
  );
  return y;
}

/**
 * Run-time x [N, …, M, K] times constant stacked weights [1, …, K, N] (one matrix per leading index,
 * the same for every batch row): the matmul kernel cycling through the weight matrices.
 */
function lowerStackedWeights(ctx: NodeContext, x: RtValue, w: Tensor): RtValue {
  const wLead = w.dims.slice(0, -2);
  const pad = x.dims.length - w.dims.length;
  if (pad < 0 || !x.batched)
    throw new NodeProblem(`weights [${w.dims}] have more dims than the input [${x.dims}]`, 'batch');
  const aligned = [...new Array(pad).fill(1), ...wLead];
  if (aligned[0] !== 1)
    throw new NodeProblem(`weights [${w.dims}] would broadcast over the batch of [${x.dims}]`, 'batch');
  // Leading dims broadcast both ways: the input is copied out where it has 1s, the weights where they do.
  const xLead = x.dims.slice(0, -2).map((d, i) => (i === 0 ? d : Math.max(d, aligned[i])));
  if (
    x.dims.slice(1, -2).some((d, i) => d !== xLead[i + 1] && d !== 1) ||
    aligned.slice(1).some((d, i) => d !== xLead[i + 1] && d !== 1)
  ) {
    throw new NodeProblem(`weights [${w.dims}] and the input [${x.dims}] do not broadcast`, 'invalid-graph');
  }
  const [M, K] = x.dims.slice(-2);
  const [K2, N] = w.dims.slice(-2);
  if (K !== K2) throw new NodeProblem(`inner dimensions differ: [${x.dims}] · [${w.dims}]`, 'invalid-graph');
  x = broadcastTo(ctx, x, [...xLead, M, K], true);
  const wDims = [...xLead.slice(1), K, N];
  const weights = ctx.program.addFloats(stridedView(w, wDims, broadcastStrides(w.dims, wDims), 0).toFloat32());
  const y = ctx.newValue([...xLead, M, N], true);
  const period = product(xLead.slice(1));
  const batches: Arg = { t: 'rows', times: product(xLead) };
  ctx.program.addStep(
    'matmul',
    () => ({ a: buf(x), b: data(weights), c: buf(y), batches, M: i32(M), N: i32(N), K: i32(K), bPeriod: i32(period) }),
    [x],
    [y],
  );
  return y;
}

/** Constant A [.., M, K] times run-time B [N, .., K, Nn]: A copied out for every row, then the batched kernel. */
function lowerConstantLeft(ctx: NodeContext, a: Tensor, b: RtValue): RtValue {
  if (!b.batched || b.dims.length < 3 || batchAxisOf(b) !== 0)
    throw new NodeProblem('a constant first MatMul operand needs a batched second operand of rank ≥ 3', 'batch');
  if (a.dims.length < 2 || a.dims.length > b.dims.length)
    throw new NodeProblem(`constant [${a.dims}] · run-time [${b.dims}] is not supported`);
  const aligned = [...new Array(b.dims.length - a.dims.length).fill(1), ...a.dims];
  if (aligned[0] !== 1)
    throw new NodeProblem(`constant [${a.dims}] would broadcast over the batch of [${b.dims}]`, 'batch');
  const lead = b.dims.slice(0, -2).map((d, i) => Math.max(d, aligned[i]));
  const full = constPerRow(ctx, a, [...lead, ...a.dims.slice(-2)]);
  return lowerRuntimeMatMul(ctx, full as RtValue, b);
}

function transposed(t: Tensor): Tensor {
  const [r, c] = t.dims;
  const v = t.numbers;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j];
  return Tensor.fromNumbers(t.dtype, [c, r], out);
}

export const GEMM_OPS: Record<string, OpHandler> = { Gemm: gemm, MatMul: matMul };
