import { CompileError, NodeProblem, type CompileErrorCode, type CompileProblem } from '../errors.js';
import type { OnnxModel, OnnxNode } from '../onnx.js';
import { OPS } from '../ops/index.js';
import { inputSpecs, type OpHandler } from '../ops/op.js';
import { batchAxisOf, Program, type RtValue, type Value } from '../program.js';
import { Tensor } from '../tensor.js';
import { NodeContext, type BatchMode } from './context.js';
import { toPlain } from './layout.js';

/** The most dimensions an input may have (ONNX models use up to 6; more is a damaged shape). */
const MAX_RANK = 16;

/** A lowered model and the batch mode it was lowered in. */
export type LoweredModel = Lowered & { mode: BatchMode };

export interface Lowered {
  program: Program;
  inputs: { name: string; value: RtValue }[];
  outputs: { name: string; value: RtValue }[];
  /** ONNX op types that were compiled (folded or lowered). */
  ops: string[];
}

/**
 * Check a node against its op's declared inputs (OpHandler.inputs) before the op lowers, so a graph that
 * leaves out a required input, has a hole among variadic ones, or passes too many is an invalid graph,
 * not a crash. `lowering`: an input that must be a compile-time constant is one.
 */
function checkInputs(
  n: OnnxNode,
  handler: OpHandler,
  opset: number,
  values: Map<string, Value>,
  lowering: boolean,
): void {
  const specs = inputSpecs(handler, opset);
  const variadic = specs.length > 0 && specs[specs.length - 1].variadic;
  if (!variadic && n.inputs.length > specs.length) {
    const names = specs.map((s) => s.name).join(', ') || 'no inputs';
    throw new NodeProblem(
      `has ${n.inputs.length} inputs; ${n.opType} takes at most ${specs.length} (${names})`,
      'invalid-graph',
    );
  }
  specs.forEach((spec, i) => {
    const last = spec.variadic ? Math.max(n.inputs.length, i + 1) : i + 1;
    for (let j = i; j < last; j++) {
      const name = n.inputs[j];
      if (!name) {
        if (spec.optional) continue;
        throw new NodeProblem(
          spec.variadic
            ? `input ${j} is empty; every input of ${n.opType} is required`
            : `input ${j} (${spec.name}) is required but ${j < n.inputs.length ? 'empty' : 'missing'} (the node has ${n.inputs.length} input(s))`,
          'invalid-graph',
        );
      }
      if (lowering && spec.constant && values.get(name)?.kind === 'rt')
        throw new NodeProblem(
          `${spec.name} (input ${j}, "${name}") must be a constant, but it is computed at run time`,
        );
    }
  });
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
      checkInputs(n, handler, ctx.opset, values, false);
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
        checkInputs(n, handler, ctx.opset, values, true);
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

/**
 * Lower a model in the first batch mode its graph allows: a dynamic batch, else one row per run (ops
 * move the batch axis without mixing rows), else the exported static shapes ('auto'; or one mode).
 */
export function lowerModel(model: OnnxModel, batch: 'auto' | 'dynamic' | 'static'): LoweredModel {
  if (batch === 'static') return { ...lower(model, 'static'), mode: 'static' };
  try {
    return { ...lower(model, 'dynamic'), mode: 'dynamic' };
  } catch (err) {
    if (batch !== 'auto' || !(err instanceof CompileError) || err.code !== 'batch') throw err;
    // Graphs that move the batch axis around without mixing rows (attention) run one row per call.
    try {
      return { ...lower(model, 'rowwise'), mode: 'rowwise' };
    } catch (rowErr) {
      if (!(rowErr instanceof CompileError) || rowErr.code !== 'batch') throw rowErr;
    }
    // Graphs that do mix rows (e.g. flatten everything) still run at their exported shape when it is
    // fixed. When it is not, the batch problem is the one to report.
    try {
      return { ...lower(model, 'static'), mode: 'static' };
    } catch {
      throw new CompileError(
        'batch',
        'The model mixes the rows of a batch, which ml-widgets runs independently, and its input shapes are not fixed. Export it with a fixed batch size to compile it at that shape:',
        err.problems,
      );
    }
  }
}
