import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { packPanels, padBias } from '../pack.js';
import { buf, data, f32, i32, type DataRef, type GemmEpilogue, type RtValue, type Value } from '../program.js';
import { broadcastShapes, shapeToString, stridesOf, type SizeCheck } from '../shape/shapes.js';
import { isConst, mul, product, sameSize, sameSizes, sizeToString, type Size } from '../shape/size.js';
import { Tensor } from '../tensor.js';
import { lowerBinary } from './binary.js';
import { broadcastTo } from './expand.js';
import type { OpHandler } from './op.js';
import { constantAs, stridedCopy } from './strided.js';

/**
 * Gemm and MatMul. Constant weights are packed at compile time for the GEMM kernel (assembly/gemm.ts);
 * run-time operands on both sides go through the batched matmul kernel (attention's Q·Kᵀ and ·V).
 */

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
  outDims: Size[],
  bias: Float32Array | null = null,
): RtValue {
  // Rows keep their axis unless it is the one summed over.
  const r = x.rowAxis;
  const rowAxis = r === x.dims.length - 1 ? undefined : r;
  const y: RtValue = { ...ctx.newValue(outDims), rowAxis };
  const epilogue: GemmEpilogue = { n: N, scale: null, bias, act: CODES.ACT.NONE, p0: 0, p1: 0 };
  let weights: DataRef | null = null;
  let biasRef: DataRef | null = null;
  ctx.program.beforeLayout(() => {
    const s = epilogue.scale;
    weights = ctx.program.addFloats(packPanels(K, N, s ? (k, n) => Math.fround(b(k, n) * s[n]) : b));
    biasRef = epilogue.bias ? ctx.program.addFloats(padBias(N, (n) => epilogue.bias![n])) : null;
  });
  const M = product(x.dims.slice(0, -1));
  if (!sameSize(product(outDims), mul(M, N)))
    throw new Error(`internal: GEMM output ${shapeToString(outDims)} does not hold ${sizeToString(M)}×${N} values`);
  const step = ctx.program.addStep(
    'gemm',
    () => ({
      a: buf(x),
      lda: i32(K),
      w: data(weights),
      bias: data(biasRef),
      c: buf(y),
      ldc: i32(N),
      M: i32(M),
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

const staticDim = (d: Size, what: string): number => {
  if (!isConst(d)) throw new NodeProblem(`${what} must have a fixed size, not a symbolic one`);
  return d;
};

const matMul: OpHandler = {
  inputs: 'A B',
  fold: (_ctx, [a, b]) => [foldMatMul(a!, b!)],
  lower(ctx) {
    const [a, b] = [ctx.input(0)!, ctx.input(1)!];
    if (b.kind === 'const' && a.kind === 'rt') return ctx.output(0, lowerConstantWeights(ctx, ctx.rt(0), b.tensor));
    ctx.output(0, lowerMatMul(ctx, a, b));
  },
};

/** x [.., K] · constant W: [K] or [K, N] (or [1.., K, N]) packed for the GEMM; stacked W per leading index. */
function lowerConstantWeights(ctx: NodeContext, x: RtValue, w: Tensor): RtValue {
  if (x.dims.length === 1) return lowerMatMul(ctx, x, { kind: 'const', tensor: w });
  const K = staticDim(x.dims[x.dims.length - 1], 'the inner (K) dimension of a MatMul with constant weights');
  if (w.dims.length === 1) {
    // [.., K] · [K] → [..]: a one-column GEMM.
    if (w.dims[0] !== K) throw new NodeProblem(`inner dimensions differ: ${K} and ${w.dims[0]}`, 'invalid-graph');
    const v = w.toFloat32();
    return emitGemm(ctx, x, K, 1, (k) => v[k], x.dims.slice(0, -1));
  }
  if (w.dims.slice(0, -2).some((d) => d !== 1) || w.dims.length > x.dims.length)
    return lowerMatMul(ctx, x, { kind: 'const', tensor: w });
  const [K2, N] = w.dims.slice(-2);
  if (K2 !== K)
    throw new NodeProblem(`inner dimensions differ: ${shapeToString(x.dims)} · [${w.dims}]`, 'invalid-graph');
  const v = w.toFloat32();
  return emitGemm(ctx, x, K, N, (k, n) => v[k * N + n], [...x.dims.slice(0, -1), N]);
}

/**
 * MatMul's shape rules (numpy matmul): 1-D operands get a 1 prepended (A) or appended (B), the inner
 * dimensions must agree, the leading dims broadcast (checked now, or at run time when symbolic).
 */
export function matmulShapes(ctx: NodeContext, da: Size[], db: Size[]) {
  if (da.length === 0 || db.length === 0)
    throw new NodeProblem('MatMul operands must have at least one dimension', 'invalid-graph');
  const aDims = da.length === 1 ? [1, ...da] : da;
  const bDims = db.length === 1 ? [...db, 1] : db;
  const [M, K] = aDims.slice(-2);
  const [K2, N] = bDims.slice(-2);
  if (!sameSize(K, K2)) {
    if (isConst(K) && isConst(K2))
      throw new NodeProblem(`inner dimensions differ: ${shapeToString(da)} · ${shapeToString(db)}`, 'invalid-graph');
    ctx.require(K, K2, `the inner dimensions of ${shapeToString(da)} · ${shapeToString(db)} must be equal`);
  }
  const checks: SizeCheck[] = [];
  const lead = broadcastShapes(aDims.slice(0, -2), bDims.slice(0, -2), checks);
  if (!lead)
    throw new NodeProblem(
      `the leading dims of ${shapeToString(da)} and ${shapeToString(db)} do not broadcast`,
      'invalid-graph',
    );
  for (const c of checks) ctx.require(c.a, c.b, c.message);
  return { da, db, aDims, bDims, M, K, K2, N, lead };
}

/**
 * The general MatMul [.., M, K] · [.., K, N] with numpy broadcasting of the leading dims (1-D operands get
 * a 1 prepended or appended, removed again after), by the batched matmul kernel. A constant operand is
 * copied out; a constant right side that only repeats along the leading dims is read in place, cycling.
 */
function lowerMatMul(ctx: NodeContext, a0: Value, b0: Value): RtValue {
  const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);
  const { da, db, aDims, bDims, M, K, K2, N, lead } = matmulShapes(ctx, dimsOf(a0), dimsOf(b0));
  const batches = product(lead);

  // A: copied out to the full leading shape when it broadcasts (or is a constant).
  const aFull = [...lead, M, K];
  const a = operandAs(ctx, a0, aDims, aFull);
  // B: a constant read in place from the data segment when it repeats whole along the leading 1s in front
  // of its own leading dims (the kernel cycles through it with that period); else copied out in full.
  let b: RtValue | DataRef;
  let bPeriod: Size = 0;
  const bLead = [...new Array(lead.length - (bDims.length - 2)).fill(1), ...bDims.slice(0, -2)];
  const first = bLead.findIndex((d) => d !== 1);
  const own = first < 0 ? [] : bLead.slice(first);
  if (b0.kind === 'const' && sameSizes(own, lead.slice(lead.length - own.length))) {
    b = ctx.program.addFloats(b0.tensor.toFloat32());
    bPeriod = own.length === lead.length ? 0 : Math.max(1, product(own) as number);
  } else b = operandAs(ctx, b0, bDims, [...lead, K2, N]);

  const outFull = [...lead, M, N];
  const outDims =
    da.length === 1 && db.length === 1 ? [] : da.length === 1 ? [...lead, N] : db.length === 1 ? [...lead, M] : outFull;
  const rowAxis = matmulRows(a0, b0, lead.length);
  const y = { ...ctx.newValue(outDims), rowAxis };
  const bArg = 'kind' in b ? buf(b) : data(b);
  ctx.program.addStep(
    'matmul',
    () => ({
      a: buf(a),
      b: bArg,
      c: buf(y),
      batches: i32(batches),
      M: i32(M),
      N: i32(N),
      K: i32(K),
      bPeriod: i32(bPeriod),
    }),
    'kind' in b ? [a, b] : [a],
    [y],
  );
  return y;
}

/** An operand as a run-time value of `full` dims (leading 1s broadcast by a copy, constants copied out). */
function operandAs(ctx: NodeContext, v: Value, dims: Size[], full: Size[]): RtValue {
  if (v.kind === 'const') return constantAs(ctx, v.tensor.reshape(dims as number[]), full);
  if (v.kind === 'shape') throw new NodeProblem('a shape cannot be a MatMul operand');
  const x = { ...v, dims };
  return sameSizes(dims, full) ? x : broadcastTo(ctx, x, full);
}

/** Rows survive a MatMul on a leading axis both sides share (or one side's, when the other has no rows). */
function matmulRows(a: Value, b: Value, leadRank: number): RtValue['rowAxis'] {
  const rowsOf = (v: Value) => (v.kind === 'rt' ? v.rowAxis : 'none');
  const aligned = (v: Value): RtValue['rowAxis'] => {
    const r = rowsOf(v);
    if (typeof r !== 'number' || v.kind === 'const') return r;
    const rank = v.kind === 'rt' ? v.dims.length : 0;
    const at = r + leadRank + 2 - Math.max(rank, 2);
    return r < rank - 2 ? at : undefined; // rows in M or K/N are mixed or summed
  };
  const [ra, rb] = [aligned(a), aligned(b)];
  if (ra === undefined || rb === undefined) return undefined;
  if (ra === 'none') return rb === 'none' ? 'none' : rb;
  if (rb === 'none') {
    // Rows on A's M axis (a plain [N, K] · W) stay on M.
    return ra;
  }
  return ra === rb ? ra : undefined;
}

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
      const cs = c.numbers.map((v) => v * beta);
      const [M, N] = y.dims;
      const sum = new Float64Array(y.size);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          const ci =
            c.dims.length === 0 || c.size === 1
              ? 0
              : c.dims.length === 1
                ? j
                : (c.dims[0] === 1 ? 0 : i) * c.dims[1] + (c.dims[1] === 1 ? 0 : j);
          sum[i * N + j] = y.numbers[i * N + j] + cs[ci];
        }
      y = Tensor.fromNumbers(y.dtype, y.dims, sum);
    }
    return [y];
  },
  lower(ctx) {
    const transA = ctx.int('transA', 0) !== 0;
    const transB = ctx.int('transB', 0) !== 0;
    const alpha = ctx.float('alpha', 1);
    const beta = ctx.float('beta', 1);
    const [a0, b0, c] = [ctx.input(0)!, ctx.input(1)!, ctx.input(2)];
    if (
      (a0.kind === 'const' ? a0.tensor.dims : a0.dims).length !== 2 ||
      (b0.kind === 'const' ? b0.tensor.dims : b0.dims).length !== 2
    )
      throw new NodeProblem('Gemm needs 2-D A and B', 'invalid-graph');
    const a = a0.kind === 'rt' && transA ? transposeRt(ctx, ctx.rt(0)) : a0.kind === 'rt' ? ctx.rt(0) : a0;
    if (c && ctx.opset < 7 && !ctx.int('broadcast', 0)) requireFullC(ctx, a, c, transA);
    let y: RtValue;
    let biasDone = false;
    if (a.kind === 'rt' && b0.kind === 'const') {
      // Constant B: packed (transposed as the attribute says), alpha folded in, a per-column C as bias.
      const w = b0.tensor;
      const K = staticDim(a.dims[1], 'the inner (K) dimension of a Gemm with constant weights');
      const [K2, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
      if (K2 !== K)
        throw new NodeProblem(
          `inner dimensions differ: A is ${shapeToString(a.dims)}, B is [${w.dims}]${transB ? ' (transposed)' : ''}`,
          'invalid-graph',
        );
      const v = w.toFloat32();
      const at = transB
        ? (k: number, n: number) => alpha * v[n * K + k]
        : (k: number, n: number) => alpha * v[k * N + n];
      let bias: Float32Array | null = null;
      if (
        c?.kind === 'const' &&
        beta !== 0 &&
        (c.tensor.size === 1 || (c.tensor.size === N && c.tensor.dims[c.tensor.dims.length - 1] === N))
      ) {
        const cv = c.tensor.toFloat32();
        bias = Float32Array.from({ length: N }, (_, n) => beta * cv[c.tensor.size === 1 ? 0 : n]);
        biasDone = true;
      }
      y = emitGemm(ctx, a, K, N, at, [a.dims[0], N], bias);
    } else {
      // Run-time B (or a constant A): the matmul kernel on the (transposed) operands, then alpha.
      const aT: Value = a.kind === 'const' && transA ? { kind: 'const', tensor: transposed(a.tensor) } : a;
      const bT: Value =
        b0.kind === 'rt' && transB
          ? transposeRt(ctx, ctx.rt(1))
          : b0.kind === 'const' && transB
            ? { kind: 'const', tensor: transposed(b0.tensor) }
            : b0;
      y = lowerMatMul(ctx, aT, bT);
      if (alpha !== 1)
        y = lowerBinary(ctx, 'binary_mul', y, { kind: 'const', tensor: Tensor.scalar('float32', alpha) });
    }
    if (!c || beta === 0 || biasDone) return ctx.output(0, y);
    const cScaled: Value =
      beta === 1
        ? c
        : c.kind === 'const'
          ? {
              kind: 'const',
              tensor: Tensor.fromNumbers(
                'float32',
                c.tensor.dims,
                c.tensor.numbers.map((t) => t * beta),
              ),
            }
          : lowerBinary(ctx, 'binary_mul', c, { kind: 'const', tensor: Tensor.scalar('float32', beta) });
    ctx.output(0, lowerBinary(ctx, 'binary_add', y, cScaled));
  },
};

/** Gemm-1 and -6 broadcast C only with broadcast=1: without it C is the whole [M, N] output. */
function requireFullC(ctx: NodeContext, a: Value, c: Value, transA: boolean): void {
  const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);
  const [cDims, aDims] = [dimsOf(c), dimsOf(a)];
  const M = transA ? aDims[1] : aDims[0];
  if (cDims.length !== 2 || (isConst(cDims[0]) && isConst(M) && cDims[0] !== M))
    throw new NodeProblem(
      `C is ${shapeToString(cDims)}: without broadcast=1 (opset ${ctx.opset}) C must be the whole [M, N] output`,
      'invalid-graph',
    );
}

/** A run-time 2-D value transposed (a strided copy). */
function transposeRt(ctx: NodeContext, x: RtValue): RtValue {
  const s = stridesOf(x.dims);
  const y = stridedCopy(ctx, x, [x.dims[1], x.dims[0]], [s[1], s[0]], 0);
  return { ...y, rowAxis: x.rowAxis === 'none' ? 'none' : undefined };
}

function transposed(t: Tensor): Tensor {
  const [r, c] = t.dims;
  const v = t.numbers;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j];
  return Tensor.fromNumbers(t.dtype, [c, r], out);
}

export const GEMM_OPS: Record<string, OpHandler> = { Gemm: gemm, MatMul: matMul };
