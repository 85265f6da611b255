import binaryen from 'binaryen';
import { KERNELS } from '../abi/kernels.js';
import { CompileError } from '../errors.js';
import { resolve, type Arg, type Program, type RtValue, type Step } from '../program.js';
import { headerWords, STATUS, STATUS_WORDS } from '../../runtime/abi.js';
import { sizeToString, type Size } from '../shape/size.js';
import { sizeExpression } from './sizes.js';

/** Where things are in the model's memory (compiler/emit/module.ts lays it out). */
export interface MemoryLayout {
  dataBase: number;
  /** The I/O header: the status record, then every input's dims, then every output's dims (runtime/abi.ts). */
  headerBase: number;
  /** One i32 per symbol (SymbolInfo.slot). */
  symbolBase: number;
  /** Run-time tables (RuntimeTable.offset is relative to this). */
  tableBase: number;
  arenaBase: number;
}

export interface RunFunction {
  /** Messages of the run-time checks, by the index a failed check reports. */
  checks: string[];
  /** Step i's kernel call again, as a new expression (for profiling exports: expressions are not shared). */
  stepCall(i: number): binaryen.ExpressionRef;
  /** The pieces run() is made of, for other exports that run the same code in parts (emit/threads.ts). */
  parts: RunParts;
}

/**
 * run()'s code in pieces, each a new expression list on every call (binaryen expressions are not shared).
 * A piece that fails returns its STATUS code from the function it is in (an i32 function).
 */
export interface RunParts {
  /** Bind the symbols from the inputs' shapes in the header. */
  prologue(): binaryen.ExpressionRef[];
  /** Step i's run-time checks and the run-time tables it reads. */
  before(i: number): binaryen.ExpressionRef[];
  /** Step i's kernel call; `override` replaces arguments by parameter name (a slice of the step). */
  call(i: number, override?: Record<string, binaryen.ExpressionRef>): binaryen.ExpressionRef;
  /** After step i: its computed sizes within their bounds. */
  after(i: number): binaryen.ExpressionRef[];
  /** Write the outputs' shapes and return STATUS.OK. */
  epilogue(): binaryen.ExpressionRef[];
  /** An argument's value for this call. */
  argument(a: Arg): binaryen.ExpressionRef;
}

/**
 * Build `run(): i32`: read the inputs' shapes from the header and bind the symbols (refusing a size beyond
 * its bounds, or one that disagrees with a fixed size or with another input), then every kernel call with
 * its sizes evaluated for this call (run-time tables written just before the call that reads them, checks
 * made), then write the outputs' shapes into the header. Returns 0, or a STATUS code with its details in
 * the status record.
 */
export function buildRun(
  mod: binaryen.Module,
  program: Program,
  inputs: readonly RtValue[],
  outputs: readonly RtValue[],
  layout: MemoryLayout,
  kernelFunctions: Map<string, string>,
): RunFunction {
  const symbols = program.symbols;
  const slot = (name: string) => layout.symbolBase + symbols.get(name)!.slot * 4;
  const symbolValue = (name: string) => mod.i32.load(0, 4, mod.i32.const(slot(name)));
  const size = (s: Size) => sizeExpression(mod, s, symbolValue);
  const checks: string[] = [];

  /** Store the status record and return its code. */
  const fail = (code: number, details: binaryen.ExpressionRef[]): binaryen.ExpressionRef =>
    mod.block(null, [
      ...[mod.i32.const(code), ...details].map((v, i) => mod.i32.store(i * 4, 4, mod.i32.const(layout.headerBase), v)),
      mod.return(mod.i32.const(code)),
    ]);

  // ---- prologue: the inputs' shapes
  const prologue = (): binaryen.ExpressionRef[] => {
    const body: binaryen.ExpressionRef[] = [];
    let word = STATUS_WORDS;
    const bound = new Set<string>();
    inputs.forEach((input, i) => {
      input.dims.forEach((d, axis) => {
        const at = layout.headerBase + word++ * 4;
        const got = () => mod.i32.load(0, 4, mod.i32.const(at));
        const where = [mod.i32.const(i), mod.i32.const(axis)];
        if (typeof d === 'number') {
          body.push(
            mod.if(mod.i32.ne(got(), mod.i32.const(d)), fail(STATUS.DIM_MISMATCH, [...where, mod.i32.const(d), got()])),
          );
          return;
        }
        const name = sizeToString(d);
        const info = symbols.get(name);
        if (!info) throw new Error(`internal error: input ${i} dimension ${axis} is ${name}, not a symbol`);
        if (bound.has(name)) {
          body.push(
            mod.if(
              mod.i32.ne(got(), symbolValue(name)),
              fail(STATUS.DIM_INCONSISTENT, [...where, symbolValue(name), got()]),
            ),
          );
          return;
        }
        bound.add(name);
        const outside = mod.i32.or(
          mod.i32.lt_s(got(), mod.i32.const(info.min)),
          mod.i32.gt_s(got(), mod.i32.const(info.max)),
        );
        body.push(
          mod.if(
            outside,
            fail(STATUS.OUT_OF_BOUNDS, [...where, mod.i32.const(info.max), got(), mod.i32.const(info.min)]),
          ),
        );
        body.push(mod.i32.store(0, 4, mod.i32.const(slot(name)), got()));
      });
    });
    return body;
  };

  // ---- the kernel calls
  const expr = (a: Arg): binaryen.ExpressionRef => {
    switch (a.t) {
      case 'i32':
        return size(a.v);
      case 'f32':
        return mod.f32.const(a.v);
      case 'buf': {
        const base = layout.arenaBase + resolve(a.b).offset;
        return a.off === undefined || a.off === 0 ? mod.i32.const(base) : mod.i32.add(mod.i32.const(base), size(a.off));
      }
      case 'data':
        return mod.i32.const(layout.dataBase + a.d.offset);
      case 'table':
        return mod.i32.const(layout.tableBase + a.table.offset);
      case 'slot':
        return mod.i32.const(slot(a.symbol));
      case 'null':
        return mod.i32.const(0);
    }
  };
  const kernelCall = (step: Step, override: Record<string, binaryen.ExpressionRef> = {}): binaryen.ExpressionRef => {
    const fn = kernelFunctions.get(step.kernel);
    if (!fn)
      throw new CompileError(
        'kernels-missing',
        `The kernel library has no "${step.kernel}" kernel: it is older than the compiler. Rebuild it with "npm run build:kernels".`,
      );
    const args = step.args();
    const params = KERNELS[step.kernel].params;
    const extra = Object.keys(args).filter((name) => !params.some(([p]) => p === name));
    if (extra.length) throw new Error(`internal error: ${step.kernel} has no parameter ${extra.join(', ')}`);
    const operands = params.map(([name]) => {
      if (override[name] !== undefined) return override[name];
      if (!args[name]) throw new Error(`internal error: ${step.kernel} called without ${name}`);
      return expr(args[name]);
    });
    const returns = 'returns' in KERNELS[step.kernel] ? binaryen.i32 : binaryen.none;
    const c = mod.call(fn, operands, returns);
    return returns === binaryen.none ? c : mod.drop(c);
  };
  // Run-time tables a call reads, written just before it (their sizes may be computed symbols).
  const tables = (step: Step): binaryen.ExpressionRef[] =>
    Object.values(step.args()).flatMap((a) =>
      a.t !== 'table'
        ? []
        : a.table.values.map((v, k) =>
            mod.i32.store(k * 4, 4, mod.i32.const(layout.tableBase + a.table.offset), size(v)),
          ),
    );
  const call = (step: Step): binaryen.ExpressionRef => {
    const parts = [...tables(step), kernelCall(step)];
    return parts.length === 1 ? parts[0] : mod.block(null, parts);
  };
  // Each check's index (what a failed check reports) is fixed once, whichever function emits it.
  const checkIndex = program.steps.map((step) => (step.checks ?? []).map((check) => checks.push(check.message) - 1));
  const before = (i: number): binaryen.ExpressionRef[] => [
    ...(program.steps[i].checks ?? []).map((check, k) =>
      mod.if(
        mod.i32.ne(size(check.a), size(check.b)),
        fail(STATUS.CHECK_FAILED, [mod.i32.const(checkIndex[i][k]), mod.i32.const(0), size(check.a), size(check.b)]),
      ),
    ),
    ...tables(program.steps[i]),
  ];
  // A size the kernel computed (a NonZero count, a Unique length): within its bound, or the call fails
  // before anything reads past what was planned (the kernel itself never writes past the bound).
  const after = (i: number): binaryen.ExpressionRef[] =>
    Object.values(program.steps[i].args()).flatMap((a) => {
      if (a.t !== 'slot') return [];
      const info = symbols.get(a.symbol)!;
      const got = () => symbolValue(a.symbol);
      return [
        mod.if(
          mod.i32.or(mod.i32.lt_s(got(), mod.i32.const(info.min)), mod.i32.gt_s(got(), mod.i32.const(info.max))),
          fail(STATUS.COMPUTED_OUT_OF_BOUNDS, [
            mod.i32.const(info.slot),
            mod.i32.const(0),
            mod.i32.const(info.max),
            got(),
          ]),
        ),
      ];
    });

  // ---- epilogue: the outputs' shapes
  const epilogue = (): binaryen.ExpressionRef[] => {
    const body: binaryen.ExpressionRef[] = [];
    let word = headerWords(
      inputs.map((v) => v.dims.length),
      outputs.map((v) => v.dims.length),
    ).outputs[0];
    for (const output of outputs) {
      for (const d of output.dims)
        body.push(mod.i32.store(0, 4, mod.i32.const(layout.headerBase + word++ * 4), size(d)));
    }
    body.push(mod.i32.store(0, 4, mod.i32.const(layout.headerBase), mod.i32.const(STATUS.OK)));
    body.push(mod.return(mod.i32.const(STATUS.OK)));
    return body;
  };

  const body = [
    ...prologue(),
    ...program.steps.flatMap((step, i) => [...before(i), kernelCall(step), ...after(i)]),
    ...epilogue(),
  ];
  mod.addFunction('run', binaryen.none, binaryen.i32, [], mod.block(null, body, binaryen.none));
  mod.addFunctionExport('run', 'run');
  const parts: RunParts = {
    prologue,
    before,
    call: (i, override) => kernelCall(program.steps[i], override),
    after,
    epilogue,
    argument: expr,
  };
  return { checks, stepCall: (i) => call(program.steps[i]), parts };
}
