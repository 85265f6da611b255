/** One problem the compiler found, tied to the ONNX node it came from. */
export interface CompileProblem {
  op: string;
  domain: string;
  node: string;
  opset: number;
  message: string;
}

export type CompileErrorCode =
  | 'invalid-onnx' // the bytes are not a readable ONNX model
  | 'unsupported-ops' // ops (or op variants) this compiler cannot compile
  | 'invalid-graph' // a graph ONNX itself would reject: cycles, missing values, bad shapes
  | 'invalid-option' // a compile option (--dim, --const, --labels, …) that does not fit the model
  | 'too-large' // tensors or memory beyond what a model file can hold
  | 'kernels-missing' // the kernel library (dist/kernels*.wasm) is missing or older than the compiler
  | 'labels' // the labels given do not match the model's classes one to one
  | 'internal'; // a compiler bug met on this model: the message names the node; please report it

/**
 * The compiler's only error. It lists every problem at once, so a user sees all unsupported ops of a
 * model in one run, never a wrong answer.
 */
export class CompileError extends Error {
  readonly code: CompileErrorCode;
  readonly problems: CompileProblem[];
  constructor(code: CompileErrorCode, message: string, problems: CompileProblem[] = []) {
    super(problems.length ? `${message}\n${problems.map(formatProblem).join('\n')}` : message);
    this.name = 'CompileError';
    this.code = code;
    this.problems = problems;
  }
}

export function formatProblem(p: CompileProblem): string {
  const op = p.domain && p.domain !== 'ai.onnx' ? `${p.domain}.${p.op}` : p.op;
  return `  - ${op} (node "${p.node}", opset ${p.opset}): ${p.message}`;
}

/** A problem with one node, thrown while lowering it and collected by the compiler. */
export class NodeProblem extends Error {
  readonly code: CompileErrorCode;
  constructor(message: string, code: CompileErrorCode = 'unsupported-ops') {
    super(message);
    this.code = code;
  }
}
