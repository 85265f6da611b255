import { NodeProblem } from '../errors.js';
import type { AttrValue, OnnxNode } from '../onnx.js';
import { batchAxisOf, type Program, type RtValue, type Value } from '../program.js';
import type { Tensor } from '../tensor.js';
import { toPlain } from './layout.js';

/**
 * 'dynamic': the batch is axis 0 everywhere and any number of rows runs per call. 'rowwise': ops may
 * move the batch to another axis as long as none mixes rows; the model then runs one row per call.
 * 'static': the exported shapes, batch and all.
 */
export type BatchMode = 'dynamic' | 'rowwise' | 'static';

/**
 * The batch size as it appears in folded shape computations (Shape → Gather → Concat → Reshape, as
 * PyTorch exports `x.view(x.size(0), -1)`): a sentinel no real dimension has. Reshape reads a
 * multiple k·BATCH as "k entries per row"; anything else it reaches is a batch problem.
 */
export const BATCH = 1_000_000_007;

/** Lowering state for one node: its inputs, attributes, outputs and the program being built. */
export class NodeContext {
  constructor(
    readonly node: OnnxNode,
    readonly opset: number,
    readonly mode: BatchMode,
    /** The first input's exported batch size (a number), or null when it was symbolic. */
    readonly exportedBatch: number | null,
    readonly program: Program,
    private readonly values: Map<string, Value>,
    private readonly consumers: Map<string, number>,
  ) {}

  get inputCount(): number {
    return this.node.inputs.length;
  }

  input(i: number): Value | undefined {
    const name = this.node.inputs[i];
    return name ? this.values.get(name) : undefined;
  }

  /** A float input computed at run time (constants never reach here: their nodes fold). */
  rt(i: number, movedBatchOk = false): RtValue {
    const v = this.rtAny(i, movedBatchOk);
    if (v.dtype !== 'float32')
      throw new NodeProblem(
        `input ${i} ("${this.node.inputs[i]}") is an integer tensor; only float tensors are supported here`,
      );
    return v;
  }

  /** A run-time input of any element type (for ops that only move or re-view data), in plain layout. */
  rtAny(i: number, movedBatchOk = false): RtValue {
    return toPlain(this.program, this.rtLayout(i, movedBatchOk));
  }

  /** A run-time input as it is held, channels-last or not: for layout-aware ops. */
  rtLayout(i: number, movedBatchOk = false): RtValue {
    const v = this.input(i);
    if (!v) throw new NodeProblem(`input ${i} is missing`, 'invalid-graph');
    if (v.kind !== 'rt') throw new NodeProblem(`input ${i} ("${this.node.inputs[i]}") must not be a constant here`);
    // Ops that do not follow a moved batch axis must see it first.
    if (!movedBatchOk && batchAxisOf(v) > 0)
      throw new NodeProblem(`needs the batch on axis 0, but it is on axis ${batchAxisOf(v)} here`, 'batch');
    return v;
  }

  /** Check a new batch axis: off axis 0 only in 'rowwise' mode. */
  movedBatch(axis: number, what: string): number {
    if (axis !== 0 && this.mode !== 'rowwise')
      throw new NodeProblem(`${what} moves the batch to axis ${axis}`, 'batch');
    return axis;
  }

  /** An input that must be known at compile time (weights, shapes, axes). */
  constant(i: number, what: string): Tensor {
    const v = this.input(i);
    if (!v) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
    if (v.kind !== 'const')
      throw new NodeProblem(
        `${what} (input ${i}, "${this.node.inputs[i]}") must be a constant, but it is computed at run time`,
      );
    return v.tensor;
  }

  optionalConstant(i: number, what: string): Tensor | undefined {
    return this.input(i) ? this.constant(i, what) : undefined;
  }

  attr(name: string): AttrValue | undefined {
    return this.node.attrs.get(name);
  }

  int(name: string, fallback: number): number {
    const v = this.attr(name);
    return typeof v === 'number' ? v : fallback;
  }

  float(name: string, fallback: number): number {
    const v = this.attr(name);
    return typeof v === 'number' ? v : fallback;
  }

  ints(name: string): number[] | undefined {
    const v = this.attr(name);
    return Array.isArray(v) ? (v as number[]) : typeof v === 'number' ? [v] : undefined;
  }

  string(name: string, fallback: string): string {
    const v = this.attr(name);
    return typeof v === 'string' ? v : fallback;
  }

  /** How many later reads the output will have (graph outputs count as one that never comes). */
  outputReads(i: number): number {
    return this.consumers.get(this.node.outputs[i]) ?? 0;
  }

  isOutputUsed(i: number): boolean {
    return !!this.node.outputs[i] && this.outputReads(i) > 0;
  }

  output(i: number, v: Value): void {
    const name = this.node.outputs[i];
    if (!name) return;
    if (v.kind === 'rt') v.buffer.pendingReads += this.outputReads(i);
    this.values.set(name, v);
  }

  /** A fresh runtime value. */
  newValue(dims: number[], batched: boolean, dtype: RtValue['dtype'] = 'float32'): RtValue {
    return this.program.newValue(dims, batched, dtype);
  }

  /** A view of `x` with other dims (Reshape, Flatten, Identity): no copy, same buffer. */
  alias(x: RtValue, dims: number[]): RtValue {
    return { ...x, dims };
  }

  /** An output that may overwrite `x` when nothing reads `x` later (elementwise ops write in place). */
  inPlaceOr(x: RtValue | undefined, dims: number[], batched: boolean): RtValue {
    if (x && x.buffer.pendingReads === 0 && sameDims(x.dims, dims) && x.batched === batched) {
      return { kind: 'rt', dims, batched, buffer: x.buffer, dtype: x.dtype, layout: x.layout, batchAxis: x.batchAxis };
    }
    return { ...this.newValue(dims, batched), batchAxis: x?.batchAxis };
  }

  /** Axis 0 of a batched value is the batch: an op along it would mix rows. */
  checkNotBatchAxis(x: RtValue, axis: number, what: string): void {
    if (axis === batchAxisOf(x)) {
      throw new NodeProblem(`${what} along axis ${axis} mixes the rows of a batch`, 'batch');
    }
  }
}

const sameDims = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1))
    throw new NodeProblem(`axis ${axis} is out of range for rank ${rank}`, 'invalid-graph');
  return a;
}
