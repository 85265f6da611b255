import binaryen from 'binaryen';
import { KERNELS } from '../abi/kernels.js';
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
import { STATUS, STATUS_WORDS } from '../../runtime/abi.js';
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

  const body: binaryen.ExpressionRef[] = [];
  // ---- prologue: the inputs' shapes
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
  const call = (step: KernelStep): binaryen.ExpressionRef => {
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
    const parts: binaryen.ExpressionRef[] = [];
    // Run-time tables this call reads, written just before it (their sizes may be computed symbols).
    for (const a of Object.values(args)) {
      if (a.t !== 'table') continue;
      a.table.values.forEach((v, k) =>
        parts.push(mod.i32.store(k * 4, 4, mod.i32.const(layout.tableBase + a.table.offset), size(v))),
      );
    }
    const operands = params.map(([name]) => {
      if (!args[name]) throw new Error(`internal error: ${step.kernel} called without ${name}`);
      return expr(args[name]);
    });
    const returns = 'returns' in KERNELS[step.kernel] ? binaryen.i32 : binaryen.none;
    const c = mod.call(fn, operands, returns);
    parts.push(returns === binaryen.none ? c : mod.drop(c));
    return parts.length === 1 ? parts[0] : mod.block(null, parts);
  };
  const checksOf = (step: Step): binaryen.ExpressionRef[] =>
    (step.checks ?? []).map((check) => {
      const index = checks.push(check.message) - 1;
      return mod.if(
        mod.i32.ne(size(check.a), size(check.b)),
        fail(STATUS.CHECK_FAILED, [mod.i32.const(index), mod.i32.const(0), size(check.a), size(check.b)]),
      );
    });
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
  const stack: Frame[] = [];
  let labels = 0;
  const current = () => {
    const top = stack.at(-1);
    return top ? (top.otherwise ?? top.then) : body;
  };
  for (const step of program.steps) {
    current().push(...checksOf(step));
    if (isKernelStep(step)) {
      current().push(call(step), ...computedChecks(step));
      continue;
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
  }
  if (stack.length) throw new Error('internal error: a control block is not closed');

  // ---- epilogue: the outputs' shapes
  for (const output of outputs) {
    for (const d of output.dims) body.push(mod.i32.store(0, 4, mod.i32.const(layout.headerBase + word++ * 4), size(d)));
  }
  body.push(mod.i32.store(0, 4, mod.i32.const(layout.headerBase), mod.i32.const(STATUS.OK)));
  body.push(mod.return(mod.i32.const(STATUS.OK)));
  mod.addFunction('run', binaryen.none, binaryen.i32, [], mod.block(null, body, binaryen.none));
  mod.addFunctionExport('run', 'run');
  return {
    checks,
    stepCall: (i) => {
      const step = program.steps[i];
      return isKernelStep(step) ? call(step) : mod.nop();
    },
  };
}
