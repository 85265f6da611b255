import type { OpHandler } from '../op.js';
import { NodeProblem } from '../../errors.js';
import type { NodeContext } from '../../lowering/context.js';
import { buf, data, i32, type PtrArg, type RtValue } from '../../program.js';
import { shapeToString } from '../../shape/shapes.js';
import { add, ceilDiv, isConst, mod, mul, product, sameSizes, type Size } from '../../shape/size.js';
import { Tensor } from '../../tensor.js';
import { matmulShapes } from '../gemm.js';
import { outputScale, requantize } from './math.js';
import { packB, widenRows } from './pack.js';
import {
  channelValues,
  operand,
  perChannel,
  perTensor,
  ptrOf,
  qtypeOf,
  required,
  storageFor,
  type Operand,
} from './operands.js';

/**
 * MatMulInteger (10) and QLinearMatMul (10, 21): [.., M, K] · [.., K, N] over uint8/int8 operands with
 * numpy broadcasting where one side's leading dims are all 1 (or both sides have the same), as exact i32
 * sums (assembly/qgemm.ts); QLinearMatMul then requantizes them. A constant side is widened (A) or packed
 * (B) at compile time; a run-time side by a kernel per call. Zero points: A's one value (MatMulInteger: or
 * one per row), B's one value or one per column; QLinearMatMul's scales: A's and Y's one value, B's one
 * or one per column.
 */

const Q8 = ['uint8', 'int8'] as const;

interface Geometry {
  lead: Size[];
  batches: Size;
  M: Size;
  K: Size;
  N: Size;
  /** Batches each operand holds (1: repeated for every batch). */
  aBatches: Size;
  bBatches: Size;
  outDims: Size[];
}

function geometry(ctx: NodeContext, a: Operand, b: Operand): Geometry {
  const { da, db, aDims, bDims, M, K, N, lead } = matmulShapes(ctx, a.dims, b.dims);
  const [la, lb] = [aDims.slice(0, -2), bDims.slice(0, -2)];
  // Each side either repeats (its leading dims are all 1) or has the whole leading shape.
  const batchesOf = (l: Size[]): Size => {
    if (l.every((d) => d === 1)) return 1;
    const padded = [...new Array(lead.length - l.length).fill(1), ...l];
    if (sameSizes(padded, lead)) return product(lead);
    throw new NodeProblem(
      `broadcasting ${shapeToString(da)} · ${shapeToString(db)} over their leading dims is not supported yet (one side's leading dims must be all 1, or both the same)`,
    );
  };
  const outDims =
    da.length === 1 && db.length === 1
      ? [...lead]
      : da.length === 1
        ? [...lead, N]
        : db.length === 1
          ? [...lead, M]
          : [...lead, M, N];
  return { lead, batches: product(lead), M, K, N, aBatches: batchesOf(la), bBatches: batchesOf(lb), outDims };
}

/** Bytes of an i16 buffer of `elements`. */
const i16Bytes = (ctx: NodeContext, elements: Size): RtValue => ctx.newValue([mul(elements, 2)], 'uint8');
const evenK = (K: Size): Size => add(K, mod(K, 2));
const packedSize = (K: Size, N: Size): Size => mul(mul(ceilDiv(N, 8), 8), evenK(K));

/** A as A16 rows [aBatches·M, Kp]: widened at compile time when constant, else by q_widen. */
function operandA(
  ctx: NodeContext,
  a: Operand,
  zp: Operand | undefined,
  g: Geometry,
): { ptr: PtrArg; reads: RtValue[] } {
  const rows = mul(g.aBatches, g.M);
  const perRow = perChannel(ctx, zp, g.M, 'a_zero_point') === 'channels';
  if (a.tensor && (!zp || zp.tensor) && isConst(rows) && isConst(g.K) && isConst(g.M)) {
    const v = a.tensor.numbers;
    const z = channelValues(zp, g.M, 0);
    const K = g.K;
    const M = g.M;
    return {
      ptr: data(
        ctx.program.addData(
          widenRows(
            rows,
            K,
            (r, k) => v[r * K + k],
            (r) => z[r % M],
          ),
        ),
      ),
      reads: [],
    };
  }
  const y = i16Bytes(ctx, mul(rows, evenK(g.K)));
  const [ap, zpp] = [ptrOf(ctx, a), ptrOf(ctx, zp)];
  ctx.program.addStep(
    'q_widen',
    () => ({
      x: ap,
      signed: i32(a.type === 'int8' ? 1 : 0),
      zp: zpp,
      zpPeriod: i32(perRow ? g.M : 0),
      y: buf(y),
      rows: i32(rows),
      K: i32(g.K),
    }),
    [...a.reads, ...(zp?.reads ?? [])],
    [y],
  );
  return { ptr: buf(y), reads: [y] };
}

/** B packed [bBatches] (assembly/qgemm.ts): at compile time when constant, else by q_pack_b. */
function operandB(
  ctx: NodeContext,
  b: Operand,
  zp: Operand | undefined,
  g: Geometry,
): { ptr: PtrArg; reads: RtValue[] } {
  const perColumn = perChannel(ctx, zp, g.N, 'b_zero_point') === 'channels';
  if (b.tensor && (!zp || zp.tensor) && isConst(g.bBatches) && isConst(g.K) && isConst(g.N)) {
    const v = b.tensor.numbers;
    const z = channelValues(zp, g.N, 0);
    const { K, N } = { K: g.K, N: g.N };
    return {
      ptr: data(
        ctx.program.addData(
          packB(
            g.bBatches,
            K,
            N,
            (t, k, n) => v[(t * K + k) * N + n],
            (n) => z[n],
          ),
        ),
      ),
      reads: [],
    };
  }
  const y = i16Bytes(ctx, mul(g.bBatches, packedSize(g.K, g.N)));
  const [bp, zpp] = [ptrOf(ctx, b), ptrOf(ctx, zp)];
  ctx.program.addStep(
    'q_pack_b',
    () => ({
      b: bp,
      signed: i32(b.type === 'int8' ? 1 : 0),
      zp: zpp,
      zpPerColumn: i32(perColumn ? 1 : 0),
      packed: buf(y),
      batches: i32(g.bBatches),
      K: i32(g.K),
      N: i32(g.N),
    }),
    [...b.reads, ...(zp?.reads ?? [])],
    [y],
  );
  return { ptr: buf(y), reads: [y] };
}

/** The exact i32 products [lead, M, N] of the two operands. */
function integerProduct(
  ctx: NodeContext,
  a: Operand,
  aZp: Operand | undefined,
  b: Operand,
  bZp: Operand | undefined,
  g: Geometry,
): RtValue {
  const A = operandA(ctx, a, aZp, g);
  const B = operandB(ctx, b, bZp, g);
  const c = ctx.newValue(g.outDims, 'int32');
  ctx.program.addStep(
    'qgemm',
    () => ({
      a: A.ptr,
      b: B.ptr,
      c: buf(c),
      batches: i32(g.batches),
      M: i32(g.M),
      N: i32(g.N),
      K: i32(g.K),
      aPeriod: i32(g.aBatches === 1 ? 1 : 0),
      bPeriod: i32(g.bBatches === 1 ? 1 : 0),
      cStride: i32(mul(g.M, g.N)),
    }),
    [...A.reads, ...B.reads],
    [c],
  );
  return c;
}

/** Rows survive on A's leading or M axis when B is the same for every row (they never meet in a sum). */
function rowsOf(a: Operand, b: Operand, g: Geometry): RtValue['rowAxis'] {
  if ((b.reads[0]?.rowAxis ?? 'none') !== 'none') return undefined;
  const ra = a.reads[0]?.rowAxis ?? 'none';
  if (typeof ra !== 'number') return ra;
  return a.dims.length >= 2 && a.dims.length === g.outDims.length && ra <= a.dims.length - 2 ? ra : undefined;
}

/** The integer product of constants, for folding: exact i32 (wrapping) per output element. */
function foldProduct(
  a: Tensor,
  aZp: Tensor | undefined,
  b: Tensor,
  bZp: Tensor | undefined,
): { dims: number[]; acc: Int32Array; N: number } {
  if (a.dims.length !== 2 || b.dims.length !== 2)
    throw new NodeProblem('folding integer products of constants is supported for 2-D operands only');
  const [M, K] = a.dims;
  const [K2, N] = b.dims;
  if (K !== K2) throw new NodeProblem(`inner dimensions differ: [${a.dims}] · [${b.dims}]`, 'invalid-graph');
  const za = (m: number) => (aZp ? aZp.numbers[aZp.size === 1 ? 0 : m] : 0);
  const zb = (n: number) => (bZp ? bZp.numbers[bZp.size === 1 ? 0 : n] : 0);
  const acc = new Int32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s = (s + (a.numbers[m * K + k] - za(m)) * (b.numbers[k * N + n] - zb(n))) | 0;
      acc[m * N + n] = s;
    }
  return { dims: [M, N], acc, N };
}

const matMulInteger: OpHandler = {
  inputs: 'A B a_zero_point? b_zero_point?',
  fold(_ctx, [a, b, za, zb]) {
    const { dims, acc } = foldProduct(a!, za, b!, zb);
    return [Tensor.fromNumbers('int32', dims, acc)];
  },
  lower(ctx) {
    const a = required(ctx, 0, 'A', [...Q8]);
    const b = required(ctx, 1, 'B', [...Q8]);
    const aZp = operand(ctx, 2, 'a_zero_point', [a.type]);
    const bZp = operand(ctx, 3, 'b_zero_point', [b.type]);
    const g = geometry(ctx, a, b);
    const c = integerProduct(ctx, a, aZp, b, bZp, g);
    ctx.output(0, { ...c, rowAxis: rowsOf(a, b, g) });
  },
};

const qLinearMatMul: OpHandler = {
  inputs: 'a a_scale a_zero_point? b b_scale b_zero_point? y_scale y_zero_point?',
  fold(_ctx, [a, as, az, b, bs, bz, ys, yz]) {
    const { dims, acc, N } = foldProduct(a!, az, b!, bz);
    const q = qtypeOf(yz?.dtype ?? a!.dtype);
    const out = Float64Array.from(acc, (v, i) => {
      const s = outputScale(as!.numbers[0], bs!.numbers[bs!.size === 1 ? 0 : i % N], ys!.numbers[0]);
      return requantize(v, s, yz ? yz.numbers[0] : 0, q);
    });
    return [Tensor.fromNumbers(yz?.dtype ?? a!.dtype, dims, out)];
  },
  lower(ctx) {
    const a = required(ctx, 0, 'a', [...Q8]);
    const aScale = required(ctx, 1, 'a_scale', ['float32']);
    const aZp = operand(ctx, 2, 'a_zero_point', [a.type]);
    const b = required(ctx, 3, 'b', [...Q8]);
    const bScale = required(ctx, 4, 'b_scale', ['float32']);
    const bZp = operand(ctx, 5, 'b_zero_point', [b.type]);
    const yScale = required(ctx, 6, 'y_scale', ['float32']);
    const yZp = operand(ctx, 7, 'y_zero_point', [...Q8]);
    for (const [o, what] of [
      [aScale, 'a_scale'],
      [aZp, 'a_zero_point'],
      [yScale, 'y_scale'],
      [yZp, 'y_zero_point'],
    ] as const)
      perTensor(ctx, o, what);
    const g = geometry(ctx, a, b);
    const bScales = perChannel(ctx, bScale, g.N, 'b_scale') === 'channels' ? g.N : 1;
    const acc = integerProduct(ctx, a, aZp, b, bZp, g);
    const type = yZp?.type ?? a.type;
    const y: RtValue = { ...ctx.newValue(g.outDims, storageFor(type)), rowAxis: rowsOf(a, b, g) };
    const [xs, ws, ysp, yzp] = [ptrOf(ctx, aScale), ptrOf(ctx, bScale), ptrOf(ctx, yScale), ptrOf(ctx, yZp)];
    ctx.program.addStep(
      type === 'int8' ? 'q_requantize_i8' : 'q_requantize_u8',
      () => ({
        acc: buf(acc),
        bias: { t: 'null' },
        xScale: xs,
        wScale: ws,
        wScales: i32(bScales),
        yScale: ysp,
        yZp: yzp,
        y: buf(y),
        outer: i32(mul(g.batches, g.M)),
        channels: i32(g.N),
        inner: i32(1),
      }),
      [acc, ...aScale.reads, ...bScale.reads, ...yScale.reads, ...(yZp?.reads ?? [])],
      [y],
    );
    ctx.output(0, y);
  },
};

export const QMATMUL_OPS: Record<string, OpHandler> = { MatMulInteger: matMulInteger, QLinearMatMul: qLinearMatMul };
