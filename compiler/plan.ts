import { MAX_MODEL_MEMORY } from '../runtime/meta.js';
import { CompileError } from './errors.js';
import type { LoweredModel } from './lowering/lower.js';
import { resolve, type Buffer, type Program, type RtValue } from './program.js';

/** Default working memory for the rows of one call; the row count follows from it (at most MAX_BATCH_LIMIT). */
const ARENA_BUDGET = 4 << 20;
const MAX_BATCH_LIMIT = 1024;

export interface MemoryPlan {
  /** Rows per run() call. */
  maxBatch: number;
  arenaBytes: number;
  peakLiveBytes: number;
}

/**
 * The plan pass: buffer lifetimes, the rows per call (a dynamic batch fills ARENA_BUDGET unless `maxBatch`
 * is given), and every buffer's arena offset. A plan past WebAssembly's limits is refused here, before
 * any offset could wrap.
 */
export function planMemory(lowered: LoweredModel, maxBatchOption: number | undefined): MemoryPlan {
  const { program } = lowered;
  computeLifetimes(
    program,
    lowered.inputs.map((i) => i.value),
    lowered.outputs.map((o) => o.value),
  );
  const maxBatch =
    lowered.mode !== 'dynamic'
      ? 1
      : Math.max(1, Math.floor(maxBatchOption ?? chooseMaxBatch(program, ARENA_BUDGET, MAX_BATCH_LIMIT)));
  const arenaBytes = planArena(program, maxBatch);
  if (!(program.dataSize + arenaBytes <= MAX_MODEL_MEMORY)) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    throw new CompileError(
      'too-large',
      `The model needs ${mib(program.dataSize)} of weights and ${mib(arenaBytes)} of working memory for ${maxBatch} row(s) per call, more than the ${mib(MAX_MODEL_MEMORY)} of WebAssembly memory a model may plan.${maxBatch > 1 ? ' Lower --max-batch, or use' : ' Use'} a smaller model or smaller inputs.`,
    );
  }
  return { maxBatch, arenaBytes, peakLiveBytes: peakLiveBytes(program, maxBatch) };
}

/**
 * Static memory plan: every buffer gets a fixed arena offset, and buffers whose lifetimes do not
 * overlap share bytes. Lifetimes are step ranges; graph inputs live from the start, outputs to the end.
 */
export const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export function bufferBytes(b: Buffer, maxBatch: number): number {
  return align16(b.batched ? b.rowBytes * maxBatch : b.rowBytes);
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
  for (const v of inputs) resolve(v.buffer).first = -1;
  for (const v of outputs) resolve(v.buffer).last = Infinity;
}

/** Assign offsets (first fit, largest first among buffers born at the same step); returns arena bytes. */
export function planArena(program: Program, maxBatch: number): number {
  const used = program.buffers.filter((b) => !b.mergedInto && (b.first !== Infinity || b.last !== -Infinity));
  const order = [...used].sort((a, b) => a.first - b.first || bufferBytes(b, maxBatch) - bufferBytes(a, maxBatch));
  let placed: { start: number; end: number; last: number }[] = [];
  let arena = 0;
  for (const b of order) {
    const size = bufferBytes(b, maxBatch);
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

/** The largest sum of buffers alive at any one step: the least any plan could use. */
export function peakLiveBytes(program: Program, maxBatch: number): number {
  // A sweep over lifetime ends (sizes enter at a buffer's first step, leave after its last), clamped to
  // the step range as the per-step count was; linear in the buffers, so long graphs stay fast.
  const steps = program.steps.length;
  const delta = new Float64Array(steps + 1);
  for (const b of program.buffers) {
    if (b.first === Infinity && b.last === -Infinity) continue;
    const from = Math.max(b.first, 0);
    const to = Math.min(b.last, steps - 1);
    if (from > to) continue;
    const size = bufferBytes(b, maxBatch);
    delta[from] += size;
    delta[to + 1] -= size;
  }
  let peak = 0;
  let live = 0;
  for (let i = 0; i < steps; i++) peak = Math.max(peak, (live += delta[i]));
  return peak;
}

/** Peak arena bytes per batch row, to size the batch so the arena stays within a budget. */
export function chooseMaxBatch(program: Program, budgetBytes: number, limit: number): number {
  const perRow = planArena(program, 1);
  return Math.max(1, Math.min(limit, Math.floor(budgetBytes / Math.max(perRow, 1))));
}
