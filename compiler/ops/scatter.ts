import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { buf, i32, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, product, sameSize, type Size } from '../shape/size.js';
import { Tensor, stridesOf } from '../tensor.js';
import { ELEM_KIND, bytesOfElement, indexOperand, operand, type Operand } from './operands.js';

/**
 * ScatterElements (and opset 9–10's Scatter, the same op) and ScatterND: the data copied into the output
 * (or overwritten in place when nothing else reads it), then the updates written or combined (`reduction`
 * add, mul, max, min) at the indexed positions, in index order. Out-of-range indices are refused as in
 * gather.ts.
 */

const REDUCTIONS: Record<string, number> = {
  none: CODES.SCATTER.NONE,
  add: CODES.SCATTER.ADD,
  mul: CODES.SCATTER.MUL,
  max: CODES.SCATTER.MAX,
  min: CODES.SCATTER.MIN,
};

function reductionOf(ctx: NodeContext): number {
  const name = ctx.string('reduction', 'none');
  const code = REDUCTIONS[name];
  if (code === undefined)
    throw new NodeProblem(`reduction "${name}" is not one of ${Object.keys(REDUCTIONS).join(', ')}`, 'invalid-graph');
  return code;
}

/** What the kernel does with an update at a position that already holds a (in the data's element type). */
function combiner(code: number, dtype: string): (a: number, b: number) => number {
  const wrap = dtype === 'int32' ? (v: number) => v | 0 : (v: number) => v;
  switch (code) {
    case CODES.SCATTER.ADD:
      return (a, b) => wrap(a + b);
    case CODES.SCATTER.MUL:
      return dtype === 'int32' ? (a, b) => Math.imul(a, b) : (a, b) => a * b;
    case CODES.SCATTER.MAX:
      return (a, b) => (a < b ? b : a);
    case CODES.SCATTER.MIN:
      return (a, b) => (b < a ? b : a);
    default:
      return (_a, b) => b;
  }
}

function indexIn(v: number, n: number): number {
  const j = v < 0 ? v + n : v;
  if (!(j >= 0 && j < n)) throw new NodeProblem(`an index ${v} is outside [${-n}, ${n - 1}]`, 'invalid-graph');
  return j;
}

/** The output: the data's buffer when nothing else reads it, else a copy of the data. */
function outputFrom(ctx: NodeContext, x: Operand): RtValue {
  const v = ctx.input(0)!;
  const src = v.kind === 'rt' ? ctx.rtAny(0) : undefined;
  const y: RtValue = { ...ctx.inPlaceOr(src, x.dims, x.dtype), rowAxis: undefined };
  if (x.onnx !== x.dtype) y.onnx = x.onnx;
  if (src && src.buffer === y.buffer) return y;
  ctx.program.addStep(
    'copy',
    () => ({ x: x.ptr, y: buf(y), nbytes: i32(product([...x.dims, bytesOfElement(x)])) }),
    x.reads,
    [y],
  );
  return y;
}

function checkUpdates(ctx: NodeContext, upd: Operand, x: Operand, want: Size[]): void {
  if (upd.dtype !== x.dtype) throw new NodeProblem('the updates and the data differ in element type', 'invalid-graph');
  if (upd.dims.length !== want.length)
    throw new NodeProblem(
      `the updates ${shapeToString(upd.dims)} must have shape ${shapeToString(want)}`,
      'invalid-graph',
    );
  upd.dims.forEach((d, i) => {
    if (isConst(d) && isConst(want[i]) && d !== want[i])
      throw new NodeProblem(
        `the updates ${shapeToString(upd.dims)} must have shape ${shapeToString(want)}`,
        'invalid-graph',
      );
    if (!sameSize(d, want[i])) ctx.require(d, want[i], `the updates must have shape ${shapeToString(want)}`);
  });
}

function scatterElementsHandler(scatter9: boolean): OpHandler {
  return {
    inputs: 'data indices updates',
    fold(ctx, [x, idx, upd]) {
      const rank = x!.dims.length;
      const axis = normalizeAxis(ctx.int('axis', 0), rank);
      const op = combiner(scatter9 ? CODES.SCATTER.NONE : reductionOf(ctx), x!.dtype);
      const out = Tensor.fromNumbers(x!.dtype, x!.dims, x!.numbers);
      const ys = stridesOf(x!.dims);
      const is = stridesOf(idx!.dims);
      Array.from(idx!.numbers).forEach((v, p) => {
        let at = 0;
        for (let d = 0; d < rank; d++)
          at += (d === axis ? indexIn(v, x!.dims[axis]) : Math.floor(p / is[d]) % idx!.dims[d]) * ys[d];
        out.numbers[at] = op(out.numbers[at], upd!.numbers[p]);
      });
      return [out];
    },
    lower(ctx) {
      const x = operand(ctx, 0, 'data');
      const idx = indexOperand(ctx, 1, 'indices');
      const upd = operand(ctx, 2, 'updates');
      const rank = x.dims.length;
      if (rank < 1 || idx.dims.length !== rank)
        throw new NodeProblem(
          `indices ${shapeToString(idx.dims)} and data ${shapeToString(x.dims)} must have one rank ≥ 1`,
          'invalid-graph',
        );
      const axis = normalizeAxis(ctx.int('axis', 0), rank);
      checkUpdates(ctx, upd, x, idx.dims);
      idx.dims.forEach((d, i) => {
        if (i !== axis && isConst(d) && isConst(x.dims[i]) && d > x.dims[i])
          throw new NodeProblem(
            `indices ${shapeToString(idx.dims)} exceed data ${shapeToString(x.dims)}`,
            'invalid-graph',
          );
      });
      const reduction = scatter9 ? CODES.SCATTER.NONE : reductionOf(ctx);
      const y = outputFrom(ctx, x);
      const table = ctx.program.addTable([...idx.dims, ...x.dims]);
      const step = ctx.program.addStep(
        'scatter_elements',
        () => ({
          y: buf(y),
          idx: idx.ptr,
          upd: upd.ptr,
          rank: i32(rank),
          table,
          axis: i32(axis),
          idxBytes: i32(bytesOfElement(idx)),
          kind: i32(ELEM_KIND[x.dtype]),
          reduction: i32(reduction),
        }),
        [y, ...idx.reads, ...upd.reads],
        [y],
      );
      step.valueCheck = {
        message: `${ctx.node.opType} "${ctx.node.name}": an index in "${ctx.node.inputs[1]}" is outside the data's axis ${axis} (element {index})`,
      };
      ctx.output(0, y);
    },
  };
}

const scatterND: OpHandler = {
  inputs: 'data indices updates',
  fold(ctx, [x, idx, upd]) {
    const op = combiner(reductionOf(ctx), x!.dtype);
    const q = idx!.dims[idx!.dims.length - 1];
    const slice = x!.dims.slice(q).reduce((a, b) => a * b, 1);
    const out = Tensor.fromNumbers(x!.dtype, x!.dims, x!.numbers);
    const n = idx!.size / q;
    for (let c = 0; c < n; c++) {
      let cell = 0;
      for (let k = 0; k < q; k++) cell = cell * x!.dims[k] + indexIn(idx!.numbers[c * q + k], x!.dims[k]);
      for (let i = 0; i < slice; i++)
        out.numbers[cell * slice + i] = op(out.numbers[cell * slice + i], upd!.numbers[c * slice + i]);
    }
    return [out];
  },
  lower(ctx) {
    const x = operand(ctx, 0, 'data');
    const idx = indexOperand(ctx, 1, 'indices');
    const upd = operand(ctx, 2, 'updates');
    const m = idx.dims.length;
    const q = idx.dims[m - 1];
    if (m < 1 || !isConst(q) || q < 1 || q > x.dims.length)
      throw new NodeProblem(
        `indices ${shapeToString(idx.dims)} must end in a known depth from 1 to the data's rank ${x.dims.length}`,
        m < 1 || isConst(q) ? 'invalid-graph' : 'unsupported-ops',
      );
    checkUpdates(ctx, upd, x, [...idx.dims.slice(0, m - 1), ...x.dims.slice(q)]);
    const reduction = reductionOf(ctx);
    const y = outputFrom(ctx, x);
    const table = ctx.program.addTable(x.dims.slice(0, q));
    const step = ctx.program.addStep(
      'scatter_nd',
      () => ({
        y: buf(y),
        idx: idx.ptr,
        upd: upd.ptr,
        count: i32(product(idx.dims.slice(0, m - 1))),
        q: i32(q),
        slice: i32(product(x.dims.slice(q))),
        table,
        idxBytes: i32(bytesOfElement(idx)),
        kind: i32(ELEM_KIND[x.dtype]),
        reduction: i32(reduction),
      }),
      [y, ...idx.reads, ...upd.reads],
      [y],
    );
    step.valueCheck = {
      message: `ScatterND "${ctx.node.name}": an index in "${ctx.node.inputs[1]}" is outside the data's dimension it indexes (element {index})`,
    };
    ctx.output(0, y);
  },
};

export const SCATTER_OPS: Record<string, OpHandler> = {
  ScatterElements: scatterElementsHandler(false),
  Scatter: scatterElementsHandler(true),
  ScatterND: scatterND,
};
