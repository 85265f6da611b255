export { compile, MIN_OPSET, MAX_OPSET, type CompileOptions, type CompileResult } from './compile.js';
export { CompileError, type CompileProblem, type CompileErrorCode } from './errors.js';
export { OPS } from './ops/index.js';
