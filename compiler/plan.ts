import { MAX_MODEL_MEMORY } from '../runtime/meta.js';
import { CompileError } from './errors.js';
import type { Lowered } from './lowering/lower.js';
import { isKernelStep, resolve, type Buffer, type Program, type RtValue } from './program.js';
import type { SymbolInfo } from './shape/symbols.js';

/**
 * The plan pass. Every buffer gets a fixed arena offset, planned at its size's upper bound (so a call with
 * any sizes within the symbols' bounds fits), and buffers whose lifetimes do not overlap share bytes.
 * Symbols no `--dim` bounded get a default bound first: one bound shared by all of them — at most
 * MAX_ROWS for the batch, MAX_DEFAULT for the rest — the largest that keeps the arena within
 * ARENA_BUDGET.
 */
export const ARENA_BUDGET = 16 << 20;
const MAX_ROWS = 1024;
const MAX_DEFAULT = 4096;

export interface MemoryPlan {
  /** Rows one call may take: the row symbol's bound, or 1 when the model has no row symbol. */
  maxBatch: number;
  arenaBytes: number;
  tableBytes: number;
  peakLiveBytes: number;
}

export function planMemory(lowered: Lowered): MemoryPlan {
  const { program } = lowered;
  computeLifetimes(
    program,
    lowered.inputs.map((i) => i.value),
    lowered.outputs.map((o) => o.value),
  );
  chooseDefaultBounds(program, lowered.rows?.symbol);
  const arenaBytes = planArena(program);
  const tableBytes = planTables(program);
  if (!(program.dataSize + arenaBytes + tableBytes <= MAX_MODEL_MEMORY)) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const symbolic = program.symbols.all.filter((s) => s.kind === 'input');
    throw new CompileError(
      'too-large',
      `The model needs ${mib(program.dataSize)} of weights and ${mib(arenaBytes)} of working memory, more than the ${mib(MAX_MODEL_MEMORY)} of WebAssembly memory a model may plan.${symbolic.length ? ` Lower the bounds of ${symbolic.map((s) => `${s.name} (now ..${s.max})`).join(', ')} with --dim NAME=..MAX, or` : ''} Use a smaller model or smaller inputs.`,
    );
  }
  const rows = lowered.rows ? program.symbols.get(lowered.rows.symbol)!.max : 1;
  return { maxBatch: rows, arenaBytes, tableBytes, peakLiveBytes: peakLiveBytes(program) };
}

/** Give every unbounded symbol the largest shared default bound that keeps the arena in budget. */
function chooseDefaultBounds(program: Program, rowSymbol: string | undefined): void {
  const open = program.symbols.all.filter((s) => s.max === Infinity);
  if (!open.length) return;
  const cap = (s: SymbolInfo) => (s.name === rowSymbol ? MAX_ROWS : MAX_DEFAULT);
  const set = (bound: number) => open.forEach((s) => (s.max = Math.max(s.min, Math.min(bound, cap(s)), 1)));
  let [lo, hi] = [1, Math.max(...open.map(cap))];
  set(hi);
  if (planArena(program) <= ARENA_BUDGET) return;
  // The arena grows with the bound: the largest bound within budget (at least 1).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    set(mid);
    if (planArena(program) <= ARENA_BUDGET) lo = mid;
    else hi = mid - 1;
  }
  set(lo);
}

export const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Bytes a buffer takes in the plan: its size's upper bound, 16-byte aligned. */
export function bufferBytes(b: Buffer, program: Program): number {
  const bytes = program.symbols.upper(b.bytes);
  if (!Number.isFinite(bytes)) throw new Error(`internal error: buffer ${b.id} has no bound`);
  return align16(Math.max(bytes, 0));
}

/**
 * Fill in each buffer's first/last step from the step list: graph inputs live from before the first step,
 * outputs past the last. Buffers a pass merged into another count as that one.
 */
export function computeLifetimes(program: Program, inputs: readonly RtValue[], outputs: readonly RtValue[]): void {
  program.steps.forEach((step, i) => {
    for (const b of [...step.reads, ...step.writes].map(resolve)) {
      b.first = Math.min(b.first, i);
      b.last = Math.max(b.last, i);
    }
  });
  // Inputs live all along: a call may run again on the inputs it left in memory (streaming state).
  for (const v of inputs) Object.assign(resolve(v.buffer), { first: -1, last: Infinity });
  for (const v of outputs) resolve(v.buffer).last = Infinity;
  extendAcrossLoops(program);
}

/**
 * A loop body runs again after its last step: whatever is alive when the loop starts or after it ends and
 * is touched inside (loop-carried state, scan outputs filled one slice per iteration, outer values the
 * body reads) must live through the whole loop, not just between its first and last touch. Values that
 * live only inside one iteration keep their lifetimes. Inner loops first.
 */
function extendAcrossLoops(program: Program): void {
  const open: { index: number; loop: boolean }[] = [];
  const loops: [number, number][] = [];
  program.steps.forEach((step, i) => {
    if (isKernelStep(step)) return;
    const op = step.control.op;
    if (op === 'if' || op === 'loop') open.push({ index: i, loop: op === 'loop' });
    else if (op === 'end') {
      const block = open.pop();
      if (block?.loop) loops.push([block.index, i]);
    }
  });
  const buffers = program.buffers.filter((b) => !b.mergedInto);
  for (const [start, end] of loops) {
    for (const b of buffers) {
      const touched = b.first <= end && b.last >= start;
      if (touched && (b.first < start || b.last > end)) {
        b.first = Math.min(b.first, start);
        b.last = Math.max(b.last, end);
      }
    }
  }
}

/** Assign offsets (first fit, largest first among buffers born at the same step); returns arena bytes. */
export function planArena(program: Program): number {
  const used = program.buffers.filter((b) => !b.mergedInto && (b.first !== Infinity || b.last !== -Infinity));
  const sizes = new Map(used.map((b) => [b, bufferBytes(b, program)]));
  const order = [...used].sort((a, b) => a.first - b.first || sizes.get(b)! - sizes.get(a)!);
  let placed: { start: number; end: number; last: number }[] = [];
  let arena = 0;
  for (const b of order) {
    const size = sizes.get(b)!;
    // Bytes of buffers still alive when b is first written are taken (equal steps overlap: a kernel
    // must not write its output over an input it is still reading). Buffers are visited by first step,
    // so one dead now stays dead: dropping it keeps long graphs linear, not quadratic.
    placed = placed.filter((p) => p.last >= b.first);
    const live = [...placed].sort((x, y) => x.start - y.start);
    let offset = 0;
    for (const p of live) {
      if (p.start - offset >= size) break;
      offset = Math.max(offset, p.end);
    }
    b.offset = offset;
    placed.push({ start: offset, end: offset + size, last: b.last });
    arena = Math.max(arena, offset + size);
  }
  for (const b of program.buffers) if (b.mergedInto) b.offset = resolve(b).offset;
  return arena;
}

/** Run-time tables each get their own bytes (they are tiny). Returns the bytes they take. */
function planTables(program: Program): number {
  let at = 0;
  for (const t of program.tables) {
    t.offset = at;
    at += align16(t.values.length * 4);
  }
  return at;
}

/** The largest sum of buffers alive at any one step: the least any plan could use. */
export function peakLiveBytes(program: Program): number {
  // A sweep over lifetime ends (sizes enter at a buffer's first step, leave after its last), clamped to
  // the step range as the per-step count was; linear in the buffers, so long graphs stay fast.
  const steps = program.steps.length;
  const delta = new Float64Array(steps + 1);
  for (const b of program.buffers) {
    if (b.mergedInto || (b.first === Infinity && b.last === -Infinity)) continue;
    const from = Math.max(b.first, 0);
    const to = Math.min(b.last, steps - 1);
    if (from > to) continue;
    const size = bufferBytes(b, program);
    delta[from] += size;
    delta[to + 1] -= size;
  }
  let peak = 0;
  let live = 0;
  for (let i = 0; i < steps; i++) peak = Math.max(peak, (live += delta[i]));
  return peak;
}
