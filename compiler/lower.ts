import { CompileError, NodeProblem, type CompileErrorCode, type CompileProblem } from './errors.js';
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

/** The most dimensions an input may have (ONNX models use up to 6; more is a damaged shape). */
const MAX_RANK = 16;

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

/**
 * Inputs the ONNX spec requires (present and non-empty) per op, where more than the first: checked before
 * an op's handler runs, so a graph that leaves one out is an invalid graph, not a crash. Ops not listed
 * need their first input (except Constant, which has none).
 */
const REQUIRED_INPUTS: Record<string, number | ((opset: number) => number)> = {
  Constant: 0,
  ...Object.fromEntries(
    [
      'Add',
      'Sub',
      'Mul',
      'Div',
      'Pow',
      'Less',
      'Greater',
      'Equal',
      'LessOrEqual',
      'GreaterOrEqual',
      'And',
      'Or',
      'Xor',
      'MatMul',
      'Gemm',
      'Conv',
      'ConvTranspose',
      'Expand',
      'Gather',
      'LayerNormalization',
    ].map((op) => [op, 2]),
  ),
  Where: 3,
  Range: 3,
  BatchNormalization: 5,
  Reshape: (opset) => (opset >= 5 ? 2 : 1),
  Unsqueeze: (opset) => (opset >= 13 ? 2 : 1),
  Pad: (opset) => (opset >= 11 ? 2 : 1),
  Slice: (opset) => (opset >= 10 ? 3 : 1),
};

function checkRequiredInputs(n: OnnxNode, opset: number): void {
  const rule = n.domain === 'ai.onnx' ? (REQUIRED_INPUTS[n.opType] ?? 1) : 1;
  const need = typeof rule === 'function' ? rule(opset) : rule;
  for (let i = 0; i < need; i++) {
    if (!n.inputs[i])
      throw new NodeProblem(
        `input ${i} is required but ${i < n.inputs.length ? 'empty' : 'missing'} (the node has ${n.inputs.length} input(s))`,
        'invalid-graph',
      );
  }
  // Variadic ops take no optional inputs: an empty name among them is a hole in the graph.
  if (['Sum', 'Mean', 'Max', 'Min', 'Concat', 'FeatureVectorizer'].includes(n.opType)) {
    const hole = n.inputs.findIndex((name) => !name);
    if (hole >= 0)
      throw new NodeProblem(`input ${hole} is empty; every input of ${n.opType} is required`, 'invalid-graph');
  }
  if (!n.outputs[0]) throw new NodeProblem('its first output has no name, so nothing can read it', 'invalid-graph');
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
      problem(
        n,
        model.opsets[n.domain] === undefined && n.domain !== 'ai.onnx'
          ? `the domain "${n.domain}" is not supported`
          : 'this op is not supported',
      );
    }
  }
  if (problems.length) {
    const kinds = [...new Set(problems.map((p) => p.op))];
    throw new CompileError(
      'unsupported-ops',
      `The model uses ${problems.length} node(s) with ops ml-widgets cannot compile (${kinds.join(', ')}):`,
      problems,
    );
  }

  const program = new Program();
  const values = new Map<string, Value>();
  for (const [name, t] of graph.initializers) values.set(name, { kind: 'const', tensor: t });

  const inputs: Lowered['inputs'] = [];
  for (const info of graph.inputs) {
    if (values.has(info.name)) continue; // old exports list initializers among the inputs: they are constants
    if (info.dtype !== 'float32') {
      throw new CompileError(
        'unsupported-ops',
        `Input "${info.name}" has element type ${info.dtype}; ml-widgets models take float32 inputs.`,
      );
    }
    if (!info.shape)
      throw new CompileError('invalid-graph', `Input "${info.name}" has no shape; export the model with input shapes.`);
    const dims = info.shape.map((d, i) => {
      if (i === 0 && mode !== 'static') return 1; // the batch dimension, whatever it was exported as
      if (typeof d === 'number' && d > 2 ** 24) {
        throw new CompileError(
          'too-large',
          `Input "${info.name}" dimension ${i} is ${d}, far more than a model in a web page can take; check the exported shape.`,
        );
      }
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d <= 0) {
        throw new CompileError(
          'invalid-graph',
          `Input "${info.name}" dimension ${i} is ${d === null ? 'unknown' : `"${d}"`}: only the first (batch) dimension may vary. Export the model with a fixed size for it.`,
        );
      }
      return d;
    });
    if (dims.length > MAX_RANK) {
      throw new CompileError(
        'invalid-graph',
        `Input "${info.name}" has ${dims.length} dimensions; ml-widgets takes inputs of at most ${MAX_RANK}. Check the exported input shape.`,
      );
    }
    const rowElements = dims.reduce((a, b) => a * b, 1);
    if (rowElements > 2 ** 26) {
      throw new CompileError(
        'too-large',
        `Input "${info.name}" has shape [${info.shape}]: ${rowElements} values per row, far more than a model in a web page can take. Check the exported input shape.`,
      );
    }
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
  const codes = new Set<CompileErrorCode>();
  for (const n of topologicalOrder(graph.nodes, values)) {
    if (n.inputs.some((i) => poisoned.has(i))) {
      n.outputs.forEach((o) => poisoned.add(o));
      continue;
    }
    const handler = OPS[n.domain][n.opType];
    const ctx = new NodeContext(n, model.opsets[n.domain] ?? opset, mode, exportedBatch, program, values, consumers);
    try {
      checkRequiredInputs(n, ctx.opset);
      const inputValues = n.inputs.map((name) => {
        if (!name) return undefined;
        const v = values.get(name);
        if (!v)
          throw new NodeProblem(
            `its input "${name}" is not produced by any node, initializer or graph input`,
            'invalid-graph',
          );
        return v;
      });
      for (const v of inputValues) if (v?.kind === 'rt') v.buffer.pendingReads--;
      if (handler.fold && inputValues.every((v) => !v || v.kind === 'const')) {
        const results = handler.fold(
          ctx,
          inputValues.map((v) => (v as { tensor: Tensor } | undefined)?.tensor),
        );
        results.forEach((t, i) => ctx.output(i, { kind: 'const', tensor: t }));
      } else {
        handler.lower(ctx);
      }
      ops.add(n.domain === 'ai.onnx' ? n.opType : `${n.domain}.${n.opType}`);
    } catch (err) {
      if (err instanceof CompileError) throw err;
      if (!(err instanceof NodeProblem)) {
        // A handler met something it did not expect (an attribute of the wrong type, a shape no valid
        // graph has): still a CompileError naming the node, never a crash. The fuzz test treats these
        // as bugs to fix with a specific check.
        const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        codes.add('internal');
        problem(
          n,
          `internal error while compiling this node (${what}); the node's attributes or input shapes are probably invalid. Please report this with the model.`,
        );
        n.outputs.forEach((o) => poisoned.add(o));
        continue;
      }
      if (err.code === 'batch' && mode !== 'static')
        throw new CompileError('batch', err.message, [toProblem(n, err.message)]);
      codes.add(err.code);
      problem(n, err.message);
      n.outputs.forEach((o) => poisoned.add(o));
    }
  }
  if (problems.length) {
    const code: CompileErrorCode = codes.has('internal')
      ? 'internal'
      : codes.size === 1 && codes.has('too-large')
        ? 'too-large'
        : problems.every((p) => p.message.includes('not produced'))
          ? 'invalid-graph'
          : 'unsupported-ops';
    throw new CompileError(code, `The model has ${problems.length} node(s) ml-widgets cannot compile:`, problems);
  }

  function toProblem(n: OnnxNode, message: string): CompileProblem {
    return { op: n.opType, domain: n.domain, node: n.name, opset: model.opsets[n.domain] ?? opset, message };
  }

  const outputs: Lowered['outputs'] = graph.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) throw new CompileError('invalid-graph', `Graph output "${o.name}" is not produced by any node.`);
    if (batchAxisOf(v) > 0)
      throw new CompileError(
        'batch',
        `Output "${o.name}" has the batch on axis ${batchAxisOf(v)}; outputs need it first.`,
      );
    return { name: o.name, value: materialize(program, v.kind === 'rt' ? toPlain(program, v) : v, o.name, mode) };
  });
  for (const { value } of outputs) value.buffer.last = Infinity;
  return { program, inputs, outputs, ops: [...ops] };
}

/** A graph output that folded to a constant is copied from the data segment on every run. */
function materialize(program: Program, v: Value, name: string, mode: BatchMode): RtValue {
  if (v.kind === 'rt') return v; // made plain by the caller
  if (mode !== 'static') {
    throw new CompileError('batch', `Output "${name}" is a constant with no batch dimension.`);
  }
  const t = v.tensor;
  const out = program.newValue(t.dims.length ? t.dims : [1], false);
  const ref = program.addFloats(t.toFloat32());
  program.addStep(
    'copy',
    () => ({ x: { t: 'data', d: ref }, y: { t: 'buf', b: out.buffer }, nbytes: { t: 'i32', v: t.size * 4 } }),
    [],
    [out],
  );
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
    throw new CompileError(
      'invalid-graph',
      `The graph has a cycle through nodes ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? '…' : ''}.`,
    );
  }
  return order;
}
