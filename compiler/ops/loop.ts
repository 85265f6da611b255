import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, ELEMENT_BYTES, i32, onnxTypeOf, type Condition, type RtValue, type Value } from '../program.js';
import { shapeToString, stridesOf } from '../shape/shapes.js';
import {
  isConst,
  mul,
  product,
  sameSize,
  sameSizes,
  sub,
  symbolName,
  symbolsOf,
  type Size,
  type Sym,
} from '../shape/size.js';
import { MAX_DIM } from '../shape/symbols.js';
import { Tensor } from '../tensor.js';
import { asStorage, copyInto, graphAttr, plainValue, subgraphs } from './control.js';
import type { OpHandler } from './op.js';
import { lowerCdistScan } from './scan.js';
import { stridedCopy } from './strided.js';

/**
 * Loop and Scan: the body is compiled once and the emitted code runs it in a wasm loop. Loop-carried values
 * live in state buffers the body reads and that its outputs are copied back into at the end of each
 * iteration; scan outputs are filled one slice per iteration. The iteration counter is a computed size
 * (0 at the start, the trip count after), so scan outputs have it as their first dimension.
 */

/** Iterations a loop may run when nothing bounds it: `--dim <node>.iterations=..MAX` raises it. */
const DEFAULT_ITERATIONS = 4096;

/** A value copied into a fresh state buffer (the loop overwrites it; the value itself stays as it was). */
function stateFrom(ctx: NodeContext, v: Value, what: string): RtValue {
  const x = plainValue(ctx, v);
  const state: RtValue = { ...ctx.newValue(x.dims, x.dtype), onnx: x.onnx };
  copyInto(ctx, x, state);
  if (!state.dims.every((d) => d !== undefined)) throw new NodeProblem(`${what} has no shape`, 'invalid-graph');
  return state;
}

/** The iteration number as the int64 scalar a Loop body takes, written at the start of each iteration. */
function iterationValue(ctx: NodeContext, counter: Sym): RtValue {
  const it: RtValue = { ...ctx.newValue([], 'int64') };
  const table = ctx.program.addTable([counter]);
  ctx.program.addStep('cast_i32_i64', () => ({ x: table, y: buf(it), n: i32(1) }), [], [it]);
  return it;
}

/** Copy the body's loop-carried outputs into the state (same shapes: a state that grows is not supported). */
function carryBack(ctx: NodeContext, outs: Value[], states: RtValue[]): void {
  outs.forEach((v, j) => {
    const s = states[j];
    const x = asStorage(ctx, plainValue(ctx, v), s.dtype);
    if (onnxTypeOf(x) !== onnxTypeOf(s))
      throw new NodeProblem(
        `loop-carried value ${j} is ${onnxTypeOf(s)} but the body returns ${onnxTypeOf(x)}`,
        'invalid-graph',
      );
    if (x.dims.length !== s.dims.length)
      throw new NodeProblem(
        `loop-carried value ${j} changes shape from ${shapeToString(s.dims)} to ${shapeToString(x.dims)}; ml-widgets runs loops whose state keeps its shape`,
      );
    // Sizes known only at run time (a Slice with a run-time start) must come out as the state's: checked
    // per iteration before the copy, a shape-mismatch naming the value and the axis if they do not.
    x.dims.forEach((d, k) => {
      if (!sameSizes([d], [s.dims[k]]))
        ctx.require(
          d,
          s.dims[k],
          `loop-carried value ${j} changes size along axis ${k} from ${shapeToString(s.dims)} to ${shapeToString(x.dims)}; ml-widgets runs loops whose state keeps its shape`,
        );
    });
    copyInto(ctx, x, s);
  });
}

/**
 * Scan outputs: the body's slice of each iteration written at its place along axis 0 of [iterations, …slice]
 * (`reversed`: from the end), then moved to `axes` where ONNX wants another axis.
 */
class ScanOutputs {
  private readonly buffers: RtValue[] = [];
  constructor(
    private readonly ctx: NodeContext,
    private readonly counter: Sym,
    /** The iterations: the counter after the loop (Loop), or the scanned length (Scan). */
    private readonly length: Size,
  ) {}

  write(slices: Value[], reversed: (k: number) => boolean): void {
    slices.forEach((v, k) => {
      const x = plainValue(this.ctx, v);
      const counter = symbolName(this.counter)!;
      if (x.dims.some((d) => symbolsOf(d).has(counter)))
        throw new NodeProblem(`scan output ${k} changes size from one iteration to the next`);
      const y: RtValue = { ...this.ctx.newValue([this.length, ...x.dims], x.dtype), onnx: x.onnx };
      const index = reversed(k) ? sub(sub(this.length, 1), this.counter) : this.counter;
      copyInto(this.ctx, x, y, mul(index, mul(product(x.dims), ELEMENT_BYTES[x.dtype])));
      this.buffers.push(y);
    });
  }

  /** After the loop: the outputs, moved so the iterations are on `axis(k)`. */
  results(axis: (k: number, rank: number) => number): RtValue[] {
    return this.buffers.map((y, k) => {
      const a = axis(k, y.dims.length);
      if (a === 0) return y;
      // [T, s0, s1, …] → [s0, …, T at a, …]: a strided copy reading T's stride where axis a is.
      const strides = stridesOf(y.dims);
      const order = [...Array(y.dims.length).keys()].slice(1);
      order.splice(a, 0, 0);
      return stridedCopy(
        this.ctx,
        y,
        order.map((i) => y.dims[i]),
        order.map((i) => strides[i]),
        0,
      );
    });
  }
}

/** The counter: a computed size bounded by what bounds the trips. */
function counterFor(ctx: NodeContext, bound: number): Sym {
  return ctx.symbols.computed(`${ctx.node.name}.iterations`, Math.max(0, Math.min(bound, MAX_DIM)));
}

const loop: OpHandler = {
  inputs: 'M? cond? ...v_initial?',
  lower(ctx) {
    const body = graphAttr(ctx, 'body');
    const carried = ctx.node.inputs.slice(2).map((_, j) => {
      const v = ctx.input(2 + j);
      if (!v) throw new NodeProblem(`loop-carried input ${j} is empty`, 'invalid-graph');
      return v;
    });
    const N = carried.length;
    const K = body.outputs.length - 1 - N;
    if (body.inputs.length !== 2 + N || K < 0)
      throw new NodeProblem(
        `the body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs for ${N} loop-carried values`,
        'invalid-graph',
      );
    // The trip limit: a constant, a size, or an int64 tensor computed at run time (beyond i32: no limit).
    const m = ctx.input(0);
    let trips: Condition | undefined;
    let bound = K > 0 ? DEFAULT_ITERATIONS : MAX_DIM;
    if (m?.kind === 'const') {
      const n = m.tensor.numbers[0];
      if (m.tensor.size !== 1) throw new NodeProblem('the trip count M must be one value', 'invalid-graph');
      if (n < 2 ** 31) {
        trips = { kind: 'size', size: Math.max(0, n) };
        bound = Math.max(0, n);
      }
    } else if (m?.kind === 'shape') {
      trips = { kind: 'size', size: m.values[0] };
      bound = ctx.symbols.upper(m.values[0]);
    } else if (m) {
      trips = { kind: 'value', value: plainValue(ctx, m) };
    }
    const condInput = ctx.input(1);
    if (!trips && !condInput)
      throw new NodeProblem(
        'the Loop has neither a trip count nor a condition, so it would never end',
        'invalid-graph',
      );

    const program = ctx.program;
    const counter = counterFor(ctx, bound);
    // Without a condition input the body still takes one: true.
    const always: Value = { kind: 'const', tensor: Tensor.fromNumbers('bool', [], [1]) };
    const cond = stateFrom(ctx, condInput ?? always, 'the condition');
    const states = carried.map((v, j) => stateFrom(ctx, v, `loop-carried input ${j}`));
    program.addControl({ op: 'loop', counter: symbolName(counter)!, trips, cond: condInput ? cond : undefined }, [
      cond,
      ...(trips?.kind === 'value' ? [trips.value] : []),
    ]);
    const iteration = iterationValue(ctx, counter);
    const outs = subgraphs(ctx).lower(body, [iteration, cond, ...states]);
    const scans = new ScanOutputs(ctx, counter, counter);
    // Scan slices first: they are read before the state copies overwrite what the body read.
    scans.write(outs.slice(1 + N), () => false);
    carryBack(ctx, outs.slice(1, 1 + N), states);
    if (condInput) carryBack(ctx, [outs[0]], [cond]);
    program.addControl({ op: 'end' });
    states.forEach((s, j) => ctx.output(j, s));
    scans.results(() => 0).forEach((y, k) => ctx.output(N + k, y));
  },
};

/** A Scan's attributes, checked against its inputs and its body. */
interface ScanForm {
  /** States, scan inputs, scan outputs. */
  N: number;
  S: number;
  K: number;
  inputDirections: number[];
  outputDirections: number[];
}

function scanForm(ctx: NodeContext, inputs: number, directions: string): ScanForm {
  const body = graphAttr(ctx, 'body');
  const S = ctx.int('num_scan_inputs', 0);
  const N = inputs - S;
  if (S < 1 || N < 0) throw new NodeProblem(`num_scan_inputs is ${S} for ${inputs} inputs`, 'invalid-graph');
  const K = body.outputs.length - N;
  if (body.inputs.length !== N + S || K < 0)
    throw new NodeProblem(
      `the body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs for ${N} states and ${S} scan inputs`,
      'invalid-graph',
    );
  return {
    N,
    S,
    K,
    inputDirections: listed(ctx, directions, S),
    outputDirections: listed(ctx, 'scan_output_directions', K),
  };
}

function listed(ctx: NodeContext, name: string, count: number): number[] {
  const v = ctx.ints(name) ?? new Array(count).fill(0);
  if (v.length !== count) throw new NodeProblem(`"${name}" has ${v.length} entries for ${count}`, 'invalid-graph');
  return v;
}

function axisOf(a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) throw new NodeProblem(`scan axis ${a} is out of range for rank ${rank}`, 'invalid-graph');
  return r;
}

/**
 * The loop of a Scan (opset 9 on): the body over the slices of `inputs` along `axes`, its states starting
 * from `initial`; the final states and the scan outputs stacked along axis 0.
 */
function scanLoop(
  ctx: NodeContext,
  form: ScanForm,
  initial: Value[],
  inputs: RtValue[],
  axes: number[],
): { states: RtValue[]; scans: ScanOutputs } {
  const T = inputs[0].dims[axes[0]];
  inputs.forEach((x, j) => {
    if (!sameSize(x.dims[axes[j]], T))
      ctx.require(x.dims[axes[j]], T, `scan input ${j} has another length than scan input 0`);
  });
  const program = ctx.program;
  const counter = counterFor(ctx, ctx.symbols.upper(T));
  const states = initial.map((v, j) => stateFrom(ctx, v, `initial state ${j}`));
  program.addControl({ op: 'loop', counter: symbolName(counter)!, trips: { kind: 'size', size: T } }, []);
  // This iteration's slice of each scan input (from the end when its direction is 1).
  const slices = inputs.map((x, j) => {
    const index = form.inputDirections[j] ? sub(sub(T, 1), counter) : counter;
    return sliceAt(ctx, x, axes[j], index);
  });
  const outs = subgraphs(ctx).lower(graphAttr(ctx, 'body'), [...states, ...slices]);
  const scans = new ScanOutputs(ctx, counter, T);
  scans.write(outs.slice(form.N), (k) => form.outputDirections[k] !== 0);
  carryBack(ctx, outs.slice(0, form.N), states);
  program.addControl({ op: 'end' });
  return { states, scans };
}

/** x[…, index, …] at `axis`: a copy without that axis. */
function sliceAt(ctx: NodeContext, x: RtValue, axis: number, index: Size): RtValue {
  const strides = stridesOf(x.dims);
  const keep = x.dims.map((_, i) => i).filter((i) => i !== axis);
  return stridedCopy(
    ctx,
    x,
    keep.map((i) => x.dims[i]),
    keep.map((i) => strides[i]),
    mul(index, strides[axis]),
  );
}

/** Scan from opset 9: no batch axis, any scanned axis and direction per input and output. */
function lowerScan(ctx: NodeContext): void {
  const all = ctx.node.inputs.map((_, i) => ctx.input(i)!);
  const form = scanForm(ctx, all.length, 'scan_input_directions');
  const inputs = all.slice(form.N).map((v) => plainValue(ctx, v));
  const axes = listed(ctx, 'scan_input_axes', form.S).map((a, j) => axisOf(a, inputs[j].dims.length));
  const outputAxes = listed(ctx, 'scan_output_axes', form.K);
  const { states, scans } = scanLoop(ctx, form, all.slice(0, form.N), inputs, axes);
  states.forEach((s, j) => ctx.output(j, s));
  scans.results((k, rank) => axisOf(outputAxes[k], rank)).forEach((y, k) => ctx.output(form.N + k, y));
}

/**
 * Scan at opset 8: states [B, …] and scan inputs [B, T, …] carry a batch axis 0, the body runs per batch
 * entry over axis 1, and the outputs are [B, …] and [B, T, …]: an outer loop over the batch around
 * opset 9's loop. sequence_lens, when given, must be the full length for every entry.
 */
function lowerScan8(ctx: NodeContext): void {
  const all = ctx.node.inputs.slice(1).map((_, i) => ctx.input(1 + i)!);
  const form = scanForm(ctx, all.length, 'directions');
  const values = all.map((v) => plainValue(ctx, v));
  values.forEach((x, j) => {
    if (x.dims.length < (j < form.N ? 1 : 2))
      throw new NodeProblem(
        `input ${1 + j} has shape ${shapeToString(x.dims)}, without the batch${j < form.N ? '' : ' and sequence'} axes Scan-8 takes`,
        'invalid-graph',
      );
  });
  const B = values[form.N].dims[0];
  const T = values[form.N].dims[1];
  values.forEach((x, j) => {
    if (!sameSize(x.dims[0], B))
      ctx.require(x.dims[0], B, `input ${1 + j} has another batch size than the first scan input`);
  });
  const lens = ctx.input(0);
  if (lens) {
    const want = lens.kind === 'const' ? Array.from(lens.tensor.numbers) : lens.kind === 'shape' ? lens.values : null;
    if (!want)
      throw new NodeProblem('sequence_lens computed at run time is not supported; leave it empty for full length');
    if (want.length !== 1) ctx.require(want.length, B, 'sequence_lens has one length per batch entry');
    for (const n of want)
      if (isConst(n) && isConst(T) && n !== T)
        throw new NodeProblem(
          `sequence_lens has ${n} where the sequence is ${T} long; only full lengths are supported`,
        );
      else ctx.require(n, T, 'sequence_lens must be the full sequence length (shorter sequences are not supported)');
  }
  const program = ctx.program;
  const counter = ctx.symbols.computed(`${ctx.node.name}.batch`, Math.max(0, Math.min(ctx.symbols.upper(B), MAX_DIM)));
  program.addControl({ op: 'loop', counter: symbolName(counter)!, trips: { kind: 'size', size: B } }, []);
  const entries = values.map((x) => sliceAt(ctx, x, 0, counter));
  const inner = scanLoop(
    ctx,
    form,
    entries.slice(0, form.N),
    entries.slice(form.N),
    entries.slice(form.N).map(() => 0),
  );
  const batch = new ScanOutputs(ctx, counter, B);
  batch.write([...inner.states, ...inner.scans.results(() => 0)], () => false);
  program.addControl({ op: 'end' });
  batch.results(() => 0).forEach((y, k) => ctx.output(k, y));
}

const scan: OpHandler = {
  inputs: (opset) => (opset < 9 ? 'sequence_lens? ...inputs' : '...inputs'),
  lower(ctx) {
    if (ctx.opset < 9) lowerScan8(ctx);
    else if (lowerCdistScan(ctx)) return;
    else lowerScan(ctx);
  },
};

export const LOOP_OPS: Record<string, OpHandler> = { Loop: loop, Scan: scan };
