/**
 * The exports a pool of threads runs a model with, on a shared memory (runtime/threads/): run() cut at
 * the steps worth splitting, and those steps cut into slices (compiler/emit/slicing.ts).
 *
 *   phase(p): i32         p = 0: bind the inputs' shapes, run the steps before parallel step 0, then its
 *                         checks and tables; 0 < p < P: the steps between parallel steps p−1 and p;
 *                         p = P: the rest, and the outputs' shapes. Returns 0 or a STATUS code, as run().
 *   slices(p, most, work): i32
 *                         how many slices parallel step p is worth at this call's sizes: at most `most`,
 *                         at most its units, about `work` multiply-adds each or more (1: run it whole)
 *   slice(p, t, k)        slice t of k of parallel step p: units [⌊U·t/k⌋, ⌊U·(t+1)/k⌋) of its U units
 *
 * Calling phase(0), every step's slices, phase(1), … phase(P) in order, with the slices of one step in any
 * order on any threads, computes exactly what run() does; run() itself is then phase(0), slice(0, 0, 1),
 * phase(1), … phase(P): one copy of the code, and one thread computes what several do, bit for bit.
 * Nothing here is an instruction the runtime must trust: the barriers and the pool are JavaScript.
 */
import binaryen from 'binaryen';
import { evaluate } from '../shape/size.js';
import type { Arg, KernelStep, Program, Step } from '../program.js';
import { isKernelStep, resolve } from '../program.js';
import type { RunParts } from './run.js';
import { sliceRule, type Ints, type SliceRule } from './slicing.js';

/** What ml.meta says about it: parallel steps, and the work of one call at the bounds. */
export interface ThreadsMeta {
  steps: number;
  work: number;
}

type Thunk = () => binaryen.ExpressionRef;

/**
 * Parallel steps at most: the rest run whole on the leader. A graph of thousands of small steps would
 * otherwise give switches of thousands of nested cases (slow to build and optimise, and none worth a barrier).
 */
const MAX_PARALLEL_STEPS = 256;

/** Passes over the generated functions only (the kernels are optimised already). */
const OPTIMIZE = ['precompute', 'optimize-instructions', 'local-cse', 'simplify-locals', 'vacuum', 'coalesce-locals'];

/** Add phase/slices/slice to `mod` (when any step splits) and say what the model's work is. */
export function buildThreadExports(mod: binaryen.Module, program: Program, parts: RunParts): ThreadsMeta {
  const bound = (s: string) => program.symbols.get(s)?.max ?? 0;
  const work = Math.round(program.steps.reduce((n, step) => n + stepWork(step, bound), 0));
  // A program with control steps (If, Loop, Scan) runs on one thread: its blocks are not cut into phases.
  const steps = program.steps.filter(isKernelStep);
  if (steps.length !== program.steps.length) return { steps: 0, work };
  const parallel = steps
    .map((step, i) => ({ step, i, rule: splittable(step), work: stepWork(step, bound) }))
    .filter((s): s is { step: KernelStep; i: number; rule: SliceRule; work: number } => s.rule !== undefined)
    // The biggest steps at the bounds, in program order: every parallel step is a case of three switches.
    .sort((a, b) => b.work - a.work || a.i - b.i)
    .slice(0, MAX_PARALLEL_STEPS)
    .sort((a, b) => a.i - b.i);
  const P = parallel.length;
  if (P === 0) return { steps: 0, work };

  const none = binaryen.none;
  const i32 = binaryen.i32;
  const local = (index: number) => () => mod.local.get(index, i32);
  /** A switch over `p` (local 0): case i's code, then the code after the switch (for p out of range). */
  const dispatch = (cases: binaryen.ExpressionRef[][], after: binaryen.ExpressionRef[]) => {
    const names = cases.map((_, i) => `p${i}`);
    let current = mod.block(names[0], [mod.switch(names, 'out', mod.local.get(0, i32))]);
    cases.forEach((code, i) => {
      current = mod.block(i + 1 < cases.length ? names[i + 1] : 'out', [current, ...code]);
    });
    return mod.block(null, [current, ...after]);
  };
  const argsOf = (s: (typeof parallel)[number]) => {
    const args = s.step.args() as Record<string, Arg>;
    return (name: string): Thunk => {
      const a = args[name];
      if (!a) throw new Error(`internal error: slicing ${s.step.kernel} needs its argument ${name}`);
      return () => parts.argument(a);
    };
  };

  // ---- phase(p): run() between the parallel steps
  const serial = (from: number, to: number) =>
    program.steps
      .slice(from, to)
      .flatMap((_, k) => [...parts.before(from + k), parts.call(from + k), ...parts.after(from + k)]);
  const phases: binaryen.ExpressionRef[][] = [];
  for (let p = 0; p <= P; p++) {
    const start = p === 0 ? 0 : parallel[p - 1].i + 1;
    const end = p === P ? program.steps.length : parallel[p].i;
    const code = [
      ...(p === 0 ? parts.prologue() : parts.after(parallel[p - 1].i)),
      ...serial(start, end),
      ...(p === P ? parts.epilogue() : [...parts.before(end), mod.return(mod.i32.const(0))]),
    ];
    phases.push(code);
  }
  mod.addFunction('phase', binaryen.createType([i32]), i32, [], dispatch(phases.slice(0, P), phases[P]));
  mod.addFunctionExport('phase', 'phase');

  // ---- slices(p, most, work): how many slices step p is worth now
  mod.addFunction(
    'slices',
    binaryen.createType([i32, i32, i32]),
    i32,
    [],
    dispatch(
      parallel.map((s) => {
        const arg = argsOf(s);
        const wide = wasmInts(mod, true, (name) => () => mod.i64.extend_s(arg(name)()));
        const narrow = wasmInts(mod, false, arg);
        const perSlice = () => mod.i64.extend_s(local(2)());
        const bySize = () => mod.i32.wrap(wide.min(wide.div(s.rule.work(wide), perSlice), wide.c(1 << 20))());
        const k = narrow.min(narrow.min(s.rule.units(narrow), local(1)), bySize);
        return [mod.return(narrow.max(k, narrow.c(1))())];
      }),
      [mod.return(mod.i32.const(1))],
    ),
  );
  mod.addFunctionExport('slices', 'slices');

  // ---- slice(p, t, k): units [U·t/k, U·(t+1)/k) of step p
  const LO = 3;
  const HI = 4;
  mod.addFunction(
    'slice',
    binaryen.createType([i32, i32, i32]),
    none,
    [i32, i32],
    dispatch(
      parallel.map((s) => {
        const arg = argsOf(s);
        const o = wasmInts(mod, false, arg);
        const units = s.rule.units(o);
        const bound = (t: binaryen.ExpressionRef) =>
          mod.i32.wrap(
            mod.i64.div_u(
              mod.i64.mul(mod.i64.extend_u(units()), mod.i64.extend_u(t)),
              mod.i64.extend_u(
                mod.select(
                  mod.i32.gt_s(mod.local.get(2, i32), mod.i32.const(1)),
                  mod.local.get(2, i32),
                  mod.i32.const(1),
                ),
              ),
            ),
          );
        const changed = s.rule.slice(o, local(LO), local(HI));
        const override = Object.fromEntries(Object.entries(changed).map(([name, v]) => [name, v()]));
        return [
          mod.local.set(LO, bound(mod.local.get(1, i32))),
          mod.local.set(HI, bound(mod.i32.add(mod.local.get(1, i32), mod.i32.const(1)))),
          parts.call(s.i, override),
          mod.return(),
        ];
      }),
      [],
    ),
  );
  mod.addFunctionExport('slice', 'slice');
  // ---- run() as the phases and each parallel step whole: the same code once in the file, not twice
  const runBody: binaryen.ExpressionRef[] = [];
  for (let p = 0; p < P; p++) {
    runBody.push(
      mod.local.set(0, mod.call('phase', [mod.i32.const(p)], i32)),
      mod.if(mod.local.get(0, i32), mod.return(mod.local.get(0, i32))),
      mod.call('slice', [mod.i32.const(p), mod.i32.const(0), mod.i32.const(1)], none),
    );
  }
  runBody.push(mod.return(mod.call('phase', [mod.i32.const(P)], i32)));
  mod.removeExport('run');
  mod.removeFunction('run');
  mod.addFunction('run', none, i32, [i32], mod.block(null, runBody, none));
  mod.addFunctionExport('run', 'run');

  // The rules' expressions repeat their terms (ceil(M/4) in every argument): fold and share them. phase()
  // is run()'s own code, cut up: nothing to fold, and passes over it would cost as much again as run()'s.
  for (const name of ['slices', 'slice']) mod.runPassesOnFunction(name, OPTIMIZE);
  return { steps: P, work };
}

/** A step the threads may split: its kernel has a rule, and it computes no size (those stay serial). */
function splittable(step: KernelStep): SliceRule | undefined {
  if (step.valueCheck) return undefined;
  const rule = sliceRule(step.kernel);
  if (!rule) return undefined;
  return Object.values(step.args()).some((a) => a.t === 'slot') ? undefined : rule;
}

/** A step's work at the symbols' bounds: its rule's estimate, else the elements it writes. */
function stepWork(step: Step, bound: (symbol: string) => number): number {
  const rule = isKernelStep(step) ? sliceRule(step.kernel) : undefined;
  let w = rule && isKernelStep(step) ? rule.work(numberInts(step.args() as Record<string, Arg>, bound)) : NaN;
  if (!Number.isFinite(w)) w = step.writes.reduce((n, b) => n + evaluate(resolve(b).bytes, bound) / 4, 0);
  return Number.isFinite(w) ? w : 0;
}

/** The rules' algebra on numbers, arguments evaluated at the bounds (addresses are unknown: NaN). */
function numberInts(args: Record<string, Arg>, bound: (s: string) => number): Ints<number> {
  return {
    arg: (name) => {
      const a = args[name];
      return a?.t === 'i32' ? evaluate(a.v, bound) : a?.t === 'f32' ? a.v : NaN;
    },
    c: (n) => n,
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => (b > 0 ? Math.floor(a / b) : 0),
    min: Math.min,
    max: Math.max,
    ge: (a, b) => (a >= b ? 1 : 0),
    select: (c, a, b) => (c !== 0 ? a : b),
  };
}

/** The rules' algebra as wasm code (i32, or i64 for work that may pass 2³¹); values are thunks. */
function wasmInts(mod: binaryen.Module, wide: boolean, arg: (name: string) => Thunk): Ints<Thunk> {
  const t = wide ? mod.i64 : mod.i32;
  const c = (n: number): Thunk => (wide ? () => mod.i64.const(BigInt(n)) : () => mod.i32.const(n));
  const truth = (v: Thunk) => (wide ? mod.i64.ne(v(), mod.i64.const(0n)) : v());
  const bool = (e: binaryen.ExpressionRef) => (wide ? mod.i64.extend_u(e) : e);
  return {
    arg,
    c,
    add: (a, b) => () => t.add(a(), b()),
    sub: (a, b) => () => t.sub(a(), b()),
    mul: (a, b) => () => t.mul(a(), b()),
    // By at least 1: both sides of a select are evaluated, and a division by zero would trap.
    div: (a, b) => () => t.div_u(a(), mod.select(t.gt_s(b(), c(1)()), b(), c(1)())),
    min: (a, b) => () => mod.select(t.lt_s(a(), b()), a(), b()),
    max: (a, b) => () => mod.select(t.gt_s(a(), b()), a(), b()),
    ge: (a, b) => () => bool(t.ge_s(a(), b())),
    select: (cond, a, b) => () => mod.select(truth(cond), a(), b()),
  };
}
