import { CompileError, type CompileProblem } from '../errors.js';
import type { OnnxModel, OnnxNode, OnnxValueInfo } from '../onnx.js';
import { OPS } from '../ops/index.js';
import { Program, type RtValue, type Value } from '../program.js';
import { isConst, sizeToString, type Size } from '../shape/size.js';
import { MAX_DIM, SymbolTable, type DimOption } from '../shape/symbols.js';
import { Tensor } from '../tensor.js';
import { BranchChoices, withChosenProblems } from './branch-choices.js';
import { allNodes, countReads, GraphLowering, Scope } from './graph.js';
import { toPlain } from './layout.js';
import { materialize } from './materialize.js';
import { storageOf } from './storage.js';

/** The most dimensions an input may have (ONNX models use up to 6; more is a damaged shape). */
const MAX_RANK = 16;

export interface LowerOptions {
  /** `--dim`: fixed sizes or bounds of symbolic dimensions, by name. */
  dims?: Record<string, DimOption>;
  /** `--const`: inputs fixed to a value at compile time (they fold, and an If on them disappears). */
  consts?: Record<string, Tensor>;
}

export interface Lowered {
  program: Program;
  inputs: { name: string; value: RtValue }[];
  outputs: { name: string; value: RtValue }[];
  /** ONNX op types that were compiled (folded or lowered). */
  ops: string[];
  /**
   * Set when the graph never mixes the rows of its batch: `symbol` is dimension 0 of every input and
   * (times a constant) of every output, so a call may run a batch in chunks of any size.
   */
  rows?: { symbol: string };
}

/**
 * Lower a model to a Program: fold what is constant, turn the rest into kernel calls over sizes that may be
 * symbolic. The inputs take exactly their declared shapes. One convenience on top: when every input starts
 * with a fixed 1 (PyTorch's default export) and the graph never mixes the rows of a batch, that 1 becomes a
 * batch dimension, so one call can run many rows; the declared shape still works (a batch of 1).
 */
export function lowerModel(model: OnnxModel, options: LowerOptions = {}): Lowered {
  const candidates = model.graph.inputs.filter(
    (i) => !model.graph.initializers.has(i.name) && !options.consts?.[i.name],
  );
  const leadingOnes =
    candidates.length > 0 && candidates.every((i) => i.shape && i.shape.length > 0 && i.shape[0] === 1);
  if (leadingOnes) {
    try {
      const rowwise = lowerUnifying(model, options, true);
      if (rowwise.rows) return rowwise;
    } catch (err) {
      if (!(err instanceof CompileError)) throw err;
      // A graph that cannot take a batch there is compiled at its exact shapes, below.
    }
  }
  return lowerUnifying(model, options, false);
}

/**
 * Lower, and lower again while the graph turns out to need two input dimensions equal (skl2onnx's
 * one-column inputs, each with its own unknown row count, meet in a FeatureVectorizer): the second becomes
 * the first's symbol, so everything after sees one size. The inputs are still checked to agree.
 */
function lowerUnifying(model: OnnxModel, options: LowerOptions, batchFromOne: boolean): Lowered {
  const aliases = new Map<string, string>();
  let choices = new BranchChoices();
  let chosenFailure: CompileError | undefined; // what failed with the first branches chosen
  for (;;) {
    let lowered: Lowered | undefined;
    let failure: unknown;
    const symbols = new SymbolTable(options.dims, aliases);
    try {
      lowered = lower(model, options, batchFromOne, symbols, choices);
    } catch (err) {
      if (!(err instanceof CompileError)) throw err;
      failure = err;
    }
    const fresh = symbols.equalities.filter(([, drop]) => !aliases.has(drop));
    if (fresh.length === 0) {
      if (lowered) return lowered;
      // an If whose branches differ in rank: try the other branch (lowering/branch-choices.ts)
      if (choices.choosing) chosenFailure ??= failure as CompileError;
      if (choices.retry()) continue;
      throw chosenFailure ? withChosenProblems(failure as CompileError, chosenFailure) : failure;
    }
    for (const [keep, drop] of fresh) if (!aliases.has(drop) && keep !== drop) aliases.set(drop, keep);
    choices = new BranchChoices(); // the sizes changed: every If is chosen for anew
    chosenFailure = undefined;
  }
}

function lower(
  model: OnnxModel,
  options: LowerOptions,
  batchFromOne: boolean,
  symbols: SymbolTable,
  choices: BranchChoices,
): Lowered {
  const opset = model.opsets['ai.onnx'];
  const { graph } = model;
  const problems: CompileProblem[] = [];
  const problem = (n: OnnxNode, message: string) =>
    problems.push({ op: n.opType, domain: n.domain, node: n.name, opset: model.opsets[n.domain] ?? opset, message });

  // Every unsupported op is reported at once (subgraphs' too), before any other work.
  for (const n of allNodes(graph)) {
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

  const program = new Program(symbols);
  const values = new Map<string, Value>();
  for (const [name, t] of graph.initializers) values.set(name, { kind: 'const', tensor: t });
  for (const [name, t] of Object.entries(options.consts ?? {})) {
    if (!graph.inputs.some((i) => i.name === name) || graph.initializers.has(name)) {
      const names = graph.inputs.filter((i) => !graph.initializers.has(i.name)).map((i) => i.name);
      throw new CompileError(
        'invalid-option',
        `--const ${name}: the model has no input of that name (its inputs: ${names.join(', ')}).`,
      );
    }
    values.set(name, { kind: 'const', tensor: t });
  }

  const inputs: Lowered['inputs'] = [];
  const graphInputs = graph.inputs.filter((i) => !values.has(i.name)); // old exports list initializers too
  const batchName = batchFromOne ? freeName(graphInputs, 'batch') : undefined;
  graphInputs.forEach((info, index) => {
    const value = inputValue(program, info, index, batchName);
    values.set(info.name, value);
    inputs.push({ name: info.name, value });
  });
  const rowSymbol = batchName ?? sharedLeadingSymbol(inputs.map((i) => i.value));
  if (rowSymbol) for (const { value } of inputs) if (value.dims.length) value.rowAxis = 0;

  const consumers = countReads(graph);
  for (const { value, name } of inputs) value.buffer.pendingReads = consumers.get(name) ?? 0;

  const nodes = new GraphLowering(model, program, batchFromOne, choices);
  const scope = new Scope();
  for (const [name, v] of values) scope.set(name, v);
  nodes.lowerNodes(graph, scope, consumers);
  nodes.throwProblems();
  const ops = nodes.ops;

  const outputs: Lowered['outputs'] = graph.outputs.map((o) => {
    const v = scope.get(o.name);
    if (!v) throw new CompileError('invalid-graph', `Graph output "${o.name}" is not produced by any node.`);
    return { name: o.name, value: materialize(program, v.kind === 'rt' ? toPlain(program, v) : v) };
  });
  symbols.checkOptionsUsed(symbols.all.filter((s) => s.kind === 'input').map((s) => s.name));
  const rows = rowSymbol && keepsRows(rowSymbol, inputs, outputs) ? { symbol: rowSymbol } : undefined;
  return { program, inputs, outputs, ops: [...ops], rows };
}

/** A graph input as a run-time value: its element type held as `storageOf` says, its dims sizes or symbols. */
function inputValue(program: Program, info: OnnxValueInfo, index: number, batchName: string | undefined): RtValue {
  if (info.dtype === 'sequence' || info.dtype === 'map' || info.dtype === 'unknown')
    throw new CompileError(
      'unsupported-ops',
      `Input "${info.name}" is a ${info.dtype}; ml-widgets models take tensors.`,
    );
  const storage = storageOf(info.dtype);
  if (!storage)
    throw new CompileError(
      'unsupported-ops',
      `Input "${info.name}" has element type ${info.dtype}; ml-widgets models take float32, int64, int32, bool, uint8 and int8 inputs.${info.dtype === 'float64' || info.dtype === 'float16' ? ' Export the model with float32 inputs.' : ''}`,
    );
  if (!info.shape)
    throw new CompileError('invalid-graph', `Input "${info.name}" has no shape; export the model with input shapes.`);
  if (info.shape.length > MAX_RANK) {
    throw new CompileError(
      'invalid-graph',
      `Input "${info.name}" has ${info.shape.length} dimensions; ml-widgets takes inputs of at most ${MAX_RANK}. Check the exported input shape.`,
    );
  }
  const dims: Size[] = info.shape.map((d, axis) => {
    if (batchName && axis === 0) return program.symbols.inputDim(batchName, index, 0);
    if (typeof d === 'number' && d > MAX_DIM) {
      throw new CompileError(
        'too-large',
        `Input "${info.name}" dimension ${axis} is ${d}, far more than a model in a web page can take; check the exported shape.`,
      );
    }
    if (typeof d === 'number' && Number.isSafeInteger(d) && d > 0) return d;
    if (typeof d === 'number' && (d < 0 || !Number.isSafeInteger(d)))
      throw new CompileError('invalid-graph', `Input "${info.name}" dimension ${axis} is ${d}, not a size.`);
    // A dim_param names a symbolic dimension; 0 or nothing (an unknown size) is named after its place.
    return program.symbols.inputDim(typeof d === 'string' && d ? d : `${info.name}[${axis}]`, index, axis);
  });
  const value = program.newValue(dims, storage);
  if (info.dtype !== storage) value.onnx = info.dtype;
  return value;
}

/** `base`, or `base#2`, … if an input dimension already has that name. */
function freeName(inputs: OnnxValueInfo[], base: string): string {
  const taken = new Set(inputs.flatMap((i) => (i.shape ?? []).filter((d): d is string => typeof d === 'string')));
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}#${k}`;
  return name;
}

/** The symbol every input starts with (and that no other input dimension uses), if there is one. */
function sharedLeadingSymbol(inputs: RtValue[]): string | undefined {
  const first = inputs[0]?.dims[0];
  if (
    first === undefined ||
    isConst(first) ||
    first.terms.size !== 1 ||
    first.terms.get([...first.terms.keys()][0]) !== 1
  )
    return undefined;
  const atom = [...first.atoms.values()][0];
  if (atom?.kind !== 'symbol') return undefined;
  const name = atom.name;
  const uses = (s: Size) => !isConst(s) && [...s.atoms.values()].some((a) => a.kind === 'symbol' && a.name === name);
  const ok = inputs.every(
    (v) => v.dims.length > 0 && sizeToString(v.dims[0]) === name && v.dims.slice(1).every((d) => !uses(d)),
  );
  return ok ? name : undefined;
}

/** Every output keeps the rows on axis 0 as a constant multiple of the row symbol, and nowhere else. */
function keepsRows(symbol: string, inputs: Lowered['inputs'], outputs: Lowered['outputs']): boolean {
  const uses = (s: Size) => !isConst(s) && [...s.atoms.values()].some((a) => a.kind === 'symbol' && a.name === symbol);
  const multiple = (s: Size) => {
    if (isConst(s) || s.terms.size !== 1) return false;
    const [[monomial]] = [...s.terms];
    return monomial === `$${symbol}`;
  };
  return (
    inputs.every(({ value }) => value.rowAxis === 0) &&
    outputs.every(
      ({ value }) => value.rowAxis === 0 && multiple(value.dims[0]) && value.dims.slice(1).every((d) => !uses(d)),
    )
  );
}
