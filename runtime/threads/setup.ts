/**
 * What `loadModel`'s `threads` option turns into: how many threads (never more than the cores), whether
 * they can share the model's memory (a cross-origin-isolated page), and, once the model is loaded, a
 * ThreadedModel — or the model itself where threads cannot help (`'auto'` with a model too small for them,
 * or whose calls can never be split).
 */
import { origins } from '../instantiate.js';
import type { Model } from '../model.js';
import { PART_MIN_WORK, SHARED_MIN_WORK, ThreadedModel, type PoolPlan, type ThreadsOption } from './threaded-model.js';

/** 'auto' uses the cores there are, up to this many (every worker of a row model holds its own memory). */
export const AUTO_MAX_THREADS = 4;

/** Threads a load asks for, within the cores there are (1: none). */
export function threadCount(option: ThreadsOption | undefined): number {
  if (option === undefined) return 1;
  const cores = Math.max(1, Math.floor(globalThis.navigator?.hardwareConcurrency ?? 1));
  const wanted = option === 'auto' ? AUTO_MAX_THREADS : Math.floor(Number(option));
  return Number.isFinite(wanted) ? Math.max(1, Math.min(wanted, cores)) : 1;
}

/** Whether threads can share memory here: a cross-origin-isolated page (or worker). */
export function canShareMemory(): boolean {
  return (
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true &&
    typeof SharedArrayBuffer === 'function' &&
    typeof Atomics === 'object'
  );
}

/** The loaded model with `threads` threads as `option` asked ('auto' gives the model itself where they cannot help). */
export function withThreads(
  model: Model,
  option: ThreadsOption,
  threads: number,
  always = false,
): Model | ThreadedModel {
  const origin = origins.get(model);
  if (!origin || threads < 2) return model;
  const { meta } = model;
  const work = meta.threads?.work ?? 0;
  const shared = origin.memory !== undefined && (meta.threads?.steps ?? 0) > 0 && (always || work >= SHARED_MIN_WORK);
  const auto = option === 'auto';
  // 'auto' keeps on the page's thread, as before, a model whose calls the workers could only take whole, and
  // one whose full batch is too little work for two parts.
  if (!shared && auto && (!meta.rows || work < 2 * PART_MIN_WORK)) return model;
  const plan: PoolPlan = {
    kind: shared ? 'shared' : 'instances',
    threads,
    module: origin.module,
    memory: shared ? origin.memory : undefined,
    always,
  };
  return new ThreadedModel(model, plan);
}
