import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import {
  packedBiasFloats,
  packedMatrixFloats,
  packGateBias,
  packGateMatrix,
  packPeephole,
  padHidden,
  RECURRENT_GATES,
  recurrentScratchFloats,
  type RecurrentKind,
} from '../pack-recurrent.js';
import { buf, data, f32, i32, type F32Arg, type I32Arg, type PtrArg, type RtValue } from '../program.js';
import { recurrentActivations, type KernelActivation, type RecurrentOp } from '../recurrent-attributes.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, sameSize, sizeToString, type Size } from '../shape/size.js';
import type { OpHandler } from './op.js';

/**
 * LSTM, GRU and RNN (opsets 7–22) on the recurrent kernels (assembly/rnn/, table compiler/abi/rnn.ts): one
 * kernel call per direction over the whole batch and sequence, reading X and writing Y, Y_h, Y_c where
 * ONNX puts them in either layout. W, R, B and P are packed at compile time when they are constants (the
 * usual case: a trained model's initializers), else per call by rnn_pack_* into planned buffers; X,
 * sequence_lens, initial_h and initial_c may be run-time values (or constants); seq and batch may be symbolic. sequence_lens is
 * checked at run time by rnn_first_bad_length (Step.valueCheck): an entry outside 0..seq fails the call.
 */

const KIND: Record<RecurrentOp, RecurrentKind> = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };
const DIRECTIONS = ['forward', 'reverse', 'bidirectional'];

/** A float operand the kernel reads: a run-time value, or a constant put in the data segment. */
interface Operand {
  dims: Size[];
  ptr: PtrArg;
  value?: RtValue;
}

function floatOperand(ctx: NodeContext, i: number): Operand | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  if (v.kind === 'rt') {
    const value = ctx.rt(i);
    return { dims: value.dims, ptr: buf(value), value };
  }
  const t = ctx.constant(i, ctx.node.inputs[i]);
  if (!t.isFloat) throw new NodeProblem(`input ${i} ("${ctx.node.inputs[i]}") must be float`, 'invalid-graph');
  return { dims: t.dims, ptr: data(ctx.program.addFloats(t.toFloat32())) };
}

/** sequence_lens as the kernel reads it: i32 or i64 entries, run-time, constant or sizes of a shape. */
interface Lengths {
  dims: Size[];
  ptr: PtrArg;
  i64: boolean;
  value?: RtValue;
  /** The entries, when known at compile time. */
  known?: number[];
}

function lengths(ctx: NodeContext, i: number): Lengths | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  if (v.kind === 'rt') {
    const value = ctx.rtAny(i);
    if (value.dtype !== 'int32' && value.dtype !== 'int64')
      throw new NodeProblem(`sequence_lens holds ${value.onnx ?? value.dtype}; ONNX makes it int32`, 'invalid-graph');
    return { dims: value.dims, ptr: buf(value), i64: value.dtype === 'int64', value };
  }
  if (v.kind === 'shape') return { dims: v.dims, ptr: ctx.program.addTable(v.values), i64: false };
  if (v.tensor.isFloat || v.tensor.dtype === 'string')
    throw new NodeProblem(`sequence_lens holds ${v.tensor.dtype}; ONNX makes it int32`, 'invalid-graph');
  const known = Array.from(v.tensor.numbers);
  return { dims: v.tensor.dims, ptr: data(ctx.program.addInts(known)), i64: false, known };
}

/** W, R, B or P: its data when constant (packed at compile time), or a run-time value (packed per call). */
interface Weight {
  name: string;
  dims: number[];
  data?: Float32Array;
  value?: RtValue;
}

function weight(ctx: NodeContext, i: number, name: string): Weight | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  if (v.kind === 'rt') {
    const value = ctx.rtAny(i);
    if (value.dtype !== 'float32')
      throw new NodeProblem(`${name} holds ${value.onnx ?? value.dtype}; ONNX makes it float`, 'invalid-graph');
    if (!value.dims.every(isConst))
      throw new NodeProblem(
        `${name} (input ${i}, "${ctx.node.inputs[i]}") is ${shapeToString(value.dims)}; its dimensions fix hidden_size and input_size, so they must be known at compile time (fix them with --dim)`,
      );
    return { name, dims: value.dims as number[], value };
  }
  if (v.kind === 'shape' || !v.tensor.isFloat)
    throw new NodeProblem(
      `${name} holds ${v.kind === 'shape' ? 'int64' : v.tensor.dtype}; ONNX makes it float`,
      'invalid-graph',
    );
  return { name, dims: v.tensor.dims, data: v.tensor.toFloat32() };
}

/** `got` must be `want`: a compile-time error where both are known, a run-time check where not. */
function expectDims(ctx: NodeContext, what: string, got: Size[], want: Size[], meaning: string): void {
  const problem = `${what} is ${shapeToString(got)}; it must be ${shapeToString(want)} (${meaning})`;
  if (got.length !== want.length) throw new NodeProblem(problem, 'invalid-graph');
  got.forEach((d, axis) => {
    if (sameSize(d, want[axis])) return;
    if (isConst(d) && isConst(want[axis])) throw new NodeProblem(problem, 'invalid-graph');
    ctx.require(d, want[axis], `${what} dimension ${axis} must be ${sizeToString(want[axis])} (${meaning})`);
  });
}

function lowerRecurrent(ctx: NodeContext, op: RecurrentOp): void {
  const kind = KIND[op];
  const gates = RECURRENT_GATES[kind];
  if (ctx.opset < 7)
    throw new NodeProblem(`${op} of opset ${ctx.opset} is not supported (onnxruntime runs it from opset 7 on)`);
  const direction = ctx.string('direction', 'forward');
  if (!DIRECTIONS.includes(direction))
    throw new NodeProblem(`direction is "${direction}"; it must be one of ${DIRECTIONS.join(', ')}`, 'invalid-graph');
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const layout = ctx.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw new NodeProblem(`layout is ${layout}; it must be 0 or 1`, 'invalid-graph');

  // ---- weights, and the sizes they fix
  const W = weight(ctx, 1, 'W')!;
  const R = weight(ctx, 2, 'R')!;
  const B = weight(ctx, 3, 'B');
  const P = op === 'LSTM' ? weight(ctx, 7, 'P') : undefined;
  if (W.dims.length !== 3 || R.dims.length !== 3)
    throw new NodeProblem(`W is [${W.dims}] and R is [${R.dims}]; both must have 3 dimensions`, 'invalid-graph');
  const hidden = ctx.int('hidden_size', R.dims[2]);
  const inputSize = W.dims[2];
  const G = `${gates > 1 ? `${gates}·` : ''}hidden_size`;
  const weightDims = (name: string, t: Weight, want: number[], meaning: string) => {
    if (t.dims.length !== want.length || t.dims.some((d, k) => d !== want[k]))
      throw new NodeProblem(
        `${name} is [${t.dims}]; with hidden_size ${hidden} and ${dirs} direction(s) it must be [${want}] (${meaning})`,
        'invalid-graph',
      );
  };
  if (!(hidden > 0)) throw new NodeProblem(`hidden_size is ${hidden}; it must be positive`, 'invalid-graph');
  weightDims('W', W, [dirs, gates * hidden, inputSize], `directions, ${G}, input_size`);
  weightDims('R', R, [dirs, gates * hidden, hidden], `directions, ${G}, hidden_size`);
  if (B) weightDims('B', B, [dirs, 2 * gates * hidden], `directions, 2·${G}`);
  if (P) weightDims('P', P, [dirs, 3 * hidden], 'directions, 3·hidden_size');

  // ---- run-time operands
  const x = floatOperand(ctx, 0)!;
  if (x.dims.length !== 3)
    throw new NodeProblem(`X is ${shapeToString(x.dims)}; it must have 3 dimensions`, 'invalid-graph');
  const [seq, batch] = layout === 0 ? [x.dims[0], x.dims[1]] : [x.dims[1], x.dims[0]];
  const xMeaning = layout === 0 ? 'seq_length, batch_size, input_size' : 'batch_size, seq_length, input_size';
  expectDims(ctx, 'X', x.dims, layout === 0 ? [seq, batch, inputSize] : [batch, seq, inputSize], xMeaning);
  const stateDims = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  const stateMeaning = layout === 0 ? 'directions, batch_size, hidden_size' : 'batch_size, directions, hidden_size';
  const h0 = floatOperand(ctx, 5);
  const c0 = op === 'LSTM' ? floatOperand(ctx, 6) : undefined;
  if (h0) expectDims(ctx, 'initial_h', h0.dims, stateDims, stateMeaning);
  if (c0) expectDims(ctx, 'initial_c', c0.dims, stateDims, stateMeaning);
  const lens = lengths(ctx, 4);
  if (lens) checkLengths(ctx, op, lens, seq, batch);

  // ---- attributes the kernels take
  let acts: KernelActivation[][];
  try {
    acts = recurrentActivations(op, dirs, {
      activations: stringList(ctx.attr('activations')),
      activation_alpha: ctx.attr('activation_alpha') as number[] | undefined,
      activation_beta: ctx.attr('activation_beta') as number[] | undefined,
    });
  } catch (err) {
    throw new NodeProblem((err as Error).message, 'invalid-graph');
  }
  const clip = clipOf(ctx, op);
  const inputForget = op === 'LSTM' ? ctx.int('input_forget', 0) : 0;
  const linearBeforeReset = op === 'GRU' ? ctx.int('linear_before_reset', 0) : 0;

  // ---- outputs, at their ONNX shapes (each only when something reads it)
  const yDims = layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden];
  const rows = rowAxes(layout, x, h0, c0, lens, batch);
  const out = (i: number, dims: Size[], rowAxis: number | undefined): RtValue | undefined =>
    ctx.isOutputUsed(i) ? { ...ctx.newValue(dims), rowAxis } : undefined;
  const y = out(0, yDims, rows?.y);
  const yh = out(1, stateDims, rows?.state);
  const yc = op === 'LSTM' ? out(2, stateDims, rows?.state) : undefined;
  const scratch = ctx.newValue([recurrentScratchFloats(kind, seq, batch, hidden)]);

  const reads = [x.value, h0?.value, c0?.value, lens?.value].filter((v): v is RtValue => !!v);
  const writes = [y, yh, yc, scratch].filter((v): v is RtValue => !!v);
  const ptr = (v: RtValue | undefined): PtrArg => (v ? buf(v) : { t: 'null' });
  const lbr = linearBeforeReset !== 0;
  const packs = { W, R, B, P };
  for (let dir = 0; dir < dirs; dir++) {
    const packed = packDirection(ctx, kind, hidden, inputSize, packs, dir, lbr);
    const { w, r, bias } = packed;
    const stepReads = [...reads, ...packed.reads];
    const a = acts[dir];
    const common = {
      x: x.ptr,
      w,
      r,
      bias,
      lens: lens?.ptr ?? { t: 'null' as const },
      lensI64: i32(lens?.i64 ? 1 : 0),
      h0: h0?.ptr ?? { t: 'null' as const },
      y: ptr(y),
      yh: ptr(yh),
      scratch: buf(scratch),
      seq: i32(seq),
      batch: i32(batch),
      inputSize: i32(inputSize),
      hidden: i32(hidden),
      layout: i32(layout),
      dirs: i32(dirs),
      dir: i32(dir),
      reverse: i32(direction === 'reverse' || dir === 1 ? 1 : 0),
      clip: f32(clip),
    };
    if (op === 'LSTM') {
      const { peephole } = packed;
      ctx.program.addStep(
        'lstm',
        () => ({
          ...common,
          ...activation(a[0], 'F'),
          ...activation(a[1], 'G'),
          ...activation(a[2], 'H'),
          peephole,
          c0: c0?.ptr ?? { t: 'null' },
          yc: ptr(yc),
          inputForget: i32(inputForget ? 1 : 0),
        }),
        stepReads,
        writes,
      );
    } else if (op === 'GRU') {
      ctx.program.addStep(
        'gru',
        () => ({
          ...common,
          ...activation(a[0], 'F'),
          ...activation(a[1], 'G'),
          linearBeforeReset: i32(linearBeforeReset ? 1 : 0),
        }),
        stepReads,
        writes,
      );
    } else {
      ctx.program.addStep('rnn', () => ({ ...common, ...activation(a[0], 'F') }), stepReads, writes);
    }
  }
  if (y) ctx.output(0, y);
  if (yh) ctx.output(1, yh);
  if (yc) ctx.output(2, yc);
}

interface PackedDirection {
  w: PtrArg;
  r: PtrArg;
  bias: PtrArg;
  peephole: PtrArg;
  /** The packed run-time buffers the recurrent call reads. */
  reads: RtValue[];
}

/**
 * One direction's packed W, R, B, P: constants packed now into the data segment, run-time weights packed by
 * rnn_pack_* steps (before the recurrent call) into buffers planned for it.
 */
function packDirection(
  ctx: NodeContext,
  kind: RecurrentKind,
  hidden: number,
  inputSize: number,
  { W, R, B, P }: { W: Weight; R: Weight; B?: Weight; P?: Weight },
  dir: number,
  lbr: boolean,
): PackedDirection {
  const gates = RECURRENT_GATES[kind];
  const reads: RtValue[] = [];
  const runtime = (src: RtValue, floats: number, perDir: number, step: (from: PtrArg, to: RtValue) => void) => {
    const to = ctx.newValue([floats]);
    step(buf(src, dir * perDir * 4), to);
    reads.push(to);
    return buf(to);
  };
  const matrix = (m: Weight, cols: number): PtrArg => {
    if (m.data) return data(ctx.program.addFloats(packGateMatrix(kind, hidden, cols, m.data, dir)));
    return runtime(m.value!, packedMatrixFloats(kind, hidden, cols), gates * hidden * cols, (from, to) =>
      ctx.program.addStep(
        'rnn_pack_weights',
        () => ({ w: from, packed: buf(to), gates: i32(gates), hidden: i32(hidden), cols: i32(cols) }),
        [m.value!],
        [to],
      ),
    );
  };
  const bias = (b: Weight | undefined): PtrArg => {
    if (!b) return { t: 'null' };
    if (b.data) return data(ctx.program.addFloats(packGateBias(kind, hidden, b.data, dir, lbr)));
    return runtime(b.value!, packedBiasFloats(kind, hidden, lbr), 2 * gates * hidden, (from, to) =>
      ctx.program.addStep(
        'rnn_pack_bias',
        () => ({
          b: from,
          packed: buf(to),
          gates: i32(gates),
          hidden: i32(hidden),
          linearBeforeReset: i32(lbr ? 1 : 0),
        }),
        [b.value!],
        [to],
      ),
    );
  };
  const peephole = (p: Weight | undefined): PtrArg => {
    if (!p) return { t: 'null' };
    if (p.data) return data(ctx.program.addFloats(packPeephole(hidden, p.data, dir)));
    return runtime(p.value!, 3 * padHidden(hidden), 3 * hidden, (from, to) =>
      ctx.program.addStep(
        'rnn_pack_peephole',
        () => ({ p: from, packed: buf(to), hidden: i32(hidden) }),
        [p.value!],
        [to],
      ),
    );
  };
  return { w: matrix(W, inputSize), r: matrix(R, hidden), bias: bias(B), peephole: peephole(P), reads };
}

/**
 * sequence_lens must be [batch] with every entry within 0..seq: refused at compile time where the entries
 * and seq are known, else checked at run time by rnn_first_bad_length before the recurrent calls.
 */
function checkLengths(ctx: NodeContext, op: RecurrentOp, lens: Lengths, seq: Size, batch: Size): void {
  expectDims(ctx, 'sequence_lens', lens.dims, [batch], 'batch_size');
  const where = `${op} "${ctx.node.name}"`;
  if (lens.known && isConst(seq)) {
    const bad = lens.known.findIndex((n) => !(n >= 0 && n <= seq));
    if (bad >= 0)
      throw new NodeProblem(
        `sequence_lens[${bad}] is ${lens.known[bad]}, outside 0..${seq} (the sequence length of X)`,
        'invalid-graph',
      );
    return;
  }
  const step = ctx.program.addStep(
    'rnn_first_bad_length',
    () => ({ lens: lens.ptr, lensI64: i32(lens.i64 ? 1 : 0), batch: i32(batch), seq: i32(seq) }),
    lens.value ? [lens.value] : [],
    [],
  );
  step.valueCheck = {
    message: `${where}: sequence_lens[{index}] is outside 0..{hi}, the sequence length of X; every entry must be within it`,
    lo: 0,
    hi: seq,
  };
}

/** The clip threshold the kernels take: +Infinity for none (onnxruntime: RNN's negative clip is none too). */
function clipOf(ctx: NodeContext, op: RecurrentOp): number {
  const clip = ctx.attr('clip');
  if (clip === undefined) return Infinity;
  if (typeof clip !== 'number' || Number.isNaN(clip))
    throw new NodeProblem(`clip is ${String(clip)}; it must be a number`, 'invalid-graph');
  if (op === 'RNN') return clip < 0 ? Infinity : clip;
  if (!(clip > 0)) throw new NodeProblem(`clip is ${clip}; it must be positive`, 'invalid-graph');
  return clip;
}

/** One activation slot's kernel arguments (actF, alphaF, betaF for slot F). */
function activation<S extends 'F' | 'G' | 'H'>(
  a: KernelActivation,
  slot: S,
): Record<`act${S}`, I32Arg> & Record<`alpha${S}` | `beta${S}`, F32Arg> {
  return { [`act${slot}`]: i32(a.code), [`alpha${slot}`]: f32(a.alpha), [`beta${slot}`]: f32(a.beta) } as Record<
    `act${S}`,
    I32Arg
  > &
    Record<`alpha${S}` | `beta${S}`, F32Arg>;
}

const stringList = (v: unknown): string[] | undefined =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.map(String) : undefined;

/**
 * Where the batch's rows are in Y and the states: kept apart when X has them on its batch axis and every
 * state or length input has them on its own (the recurrence never mixes batch entries). Else undefined.
 */
function rowAxes(
  layout: number,
  x: Operand,
  h0: Operand | undefined,
  c0: Operand | undefined,
  lens: Lengths | undefined,
  batch: Size,
): { y: number; state: number } | undefined {
  const xAxis = layout === 0 ? 1 : 0;
  const stateAxis = layout === 0 ? 1 : 0;
  if (x.value?.rowAxis !== xAxis) return undefined;
  const keeps = (v: RtValue | undefined, axis: number) =>
    !v || v.rowAxis === axis || (v.rowAxis === 'none' && sameSize(v.dims[axis], batch));
  if ((h0 && !keeps(h0.value, stateAxis)) || (c0 && !keeps(c0.value, stateAxis))) return undefined;
  if ([h0, c0].some((s) => s && !s.value)) return undefined;
  if (lens && (!lens.value || !keeps(lens.value, 0))) return undefined;
  return { y: layout === 0 ? 2 : 0, state: stateAxis };
}

const recurrent = (op: RecurrentOp, inputs: string): OpHandler => ({ inputs, lower: (ctx) => lowerRecurrent(ctx, op) });

export const RECURRENT_OPS: Record<string, OpHandler> = {
  LSTM: recurrent('LSTM', 'X W R B? sequence_lens? initial_h? initial_c? P?'),
  GRU: recurrent('GRU', 'X W R B? sequence_lens? initial_h?'),
  RNN: recurrent('RNN', 'X W R B? sequence_lens? initial_h?'),
};
