import { CompileError, NodeProblem, type CompileProblem } from './errors.js';
import type { AttrValue, OnnxModel, OnnxNode } from './onnx.js';
import { OPS } from './ops/index.js';
import { batchAxisOf, Program, type RtValue, type Value } from './program.js';
import { toPlain } from './layout.js';
import { Tensor } from './tensor.js';

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

export interface Lowered {
  program: Program;
  inputs: { name: string; value: RtValue }[];
  outputs: { name: string; value: RtValue }[];
  /** ONNX op types that were compiled (folded or lowered). */
  ops: string[];
}

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
    if (v.dtype !== 'float32') throw new NodeProblem(`input ${i} ("${this.node.inputs[i]}") is an integer tensor; only float tensors are supported here`);
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
    if (!movedBatchOk && batchAxisOf(v) > 0) throw new NodeProblem(`needs the batch on axis 0, but it is on axis ${batchAxisOf(v)} here`, 'batch');
    return v;
  }

  /** Check a new batch axis: off axis 0 only in 'rowwise' mode. */
  movedBatch(axis: number, what: string): number {
    if (axis !== 0 && this.mode !== 'rowwise') throw new NodeProblem(`${what} moves the batch to axis ${axis}`, 'batch');
    return axis;
  }

  /** An input that must be known at compile time (weights, shapes, axes). */
  constant(i: number, what: string): Tensor {
    const v = this.input(i);
    if (!v) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
    if (v.kind !== 'const') throw new NodeProblem(`${what} (input ${i}, "${this.node.inputs[i]}") must be a constant, but it is computed at run time`);
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
  if (a < 0 || a >= Math.max(rank, 1)) throw new NodeProblem(`axis ${axis} is out of range for rank ${rank}`, 'invalid-graph');
  return a;
}

/** Lower an ONNX graph to a Program: fold what is constant, turn the rest into kernel calls. */
export function lower(model: OnnxModel, mode: BatchMode): Lowered {
  const opset = model.opsets['ai.onnx'];
  const { graph } = model;
  const problems: CompileProblem[] = [];
  const problem = (n: OnnxNode, message: string) =>
    problems.push({ op: n.opType, domain: n.domain, node: n.name, opset: model.opsets[n.domain] ?? opset, message });

  // Every unsupported op is reported at once, before any other work.
  for (const n of graph.nodes) {
    if (!OPS[n.domain]?.[n.opType]) {
      problem(n, model.opsets[n.domain] === undefined && n.domain !== 'ai.onnx' ? `the domain "${n.domain}" is not supported` : 'this op is not supported');
    }
  }
  if (problems.length) {
    const kinds = [...new Set(problems.map((p) => p.op))];
    throw new CompileError('unsupported-ops', `The model uses ${problems.length} node(s) with ops ml-widgets cannot compile (${kinds.join(', ')}):`, problems);
  }

  const program = new Program();
  const values = new Map<string, Value>();
  for (const [name, t] of graph.initializers) values.set(name, { kind: 'const', tensor: t });

  const inputs: Lowered['inputs'] = [];
  for (const info of graph.inputs) {
    if (values.has(info.name)) continue; // old exports list initializers among the inputs: they are constants
    if (info.dtype !== 'float32') {
      throw new CompileError('unsupported-ops', `Input "${info.name}" has element type ${info.dtype}; ml-widgets models take float32 inputs.`);
    }
    if (!info.shape) throw new CompileError('invalid-graph', `Input "${info.name}" has no shape; export the model with input shapes.`);
    const dims = info.shape.map((d, i) => {
      if (i === 0 && mode !== 'static') return 1; // the batch dimension, whatever it was exported as
      if (typeof d !== 'number' || d <= 0) {
        throw new CompileError(
          'invalid-graph',
          `Input "${info.name}" dimension ${i} is ${d === null ? 'unknown' : `"${d}"`}: only the first (batch) dimension may vary. Export the model with a fixed size for it.`,
        );
      }
      return d;
    });
    const value = program.newValue(dims, mode !== 'static' && dims.length > 0);
    value.buffer.first = -1;
    values.set(info.name, value);
    inputs.push({ name: info.name, value });
  }

  const first = graph.inputs.find((i) => !graph.initializers.has(i.name))?.shape?.[0];
  const exportedBatch = typeof first === 'number' && first > 0 ? first : null;

  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of graph.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
  for (const { value, name } of inputs) value.buffer.pendingReads = consumers.get(name) ?? 0;

  const ops = new Set<string>();
  const poisoned = new Set<string>();
  for (const n of topologicalOrder(graph.nodes, values)) {
    if (n.inputs.some((i) => poisoned.has(i))) {
      n.outputs.forEach((o) => poisoned.add(o));
      continue;
    }
    const handler = OPS[n.domain][n.opType];
    const ctx = new NodeContext(n, model.opsets[n.domain] ?? opset, mode, exportedBatch, program, values, consumers);
    try {
      const inputValues = n.inputs.map((name) => {
        if (!name) return undefined;
        const v = values.get(name);
        if (!v) throw new NodeProblem(`its input "${name}" is not produced by any node, initializer or graph input`, 'invalid-graph');
        return v;
      });
      for (const v of inputValues) if (v?.kind === 'rt') v.buffer.pendingReads--;
      if (handler.fold && inputValues.every((v) => !v || v.kind === 'const')) {
        const results = handler.fold(ctx, inputValues.map((v) => (v as { tensor: Tensor } | undefined)?.tensor));
        results.forEach((t, i) => ctx.output(i, { kind: 'const', tensor: t }));
      } else {
        handler.lower(ctx);
      }
      ops.add(n.domain === 'ai.onnx' ? n.opType : `${n.domain}.${n.opType}`);
    } catch (err) {
      if (!(err instanceof NodeProblem)) throw err;
      if (err.code === 'batch' && mode !== 'static') throw new CompileError('batch', err.message, [toProblem(n, err.message)]);
      problem(n, err.message);
      n.outputs.forEach((o) => poisoned.add(o));
    }
  }
  if (problems.length) {
    const code = problems.every((p) => p.message.includes('not produced')) ? 'invalid-graph' : 'unsupported-ops';
    throw new CompileError(code, `The model has ${problems.length} node(s) ml-widgets cannot compile:`, problems);
  }

  function toProblem(n: OnnxNode, message: string): CompileProblem {
    return { op: n.opType, domain: n.domain, node: n.name, opset: model.opsets[n.domain] ?? opset, message };
  }

  const outputs: Lowered['outputs'] = graph.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) throw new CompileError('invalid-graph', `Graph output "${o.name}" is not produced by any node.`);
    if (batchAxisOf(v) > 0) throw new CompileError('batch', `Output "${o.name}" has the batch on axis ${batchAxisOf(v)}; outputs need it first.`);
    return { name: o.name, value: materialize(program, v.kind === 'rt' ? toPlain(program, v) : v, o.name, mode) };
  });
  for (const { value } of outputs) value.buffer.last = Infinity;
  return { program, inputs, outputs, ops: [...ops] };
}

/** A graph output that folded to a constant is copied from the data segment on every run. */
function materialize(program: Program, v: Value, name: string, mode: BatchMode): RtValue {
  if (v.kind === 'rt') return v;  // made plain by the caller
  if (mode !== 'static') {
    throw new CompileError('batch', `Output "${name}" is a constant with no batch dimension.`);
  }
  const t = v.tensor;
  const out = program.newValue(t.dims.length ? t.dims : [1], false);
  const ref = program.addFloats(t.toFloat32());
  program.addStep('copy', () => [{ t: 'data', d: ref }, { t: 'buf', b: out.buffer }, { t: 'i32', v: t.size * 4 }], [], [out]);
  return out;
}

/** Kahn's algorithm over value dependencies; a cycle or a self-dependency is an invalid graph. */
function topologicalOrder(nodes: OnnxNode[], known: Map<string, Value>): OnnxNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const indegree = nodes.map(() => 0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const input of new Set(n.inputs)) {
      const p = input && !known.has(input) ? producer.get(input) : undefined;
      if (p !== undefined) {
        indegree[i]++;
        dependents[p].push(i);
      }
    }
  });
  const ready = indegree.flatMap((d, i) => (d === 0 ? [i] : []));
  const order: OnnxNode[] = [];
  while (ready.length) {
    const i = ready.shift()!;
    order.push(nodes[i]);
    for (const j of dependents[i]) if (--indegree[j] === 0) ready.push(j);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.filter((_, i) => indegree[i] > 0).map((n) => `"${n.name}"`);
    throw new CompileError('invalid-graph', `The graph has a cycle through nodes ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? '…' : ''}.`);
  }
  return order;
}
