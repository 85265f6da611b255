/**
 * How the threads of a shared-memory pool run one call of a model together (docs/threads.md): the leader
 * — the caller's own thread, the page's as a rule — runs the model's phases in order
 * (compiler/emit/threads.ts); at each step worth splitting it publishes a job — the step and its number of
 * slices — in a control block of i32 words, takes slices itself, and waits until every slice is done.
 * Helpers (workers) wait for jobs and take slices while any are left. As in pthreadpool: the caller works
 * too, slices are claimed dynamically (a late or absent helper leaves its share to the others, so a call
 * never waits for a helper to start), and threads spin briefly before they sleep (Atomics.wait), since
 * the next step usually comes within microseconds. The leader does not sleep (a page's thread may not): it
 * spins until the step is done, and gives up (`thread-failed`) when a helper holds a slice for STALL_MS
 * without finishing it — a worker that died mid-slice.
 *
 * A slice is claimed by compare-and-swap on NEXT, which holds the job's tag beside the next slice index,
 * so a helper still reading an old job can never take a slice of a newer one: NEXT is closed under the
 * new tag before the new job's step and slice count are written.
 */
import { ModelError } from '../errors.js';

/** Word indices in the control block (an Int32Array over a SharedArrayBuffer). */
export const CONTROL = {
  /** Job counter: the leader adds 1 to publish a job; helpers wait on it. */
  JOB: 0,
  /** The current job's parallel step and its slice count. */
  STEP: 1,
  TILES: 2,
  /** (job tag << 16) | next slice to claim. */
  NEXT: 3,
  /** Slices of the current job finished (or skipped after a failure). */
  DONE: 4,
  /** Helpers asleep on JOB (the leader only notifies when there are some). */
  SLEEPERS: 5,
  /** Set to end the helpers. */
  EXIT: 6,
  /** Set by a helper whose slice threw (a trap): the leader fails the call. */
  FAULT: 7,
} as const;
export const CONTROL_WORDS = 8;

/** The exports a pool runs (compiler/emit/threads.ts). */
export interface SliceExports {
  phase(p: number): number;
  slices(p: number, most: number, work: number): number;
  slice(p: number, t: number, k: number): void;
}

/**
 * Work (multiply-adds or their equivalent) a slice should have: about 2 µs on one core, so a step is split
 * only when it is at least twice that, and a barrier (under a microsecond while the helpers spin) pays.
 */
export const SLICE_WORK = 1 << 15;
/** Slices per thread: a thread that is late (a busy machine) leaves the rest of its share to the others. */
export const SLICES_PER_THREAD = 4;

/** How long a thread spins for the next job or the last slice before it sleeps. */
const SPIN_MS = 1;
/** How long the leader waits for a helper's slice with no slice finishing before it counts the helper dead. */
export const STALL_MS = 3000;
const TAG_MASK = 0x7fff;
/** NEXT's slice index while a job is being published: above any slice count, so nothing can be claimed. */
const CLOSED = 0xffff;

/** Spin until `ready()` or about SPIN_MS have passed; true when ready. */
function spin(ready: () => boolean): boolean {
  const start = performance.now();
  for (let i = 1; ; i++) {
    if (ready()) return true;
    if ((i & 255) === 0 && performance.now() - start > SPIN_MS) return false;
  }
}

/** The next slice of the job tagged `tag` with `k` slices, or −1 when there is none left. */
function claim(ctl: Int32Array, tag: number, k: number): number {
  for (;;) {
    const cur = Atomics.load(ctl, CONTROL.NEXT);
    const t = cur & 0xffff;
    if (cur >>> 16 !== tag || t >= k) return -1;
    if (Atomics.compareExchange(ctl, CONTROL.NEXT, cur, cur + 1) === cur) return t;
  }
}

/**
 * The leader's run(): the model's phases in order, each parallel step split over `threads` threads
 * (helpers running `helperLoop` on the same control block and memory). `sliceWork` 1 splits every step
 * into as many slices as it has units (tests). Returns run()'s status; a slice
 * that traps (here or in a helper) throws after every slice of its step has finished.
 */
export function threadedRun(
  ex: SliceExports,
  ctl: Int32Array,
  threads: number,
  steps: number,
  sliceWork = SLICE_WORK,
  stallMs = STALL_MS,
): number {
  for (let p = 0; p < steps; p++) {
    const status = ex.phase(p);
    if (status !== 0) return status;
    const k = threads > 1 ? ex.slices(p, threads * SLICES_PER_THREAD, sliceWork) : 1;
    if (k <= 1) ex.slice(p, 0, 1);
    else runJob(ex, ctl, p, k, stallMs);
  }
  return ex.phase(steps);
}

function runJob(ex: SliceExports, ctl: Int32Array, p: number, k: number, stallMs: number): void {
  const job = (Atomics.load(ctl, CONTROL.JOB) + 1) | 0;
  const tag = job & TAG_MASK;
  Atomics.store(ctl, CONTROL.NEXT, (tag << 16) | CLOSED);
  Atomics.store(ctl, CONTROL.STEP, p);
  Atomics.store(ctl, CONTROL.TILES, k);
  Atomics.store(ctl, CONTROL.DONE, 0);
  Atomics.store(ctl, CONTROL.NEXT, tag << 16);
  Atomics.store(ctl, CONTROL.JOB, job);
  if (Atomics.load(ctl, CONTROL.SLEEPERS) > 0) Atomics.notify(ctl, CONTROL.JOB);
  let error: unknown;
  for (let t = claim(ctl, tag, k); t >= 0; t = claim(ctl, tag, k)) {
    // After a failure the rest is only counted, so the step still ends.
    if (error === undefined) {
      try {
        ex.slice(p, t, k);
      } catch (err) {
        error = err;
      }
    }
    Atomics.add(ctl, CONTROL.DONE, 1);
  }
  if (Atomics.load(ctl, CONTROL.DONE) < k) awaitSlices(ctl, p, k, stallMs);
  if (error !== undefined) throw error;
  if (Atomics.exchange(ctl, CONTROL.FAULT, 0) !== 0)
    throw new WebAssembly.RuntimeError('a slice of the model failed on another thread');
}

/**
 * Spin until the helpers have finished the slices they took (the leader is the page's thread, which may
 * not sleep; the wait is the length of one slice). A helper that finishes nothing for `stallMs` has died
 * holding a slice.
 */
function awaitSlices(ctl: Int32Array, p: number, k: number, stallMs: number): void {
  let last = -1;
  let since = 0;
  for (let i = 0; ; i++) {
    const d = Atomics.load(ctl, CONTROL.DONE);
    if (d >= k) return;
    if ((i & 1023) !== 0) continue;
    const now = performance.now();
    if (d !== last) [last, since] = [d, now];
    else if (now - since > stallMs)
      throw new ModelError(
        'thread-failed',
        `The model's threads stopped: a worker held a slice of step ${p} for ${stallMs / 1000} s. The call failed; the model runs on one thread from now on.`,
      );
  }
}

/** A helper thread: take slices of each job until EXIT is set. */
export function helperLoop(ex: SliceExports, ctl: Int32Array): void {
  let seen = Atomics.load(ctl, CONTROL.JOB);
  for (;;) {
    if (!spin(() => Atomics.load(ctl, CONTROL.JOB) !== seen || Atomics.load(ctl, CONTROL.EXIT) !== 0)) {
      Atomics.add(ctl, CONTROL.SLEEPERS, 1);
      // Checked again after counting itself a sleeper: the leader notifies only when it sees one.
      while (Atomics.load(ctl, CONTROL.JOB) === seen && Atomics.load(ctl, CONTROL.EXIT) === 0)
        Atomics.wait(ctl, CONTROL.JOB, seen);
      Atomics.sub(ctl, CONTROL.SLEEPERS, 1);
    }
    if (Atomics.load(ctl, CONTROL.EXIT) !== 0) return;
    const job = Atomics.load(ctl, CONTROL.JOB);
    seen = job;
    const p = Atomics.load(ctl, CONTROL.STEP);
    const k = Atomics.load(ctl, CONTROL.TILES);
    const tag = job & TAG_MASK;
    for (let t = claim(ctl, tag, k); t >= 0; t = claim(ctl, tag, k)) {
      try {
        ex.slice(p, t, k);
      } catch {
        Atomics.store(ctl, CONTROL.FAULT, 1);
      }
      if (Atomics.add(ctl, CONTROL.DONE, 1) + 1 === k) Atomics.notify(ctl, CONTROL.DONE);
    }
  }
}

/** Tell the helpers to end (they leave their loop at once, or after the slice they are in). */
export function endHelpers(ctl: Int32Array): void {
  Atomics.store(ctl, CONTROL.EXIT, 1);
  Atomics.notify(ctl, CONTROL.JOB);
}
