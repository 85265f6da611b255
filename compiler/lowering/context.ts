import { NodeProblem } from '../errors.js';
import type { BranchChoices } from './branch-choices.js';
import type { AttrValue, OnnxGraph, OnnxNode } from '../onnx.js';
import type { Program, RtValue, ShapeValue, Storage, Value } from '../program.js';
import { sameSizes, type Size } from '../shape/size.js';
import type { SymbolTable } from '../shape/symbols.js';
import { Tensor } from '../tensor.js';
import { toPlain } from './layout.js';

/** Lowers a node's subgraph where the node stands, its inputs bound to `inputs`; returns its outputs. */
export interface Subgraphs {
  lower(graph: OnnxGraph, inputs: Value[]): Value[];
  /** Ifs compiled for one branch (their branches differ in rank): lowering/branch-choices.ts. */
  readonly choices: BranchChoices;
}

/** Lowering state for one node: its inputs, attributes, outputs and the program being built. */
export class NodeContext {
  constructor(
    readonly node: OnnxNode,
    readonly opset: number,
    readonly program: Program,
    private readonly values: Map<string, Value>,
    private readonly consumers: Map<string, number>,
    /**
     * The inputs' declared leading 1 was read as a batch (lowering/lower.ts lowerModel): a literal size
     * on axis 0 in a Reshape target was written for that 1 and means entries per row.
     */
    readonly rowsFromOne = false,
    /** Lowers the subgraphs of If, Loop and Scan (lowering/graph.ts). */
    readonly subgraphs?: Subgraphs,
  ) {}

  get symbols(): SymbolTable {
    return this.program.symbols;
  }

  get inputCount(): number {
    return this.node.inputs.length;
  }

  input(i: number): Value | undefined {
    const name = this.node.inputs[i];
    return name ? this.values.get(name) : undefined;
  }

  /** A float input computed at run time, in plain layout. */
  rt(i: number): RtValue {
    const v = this.rtAny(i);
    if (v.dtype !== 'float32')
      throw new NodeProblem(
        `input ${i} ("${this.node.inputs[i]}") holds ${v.onnx ?? v.dtype}; only float tensors are supported here`,
      );
    return v;
  }

  /** A run-time input of any element type (for ops that only move or re-view data), in plain layout. */
  rtAny(i: number): RtValue {
    return toPlain(this.program, this.rtLayout(i));
  }

  /** A run-time input as it is held, channels-last or not: for layout-aware ops. */
  rtLayout(i: number): RtValue {
    const v = this.input(i);
    if (!v) throw new NodeProblem(`input ${i} is missing`, 'invalid-graph');
    if (v.kind !== 'rt') throw new NodeProblem(`input ${i} ("${this.node.inputs[i]}") must not be a constant here`);
    return v;
  }

  /** An input that must be known at compile time (weights, axes). */
  constant(i: number, what: string): Tensor {
    const v = this.input(i);
    if (!v) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
    if (v.kind === 'shape' && v.values.every((s) => typeof s === 'number'))
      return Tensor.fromNumbers('int64', v.dims, v.values as number[]);
    if (v.kind !== 'const')
      throw new NodeProblem(
        `${what} (input ${i}, "${this.node.inputs[i]}") must be a constant, but it is ${v.kind === 'shape' ? 'a shape known only at run time' : 'computed at run time'}`,
      );
    return v.tensor;
  }

  optionalConstant(i: number, what: string): Tensor | undefined {
    return this.input(i) ? this.constant(i, what) : undefined;
  }

  /**
   * An integer vector (or scalar) known at compile time up to symbols: a shape, a size, axes computed from
   * shapes. Constants and Shape-derived values qualify; values computed from data at run time do not.
   */
  sizes(i: number, what: string): Size[] {
    const v = this.input(i);
    if (!v) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
    if (v.kind === 'shape') return v.values;
    if (v.kind === 'const') {
      if (v.tensor.isFloat || v.tensor.dtype === 'string')
        throw new NodeProblem(`${what} (input ${i}) must be integers`, 'invalid-graph');
      return Array.from(v.tensor.numbers);
    }
    throw new NodeProblem(
      `${what} (input ${i}, "${this.node.inputs[i]}") is computed from data at run time; it must follow from the input shapes`,
    );
  }

  optionalSizes(i: number, what: string): Size[] | undefined {
    return this.input(i) ? this.sizes(i, what) : undefined;
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

  /** A shape-like integer output (see ShapeValue); a plain constant when every size is known. */
  outputSizes(i: number, dims: number[], values: Size[]): void {
    const v: ShapeValue = { kind: 'shape', dims, values };
    this.output(
      i,
      values.every((s) => typeof s === 'number')
        ? { kind: 'const', tensor: Tensor.fromNumbers('int64', dims, values as number[]) }
        : v,
    );
  }

  /** A fresh runtime value. */
  newValue(dims: Size[], dtype: Storage = 'float32'): RtValue {
    return this.program.newValue(dims, dtype);
  }

  /** A view of `x` with other dims (Reshape, Flatten, Identity): no copy, same buffer. */
  alias(x: RtValue, dims: Size[]): RtValue {
    return { ...x, dims };
  }

  /** An output that may overwrite `x` when nothing reads `x` later (elementwise ops write in place). */
  inPlaceOr(x: RtValue | undefined, dims: Size[], dtype: Storage = 'float32'): RtValue {
    if (x && x.buffer.pendingReads === 0 && sameSizes(x.dims, dims) && x.dtype === dtype) {
      return { kind: 'rt', dims, buffer: x.buffer, dtype, layout: x.layout, rowAxis: x.rowAxis };
    }
    return { ...this.newValue(dims, dtype), rowAxis: x?.rowAxis };
  }

  /** A size that must hold at run time for this op (checked before its next kernel call). */
  require(a: Size, b: Size, message: string): void {
    this.program.requireBeforeNextStep(a, b, `${this.node.opType} "${this.node.name}": ${message}`);
  }
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1))
    throw new NodeProblem(`axis ${axis} is out of range for rank ${rank}`, 'invalid-graph');
  return a;
}
