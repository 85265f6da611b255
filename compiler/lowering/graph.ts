import { CompileError, NodeProblem, type CompileErrorCode, type CompileProblem } from '../errors.js';
import type { OnnxGraph, OnnxModel, OnnxNode } from '../onnx.js';
import { OPS } from '../ops/index.js';
import { inputSpecs, type OpHandler } from '../ops/op.js';
import type { Program, Value } from '../program.js';
import type { Tensor } from '../tensor.js';
import { BranchChoices } from './branch-choices.js';
import { NodeContext, type Subgraphs } from './context.js';

/**
 * Lowering a graph's nodes in order, and the subgraphs of If, Loop and Scan: each runs in a scope over the
 * enclosing graph's values (a subgraph may read any value of the graphs around it).
 */

/** Values by name, falling back to the enclosing graph's. */
export class Scope extends Map<string, Value> {
  constructor(readonly parent?: Scope) {
    super();
  }

  override get(name: string): Value | undefined {
    return super.has(name) ? super.get(name) : this.parent?.get(name);
  }

  override has(name: string): boolean {
    return super.has(name) || !!this.parent?.has(name);
  }

  /** Defined in this graph (not an outer-scope value). */
  isLocal(name: string): boolean {
    return super.has(name);
  }
}

/** The graphs a node carries in its attributes (If's branches, a Loop or Scan body). */
export function subgraphsOf(n: OnnxNode): OnnxGraph[] {
  const graphs: OnnxGraph[] = [];
  for (const v of n.attrs.values()) if (isGraph(v)) graphs.push(v);
  return graphs;
}

const isGraph = (v: unknown): v is OnnxGraph =>
  !!v && typeof v === 'object' && 'nodes' in v && 'initializers' in v && 'outputs' in v;

/** Every node of a graph and of the subgraphs inside it. */
export function allNodes(graph: OnnxGraph): OnnxNode[] {
  return graph.nodes.flatMap((n) => [n, ...subgraphsOf(n).flatMap(allNodes)]);
}

/** Names a graph (and the subgraphs inside it) reads that it does not define itself: outer-scope values. */
export function outerNames(graph: OnnxGraph): Set<string> {
  const defined = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) defined.add(o);
  const outer = new Set<string>();
  for (const n of graph.nodes) for (const name of nodeReads(n)) if (name && !defined.has(name)) outer.add(name);
  for (const o of graph.outputs) if (!defined.has(o.name)) outer.add(o.name);
  return outer;
}

/** What a node reads: its inputs, and the outer-scope values its subgraphs read. */
export function nodeReads(n: OnnxNode): string[] {
  const graphs = subgraphsOf(n);
  if (!graphs.length) return n.inputs;
  return [...n.inputs, ...new Set(graphs.flatMap((g) => [...outerNames(g)]))];
}

/** How many times each value is read in a graph (its outputs count as one read that never comes). */
export function countReads(graph: OnnxGraph): Map<string, number> {
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of nodeReads(n)) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of graph.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
  return consumers;
}

/** A subgraph had nodes that could not be compiled: they are reported already, with their own names. */
class SubgraphFailed extends Error {}

/** Added to the reads of values a subgraph may not overwrite in place (outer values, a loop's state). */
const PROTECTED = 1 << 24;

/**
 * The node loop: fold what is constant, lower the rest, collect every node's problem (a node that fails
 * poisons what depends on it, so one run reports all of them). Implements Subgraphs for the control ops.
 */
export class GraphLowering implements Subgraphs {
  readonly problems: CompileProblem[] = [];
  readonly codes = new Set<CompileErrorCode>();
  readonly ops = new Set<string>();
  private scope: Scope | undefined;

  constructor(
    readonly model: OnnxModel,
    readonly program: Program,
    private readonly rowsFromOne: boolean,
    readonly choices: BranchChoices = new BranchChoices(),
  ) {}

  private problem(n: OnnxNode, message: string): void {
    const opset = this.model.opsets['ai.onnx'];
    this.problems.push({
      op: n.opType,
      domain: n.domain,
      node: n.name,
      opset: this.model.opsets[n.domain] ?? opset,
      message,
    });
  }

  /** Lower `graph`'s nodes in `scope`, which holds its inputs and initializers already. */
  lowerNodes(graph: OnnxGraph, scope: Scope, consumers: Map<string, number>): void {
    const outer = this.scope;
    this.scope = scope;
    try {
      const poisoned = new Set<string>();
      for (const n of topologicalOrder(graph.nodes, scope)) {
        if (nodeReads(n).some((i) => poisoned.has(i))) {
          n.outputs.forEach((o) => poisoned.add(o));
          continue;
        }
        if (!this.lowerNode(n, scope, consumers)) n.outputs.forEach((o) => poisoned.add(o));
      }
    } finally {
      this.scope = outer;
    }
  }

  /** One node; false (its problem recorded) when it cannot be compiled. */
  private lowerNode(n: OnnxNode, scope: Scope, consumers: Map<string, number>): boolean {
    const handler = OPS[n.domain][n.opType];
    const opset = this.model.opsets[n.domain] ?? this.model.opsets['ai.onnx'];
    const ctx = new NodeContext(n, opset, this.program, scope, consumers, this.rowsFromOne, this);
    try {
      checkInputs(n, handler, ctx.opset, scope, false);
      const inputValues = n.inputs.map((name) => {
        if (!name) return undefined;
        const v = scope.get(name);
        if (!v)
          throw new NodeProblem(
            `its input "${name}" is not produced by any node, initializer or graph input`,
            'invalid-graph',
          );
        return v;
      });
      // This node's reads are done once it is lowered: values of this graph may then be overwritten in
      // place (outer values are the enclosing graph's to count).
      for (const name of nodeReads(n)) {
        const v = name && scope.isLocal(name) ? scope.get(name) : undefined;
        if (v?.kind === 'rt') v.buffer.pendingReads--;
      }
      if (handler.fold && inputValues.every((v) => !v || v.kind === 'const')) {
        const results = handler.fold(
          ctx,
          inputValues.map((v) => (v as { tensor: Tensor } | undefined)?.tensor),
        );
        results.forEach((t, i) => ctx.output(i, { kind: 'const', tensor: t }));
      } else {
        checkInputs(n, handler, ctx.opset, scope, true);
        handler.lower(ctx);
      }
      this.ops.add(n.domain === 'ai.onnx' ? n.opType : `${n.domain}.${n.opType}`);
      return true;
    } catch (err) {
      if (err instanceof CompileError) throw err;
      if (err instanceof SubgraphFailed) return false;
      if (!(err instanceof NodeProblem)) {
        // A handler met something it did not expect (an attribute of the wrong type, a shape no valid
        // graph has): still a CompileError naming the node, never a crash. The fuzz test treats these
        // as bugs to fix with a specific check.
        const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        this.codes.add('internal');
        this.problem(
          n,
          `internal error while compiling this node (${what}); the node's attributes or input shapes are probably invalid. Please report this with the model.`,
        );
        return false;
      }
      this.codes.add(err.code);
      this.problem(n, err.message);
      return false;
    }
  }

  /**
   * Subgraphs: lower `graph` (an If branch, a Loop or Scan body) where its node stands, its inputs bound to
   * `inputs`; returns the values of its outputs. Outer values it reads and the values given as its inputs
   * are never overwritten in place (a loop body runs again on them; the other branch may read them).
   */
  lower(graph: OnnxGraph, inputs: Value[]): Value[] {
    if (graph.inputs.length !== inputs.length)
      throw new NodeProblem(
        `a subgraph takes ${graph.inputs.length} inputs, but ${inputs.length} are given`,
        'invalid-graph',
      );
    const scope = new Scope(this.scope);
    for (const [name, t] of graph.initializers) scope.set(name, { kind: 'const', tensor: t });
    graph.inputs.forEach((info, i) => scope.set(info.name, inputs[i]));
    const protect = [...inputs, ...[...outerNames(graph)].map((name) => scope.get(name))];
    const guarded = protect.flatMap((v) => (v?.kind === 'rt' ? [v.buffer] : []));
    guarded.forEach((b) => (b.pendingReads += PROTECTED));
    const before = this.problems.length;
    try {
      this.lowerNodes(graph, scope, countReads(graph));
      if (this.problems.length > before) throw new SubgraphFailed();
      return graph.outputs.map((o) => {
        const v = scope.get(o.name);
        if (!v)
          throw new NodeProblem(`the subgraph output "${o.name}" is not produced by any of its nodes`, 'invalid-graph');
        return v;
      });
    } finally {
      guarded.forEach((b) => (b.pendingReads -= PROTECTED));
    }
  }

  /** Throw the CompileError that lists every problem, if there is one. */
  throwProblems(): void {
    const { problems, codes } = this;
    if (!problems.length) return;
    // One cause, that cause; a compiler bug above anything else; otherwise what a user can act on.
    const code: CompileErrorCode = codes.has('internal')
      ? 'internal'
      : codes.size === 1
        ? [...codes][0]
        : problems.every((p) => p.message.includes('not produced'))
          ? 'invalid-graph'
          : 'unsupported-ops';
    throw new CompileError(code, `The model has ${problems.length} node(s) ml-widgets cannot compile:`, problems);
  }
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
  // Optional outputs may be left unnamed (LSTM's Y when only Y_h is wanted), but not all of them.
  if (!n.outputs.some(Boolean))
    throw new NodeProblem('none of its outputs has a name, so nothing can read them', 'invalid-graph');
}

/** Kahn's algorithm over value dependencies; a cycle or a self-dependency is an invalid graph. */
function topologicalOrder(nodes: OnnxNode[], known: Map<string, Value>): OnnxNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const indegree = nodes.map(() => 0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const input of new Set(nodeReads(n))) {
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
