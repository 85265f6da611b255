import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { bytesOf } from '../lowering/storage.js';
import { buf, data, i32, onnxTypeOf, slot, type PtrArg, type RtValue, type Value } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { boundsOf, isConst, mul, sameSize, type Size } from '../shape/size.js';
import { Tensor } from '../tensor.js';
import { nonMaxSuppression } from './nms-fold.js';

/**
 * NonMaxSuppression (10, 11): boxes [B, S, 4] in either `center_point_box` format, scores [B, C, S], the
 * optional max_output_boxes_per_class (int64; absent or ≤ 0: no output), iou_threshold (0 when absent) and
 * score_threshold (absent: every box a candidate), each a constant or a run-time scalar. The output
 * selected_indices [n, 3] int64 has a count only the data tells: a computed size (`selected`), bounded by
 * B·C·min(S, max_output_boxes_per_class) — or by SELECTED_DEFAULT rows when no bound on the inputs says more
 * (then `--dim selected=..N` sets it). The selection and its order are onnxruntime's (assembly/nms.ts).
 */

/** The bound on selected rows when the input sizes have none yet (the plan bounds them later). */
const SELECTED_DEFAULT = 4096;

type Operand = { ptr: PtrArg; reads: RtValue[]; dims: Size[] };

/** An operand the kernel reads through a pointer: a constant in the data segment or a run-time buffer. */
function operand(ctx: NodeContext, i: number, what: string, storage: 'float32' | 'int64' | 'int32'): Operand {
  const v: Value = ctx.input(i)!;
  if (v.kind === 'const')
    return { ptr: data(ctx.program.addData(bytesOf(v.tensor, storage))), reads: [], dims: v.tensor.dims };
  if (v.kind === 'shape') throw new NodeProblem(`${what} cannot be a shape`, 'invalid-graph');
  const rt = storage === 'float32' ? ctx.rt(i) : ctx.rtAny(i);
  return { ptr: buf(rt), reads: [rt], dims: rt.dims };
}

/** An optional scalar input (shape [] or [1]), or undefined when absent. */
function scalar(ctx: NodeContext, i: number, what: string, type: 'float32' | 'int64'): Operand | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  const t = onnxTypeOf(v);
  if (t !== type) throw new NodeProblem(`${what} is ${t}; it must be ${type}`, 'invalid-graph');
  const storage = type === 'int64' && v.kind === 'rt' && v.dtype === 'int32' ? 'int32' : type;
  const o = operand(ctx, i, what, storage);
  if (!(o.dims.length === 0 || (o.dims.length === 1 && sameSize(o.dims[0], 1))))
    throw new NodeProblem(`${what} must be a scalar, got ${shapeToString(o.dims)}`, 'invalid-graph');
  return o;
}

function centerPointBox(ctx: NodeContext): boolean {
  const c = ctx.int('center_point_box', 0);
  if (c !== 0 && c !== 1) throw new NodeProblem(`center_point_box is ${c}; it must be 0 or 1`, 'invalid-graph');
  return c === 1;
}

function checkIou(iou: number): void {
  if (!(iou >= 0 && iou <= 1)) throw new NodeProblem(`iou_threshold is ${iou}; it must be in [0, 1]`, 'invalid-graph');
}

function dimsOf(ctx: NodeContext, i: number): Size[] {
  const v = ctx.input(i)!;
  return v.kind === 'const' ? v.tensor.dims : v.dims;
}

/** Checks the boxes and scores shapes; returns [B, C, S]. */
function sizes(ctx: NodeContext): [Size, Size, Size] {
  const boxes = dimsOf(ctx, 0);
  const scores = dimsOf(ctx, 1);
  if (boxes.length !== 3 || !sameSize(boxes[2], 4))
    throw new NodeProblem(`the boxes must be [batches, boxes, 4], got ${shapeToString(boxes)}`, 'invalid-graph');
  if (scores.length !== 3)
    throw new NodeProblem(
      `the scores must be [batches, classes, boxes], got ${shapeToString(scores)}`,
      'invalid-graph',
    );
  const pairs: [Size, Size, string][] = [
    [boxes[0], scores[0], 'the boxes and the scores must have as many batches'],
    [boxes[1], scores[2], 'the scores must have one per box (their last dimension is the boxes’ second)'],
  ];
  for (const [a, b, message] of pairs) {
    if (sameSize(a, b)) continue;
    if (isConst(a) && isConst(b))
      throw new NodeProblem(
        `${message}: boxes ${shapeToString(boxes)}, scores ${shapeToString(scores)}`,
        'invalid-graph',
      );
    ctx.require(a, b, message);
  }
  return [boxes[0], scores[1], boxes[1]];
}

const nonMaxSuppressionOp: OpHandler = {
  inputs: 'boxes scores max_output_boxes_per_class? iou_threshold? score_threshold?',
  fold(ctx, [boxes, scores, maxPer, iou, score]) {
    const [B, C, S] = sizes(ctx) as number[];
    const threshold = iou ? iou.numbers[0] : 0;
    checkIou(threshold);
    const out = nonMaxSuppression({
      boxes: boxes!.numbers,
      scores: scores!.numbers,
      B,
      C,
      S,
      center: centerPointBox(ctx),
      maxPerClass: maxPer ? maxPer.numbers[0] : 0,
      iou: threshold,
      scoreThreshold: score ? score.numbers[0] : undefined,
    });
    return [Tensor.fromNumbers('int64', [out.length / 3, 3], out)];
  },
  lower(ctx) {
    const [B, C, S] = sizes(ctx);
    const center = centerPointBox(ctx);
    for (const [i, what] of [
      [0, 'the boxes'],
      [1, 'the scores'],
    ] as const)
      if (onnxTypeOf(ctx.input(i)!) !== 'float32') throw new NodeProblem(`${what} must be float32`, 'invalid-graph');
    const boxes = operand(ctx, 0, 'the boxes', 'float32');
    const scores = operand(ctx, 1, 'the scores', 'float32');
    const maxPer = scalar(ctx, 2, 'max_output_boxes_per_class', 'int64');
    const iou = scalar(ctx, 3, 'iou_threshold', 'float32');
    const score = scalar(ctx, 4, 'score_threshold', 'float32');
    const iouValue = ctx.input(3);
    if (iouValue?.kind === 'const') checkIou(iouValue.tensor.numbers[0]);

    // The bound on selected rows: B·C·min(S, max per class) at the inputs' bounds.
    const top = (s: Size) => boundsOf(s, (n) => ctx.symbols.range(n))[1];
    const maxValue = ctx.input(2);
    const perClass =
      maxValue?.kind === 'const' ? Math.max(0, Math.min(top(S), maxValue.tensor.numbers[0])) : maxValue ? top(S) : 0;
    const reach = top(mul(B, C)) * perClass;
    const finite = Number.isFinite(reach);
    const selected = ctx.symbols.computed('selected', finite ? reach : SELECTED_DEFAULT, !finite);
    const bound = top(selected);
    const y = ctx.newValue([selected, 3], 'int64');
    const scratch = ctx.newValue([mul(S, 3)], 'int32');
    ctx.program.addStep(
      'non_max_suppression',
      () => ({
        boxes: boxes.ptr,
        scores: scores.ptr,
        maxPerClass: maxPer?.ptr ?? { t: 'null' },
        iou: iou?.ptr ?? { t: 'null' },
        scoreThreshold: score?.ptr ?? { t: 'null' },
        y: buf(y),
        count: slot(selected),
        scratch: buf(scratch),
        B: i32(B),
        C: i32(C),
        S: i32(S),
        centerPointBox: i32(center ? 1 : 0),
        maxBytes: i32(maxPer && maxValue?.kind === 'rt' && maxValue.dtype === 'int32' ? 4 : 8),
        bound: i32(bound),
      }),
      [...boxes.reads, ...scores.reads, ...(maxPer?.reads ?? []), ...(iou?.reads ?? []), ...(score?.reads ?? [])],
      [y, scratch],
    );
    ctx.output(0, y);
  },
};

export const NMS_OPS: Record<string, OpHandler> = { NonMaxSuppression: nonMaxSuppressionOp };
