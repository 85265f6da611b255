import type { Buffer, Program } from './program.js';

/**
 * Static memory plan: every buffer gets a fixed arena offset, and buffers whose lifetimes do not
 * overlap share bytes. Lifetimes are step ranges; graph inputs live from the start, outputs to the end.
 */
export const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export function bufferBytes(b: Buffer, maxBatch: number): number {
  return align16(b.batched ? b.rowBytes * maxBatch : b.rowBytes);
}

/** Fill in each buffer's first/last step from the step list. */
export function computeLifetimes(program: Program): void {
  program.steps.forEach((step, i) => {
    for (const b of [...step.reads, ...step.writes]) {
      b.first = Math.min(b.first, i);
      b.last = Math.max(b.last, i);
    }
  });
}

/** Assign offsets (first fit, largest first among buffers born at the same step); returns arena bytes. */
export function planArena(program: Program, maxBatch: number): number {
  const used = program.buffers.filter((b) => b.first !== Infinity || b.last !== -Infinity);
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
