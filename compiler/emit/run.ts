import binaryen from 'binaryen';
import { KERNELS, type KernelSpec } from '../abi/kernels.js';
import { CompileError } from '../errors.js';
import {
  isKernelStep,
  resolve,
  type Arg,
  type Condition,
  type Control,
  type KernelStep,
  type Program,
  type RtValue,
  type Step,
} from '../program.js';
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
 * run()'s code in pieces, each a new expression list on every call (binaryen expressions are not shared),
 * for a program of kernel steps only (a control step's blocks are not cut). A piece that fails returns its
 * STATUS code from the function it is in (an i32 function whose local 0 is an i32 it may overwrite).
 */
export interface RunParts {
  /** Bind the symbols from the inputs' shapes in the header. */
  prologue(): binaryen.ExpressionRef[];
  /** Step i's run-time checks and the run-time tables it reads. */
  before(i: number): binaryen.ExpressionRef[];
  /** Step i's kernel call; `override` replaces arguments by parameter name (a slice of the step). */
  call(i: number, override?: Record<string, binaryen.ExpressionRef>): binaryen.ExpressionRef;
  /** After step i: its value check, and its computed sizes within their bounds. */
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
 * made; a value-checking kernel's result tested right after it), then write the outputs' shapes into the header. Returns 0, or a STATUS code with its details in
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
  /**
   * The kernel call; `result`: an i32 kernel's result stored in local 0 (for a value check) instead of
   * dropped; `override` replaces arguments by parameter name (a slice of the step).
   */
  const kernelCall = (
    step: KernelStep,
    result = false,
    override: Record<string, binaryen.ExpressionRef> = {},
  ): binaryen.ExpressionRef => {
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
    if (result && returns === binaryen.none) throw new Error(`internal error: ${step.kernel} returns nothing to check`);
    return returns === binaryen.none ? c : result ? mod.local.set(0, c) : mod.drop(c);
  };
  // Run-time tables a call reads, written just before it (their sizes may be computed symbols).
  const tables = (step: Step): binaryen.ExpressionRef[] =>
    isKernelStep(step)
      ? Object.values(step.args()).flatMap((a) =>
          a.t !== 'table'
            ? []
            : a.table.values.map((v, k) =>
                mod.i32.store(k * 4, 4, mod.i32.const(layout.tableBase + a.table.offset), size(v)),
              ),
        )
      : [];
  // Each check's index (what a failed check reports) is fixed once, whichever function emits it.
  const checkIndex = program.steps.map((step) => (step.checks ?? []).map((check) => checks.push(check.message) - 1));
  const valueIndex = program.steps.map((step) =>
    isKernelStep(step) && step.valueCheck ? checks.push(step.valueCheck.message) - 1 : -1,
  );
  const checksOf = (i: number): binaryen.ExpressionRef[] =>
    (program.steps[i].checks ?? []).map((check, k) =>
      mod.if(
        mod.i32.ne(size(check.a), size(check.b)),
        fail(STATUS.CHECK_FAILED, [mod.i32.const(checkIndex[i][k]), mod.i32.const(0), size(check.a), size(check.b)]),
      ),
    );
  const before = (i: number): binaryen.ExpressionRef[] => [...checksOf(i), ...tables(program.steps[i])];
  // The kernel found a value the op forbids (its result is in local 0): fail before anything reads it.
  const valueChecks = (i: number): binaryen.ExpressionRef[] => {
    const step = program.steps[i];
    if (!isKernelStep(step) || !step.valueCheck) return [];
    const valid = (KERNELS[step.kernel] as KernelSpec).valid ?? -1;
    const got = () => mod.local.get(0, binaryen.i32);
    return [
      mod.if(
        mod.i32.ne(got(), mod.i32.const(valid)),
        fail(STATUS.VALUE_INVALID, [
          mod.i32.const(valueIndex[i]),
          mod.i32.sub(got(), mod.i32.const(valid + 1)),
          size(step.valueCheck.lo ?? 0),
          size(step.valueCheck.hi ?? 0),
        ]),
      ),
    ];
  };
  // A size the kernel computed (a NonZero count, a Unique length): within its bound, or the call fails
  // before anything reads past what was planned (the kernel itself never writes past the bound).
  const computedChecks = (step: KernelStep): binaryen.ExpressionRef[] =>
    Object.values(step.args()).flatMap((a) => {
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
  const after = (i: number): binaryen.ExpressionRef[] => {
    const step = program.steps[i];
    return isKernelStep(step) ? [...valueChecks(i), ...computedChecks(step)] : [];
  };
  const callOf = (i: number, override?: Record<string, binaryen.ExpressionRef>) => {
    const step = program.steps[i];
    if (!isKernelStep(step)) throw new Error('internal error: a control step has no kernel call');
    return kernelCall(step, !!step.valueCheck, override);
  };
  /** A condition as an i32 (nonzero: true). */
  const condition = (c: Condition): binaryen.ExpressionRef => {
    if (c.kind === 'size') return size(c.size);
    const at = mod.i32.const(layout.arenaBase + resolve(c.value.buffer).offset);
    switch (c.value.dtype) {
      case 'uint8':
      case 'int8':
        return mod.i32.load8_u(0, 1, at);
      case 'int32':
        return mod.i32.load(0, 4, at);
      case 'int64':
        return mod.i64.ne(mod.i64.load(0, 8, at), mod.i64.const(0n));
      case 'float32':
        return mod.f32.ne(mod.f32.load(0, 4, at), mod.f32.const(0));
    }
  };
  /** A loop's trip limit as an i32 (an int64 tensor beyond i32 counts as the largest i32). */
  const tripLimit = (c: Condition): binaryen.ExpressionRef => {
    if (c.kind === 'size' || c.value.dtype !== 'int64') return c.kind === 'size' ? size(c.size) : condition(c);
    const at = () => mod.i32.const(layout.arenaBase + resolve(c.value.buffer).offset);
    const big = mod.i64.gt_s(mod.i64.load(0, 8, at()), mod.i64.const(0x7fffffffn));
    return mod.select(big, mod.i32.const(0x7fffffff), mod.i32.wrap(mod.i64.load(0, 8, at())));
  };

  // The flat step list with its control steps, as nested blocks: a stack of open blocks, each collecting
  // the expressions of its steps.
  interface Frame {
    control: Control;
    then: binaryen.ExpressionRef[];
    otherwise?: binaryen.ExpressionRef[];
    label: number;
  }
  const body = prologue();
  const stack: Frame[] = [];
  let labels = 0;
  const current = () => {
    const top = stack.at(-1);
    return top ? (top.otherwise ?? top.then) : body;
  };
  program.steps.forEach((step, i) => {
    current().push(...before(i));
    if (isKernelStep(step)) {
      current().push(callOf(i), ...after(i));
      return;
    }
    const c = step.control;
    switch (c.op) {
      case 'set':
        current().push(mod.i32.store(0, 4, mod.i32.const(slot(c.symbol)), size(c.value)));
        break;
      case 'if':
        stack.push({ control: c, then: [], label: labels++ });
        break;
      case 'loop':
        current().push(mod.i32.store(0, 4, mod.i32.const(slot(c.counter)), mod.i32.const(0)));
        stack.push({ control: c, then: [], label: labels++ });
        break;
      case 'else': {
        const top = stack.at(-1);
        if (top?.control.op !== 'if' || top.otherwise) throw new Error('internal error: else without if');
        top.otherwise = [];
        break;
      }
      case 'end': {
        const top = stack.pop();
        if (!top) throw new Error('internal error: end without if or loop');
        const block = (list: binaryen.ExpressionRef[]) => mod.block(null, list, binaryen.none);
        if (top.control.op === 'if') {
          current().push(
            mod.if(condition(top.control.cond), block(top.then), top.otherwise ? block(top.otherwise) : undefined),
          );
          break;
        }
        if (top.control.op !== 'loop') throw new Error('internal error: unknown block');
        const loop = top.control;
        const exit = `exit${top.label}`;
        const again = `again${top.label}`;
        const counter = () => symbolValue(loop.counter);
        const info = symbols.get(loop.counter)!;
        const head: binaryen.ExpressionRef[] = [];
        if (loop.trips) head.push(mod.br(exit, mod.i32.ge_s(counter(), tripLimit(loop.trips))));
        if (loop.cond) head.push(mod.br(exit, mod.i32.eqz(condition({ kind: 'value', value: loop.cond }))));
        // One more iteration than the plan holds (scan outputs, the counter's bound): refused, not overrun.
        head.push(
          mod.if(
            mod.i32.ge_s(counter(), mod.i32.const(info.max)),
            fail(STATUS.COMPUTED_OUT_OF_BOUNDS, [
              mod.i32.const(info.slot),
              mod.i32.const(0),
              mod.i32.const(info.max),
              mod.i32.add(counter(), mod.i32.const(1)),
            ]),
          ),
        );
        const step = mod.i32.store(0, 4, mod.i32.const(slot(loop.counter)), mod.i32.add(counter(), mod.i32.const(1)));
        current().push(
          mod.block(exit, [mod.loop(again, block([...head, ...top.then, step, mod.br(again)]))], binaryen.none),
        );
        break;
      }
    }
  });
  if (stack.length) throw new Error('internal error: a control block is not closed');

  // ---- epilogue: the outputs' shapes
  const epilogue = (): binaryen.ExpressionRef[] => {
    const list: binaryen.ExpressionRef[] = [];
    let word = headerWords(
      inputs.map((v) => v.dims.length),
      outputs.map((v) => v.dims.length),
    ).outputs[0];
    for (const output of outputs) {
      for (const d of output.dims)
        list.push(mod.i32.store(0, 4, mod.i32.const(layout.headerBase + word++ * 4), size(d)));
    }
    list.push(mod.i32.store(0, 4, mod.i32.const(layout.headerBase), mod.i32.const(STATUS.OK)));
    list.push(mod.return(mod.i32.const(STATUS.OK)));
    return list;
  };
  body.push(...epilogue());
  mod.addFunction('run', binaryen.none, binaryen.i32, [binaryen.i32], mod.block(null, body, binaryen.none));
  mod.addFunctionExport('run', 'run');
  const parts: RunParts = { prologue, before, call: callOf, after, epilogue, argument: expr };
  return {
    checks,
    stepCall: (i) => {
      const step = program.steps[i];
      return isKernelStep(step) ? mod.block(null, [...tables(step), kernelCall(step)]) : mod.nop();
    },
    parts,
  };
}
