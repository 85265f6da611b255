/**
 * A model with threads (`loadModel(src, { threads })`): the same surface as Model, where a call big enough
 * runs on the model's worker threads and returns a Promise, and any other call runs on the page's thread
 * exactly as Model's does and returns its outputs. Two ways to use several cores:
 *  - shared memory (cross-origin-isolated pages): the threads share the model's memory; a leader runs each
 *    call, splitting its big steps into slices with the helpers (schedule.ts). Memory ×1.
 *  - workers (every other page): each worker has its own instance of the one compiled module; a batch is
 *    cut into runs of rows, one per worker, and joined in order; a model whose graph mixes rows (one
 *    tensor per call) sends each call whole to the least busy worker. Memory ×(workers + 1).
 * A pool that fails (a worker does not start, or ends mid-call) fails the calls in flight with
 * `thread-failed`, and the model runs on the page's thread from then on.
 */
import type { ModelError } from '../errors.js';
import type { ModelMeta } from '../meta.js';
import type { Model, ModelInput, ModelStream, Outputs, RunOptions } from '../model.js';
import { rowsOf } from '../remote.js';
import { RELEASE_GRACE_MS } from '../shared-loads.js';
import type { Tensor, TensorFeed } from '../tensors.js';
import { ThreadPool } from './pool.js';
import { buffersOf, feedRows, join, predictPart, ranges, runPart } from './split.js';

/** How many threads: a number, or 'auto' (the cores there are, up to 4). */
export type ThreadsOption = number | 'auto';

/** What `model.threads` reports. */
export interface ThreadInfo {
  /** 'shared-memory' or 'workers' (see above); 'none' once the threads failed (one thread from then on). */
  mode: 'shared-memory' | 'workers' | 'none';
  /** Threads a call can use. */
  threads: number;
  /** Bytes of memory the model's instances take (its `meta.memoryBytes` once, or once per instance). */
  memoryBytes: number;
}

/**
 * Work (multiply-adds, compiler/emit/threads.ts) a call needs before threads pay for themselves: a call
 * on shared memory costs a message to the leader and back (~0.1 ms); a part of a batch on a worker costs
 * copying its rows there and its outputs back.
 */
export const SHARED_MIN_WORK = 2_000_000;
export const PART_MIN_WORK = 8_000_000;

/** The pool's parameters, for starting it (again, after a release). */
export interface PoolPlan {
  kind: 'shared' | 'instances';
  threads: number;
  module: WebAssembly.Module;
  memory?: WebAssembly.Memory;
  /** Split every call and every step that can be split, however small (tests). */
  always?: boolean;
}

const pools =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ pool?: ThreadPool }>((box) => box.pool?.close())
    : undefined;

type Method = 'predict' | 'run';

export class ThreadedModel {
  readonly meta: ModelMeta;
  readonly maxBatch: number;
  /** The pool, in a box the finalizer can reach without holding this model. */
  private readonly box: { pool?: ThreadPool } = {};
  private failed = false;
  private holds = 0;
  private releaseTimer?: ReturnType<typeof setTimeout>;
  /** Shared memory: calls in flight there, and the promise they all settle by. */
  private inFlight = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly main: Model,
    private readonly plan: PoolPlan,
  ) {
    this.meta = main.meta;
    this.maxBatch = main.maxBatch;
    pools?.register(this, this.box);
  }

  get threads(): ThreadInfo {
    const { kind, threads } = this.plan;
    if (this.failed) return { mode: 'none', threads: 1, memoryBytes: this.meta.memoryBytes };
    const workers = kind === 'instances';
    return {
      mode: workers ? 'workers' : 'shared-memory',
      threads,
      memoryBytes: this.meta.memoryBytes * (workers ? threads + 1 : 1),
    };
  }

  /** As Model.predict; a Promise when the call runs on the threads. */
  predict(input: ModelInput, rows?: number): Outputs | Promise<Outputs> {
    const n = rowsOf(input, rows, this.meta);
    const parts = this.partsFor(n);
    if (parts === 0) return this.exclusive(() => this.main.predict(input, rows));
    if (parts === 1) return this.whole('predict', [input, rows]) as Promise<Outputs>;
    // Flattened (and checked) here, so the parts are plain float rows.
    const flat = this.main.flatRows(input, rows);
    return this.spread('predict', n, parts, (a, b) => predictPart(this.meta, flat, a, b)) as Promise<Outputs>;
  }

  /** As Model.run; a Promise when the call runs on the threads. */
  run(
    feeds: Record<string, TensorFeed>,
    options: RunOptions = {},
  ): Record<string, Tensor> | Promise<Record<string, Tensor>> {
    const n = feedRows(this.meta, feeds);
    const parts = this.partsFor(n || 1);
    if (parts === 0) return this.exclusive(() => this.main.run(feeds, options));
    const into = options.outputs;
    if (parts === 1)
      return (this.whole('run', [feeds]) as Promise<Record<string, Tensor>>).then((o) => (into ? join([o], into) : o));
    return this.spread('run', n, parts, (a, b) => runPart(this.meta, feeds, a, b), into) as Promise<
      Record<string, Tensor>
    >;
  }

  /** As Model.stream: the state stays in the page's instance, so its calls run there, one after another. */
  stream(pairs: Record<string, string>): Pick<ModelStream, 'run'> {
    const inner = this.main.stream(pairs);
    return { run: (feeds, options) => this.exclusive(() => inner.run(feeds, options)) as Record<string, Tensor> };
  }

  /** @internal One more holder (each load that resolves to this model). */
  hold(): void {
    this.holds++;
    clearTimeout(this.releaseTimer);
  }

  /** Give a hold back; with none left the threads end after the grace period (a later big call restarts them). */
  release(): void {
    if (--this.holds > 0) return;
    this.holds = 0;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      if (this.holds > 0) return;
      this.box.pool?.close();
      this.box.pool = undefined;
    }, RELEASE_GRACE_MS);
    (this.releaseTimer as { unref?: () => void }).unref?.();
  }

  /**
   * 0: the page's thread runs the call; 1: the pool runs it whole (the shared pool's leader, or one worker);
   * more: the batch is cut into that many parts, one per worker.
   */
  private partsFor(rows: number): number {
    if (this.failed) return 0;
    const { kind, threads, always } = this.plan;
    const work = this.work(rows);
    if (kind === 'shared') return (this.meta.threads?.steps ?? 0) > 0 && (always || work >= SHARED_MIN_WORK) ? 1 : 0;
    // A model that mixes rows: whole calls on the workers, so that calls at once run at once.
    if (!this.meta.rows) return always || work >= PART_MIN_WORK ? 1 : 0;
    const parts = Math.min(threads, rows, always ? threads : Math.floor(work / PART_MIN_WORK));
    return parts >= 2 ? parts : 0;
  }

  /** Estimated work of a call of `rows` rows: the model's work at its bounds, per row for a row model. */
  private work(rows: number): number {
    const w = this.meta.threads?.work ?? 0;
    return this.meta.rows ? (w / this.maxBatch) * Math.max(1, rows) : w;
  }

  /** Run `fn` on the page's thread once nothing runs on the shared memory. */
  private exclusive<T>(fn: () => T): T | Promise<T> {
    if (this.plan.kind !== 'shared' || this.inFlight === 0) return fn();
    return this.track(this.tail.then(fn));
  }

  /** Shared memory: what comes next waits for `p`. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    const done = () => void this.inFlight--;
    const settled = p.then(done, done);
    this.tail = this.tail.then(() => settled);
    return p;
  }

  /** The whole call on the pool: the shared pool's leader (after what runs there), or the idlest worker. */
  private whole(method: Method, args: unknown[]): Promise<unknown> {
    const start = () => {
      const pool = this.pool();
      return pool.ready.then(() => pool.call(idlest(pool.load), method, args));
    };
    if (this.plan.kind !== 'shared') return start().catch((e) => this.failure(e));
    return this.track((this.inFlight > 0 ? this.tail.then(start) : start()).catch((e) => this.failure(e)));
  }

  /** A batch cut into `parts` runs of rows over the workers, joined in order. */
  private spread(
    method: Method,
    rows: number,
    parts: number,
    part: (start: number, end: number) => unknown[],
    into?: RunOptions['outputs'],
  ): Promise<Outputs | Record<string, Tensor>> {
    const pool = this.pool();
    const calls = ranges(rows, parts).map(([a, b]) => part(a, b));
    return pool.ready
      .then(() => Promise.all(calls.map((args, j) => pool.call(j % pool.size, method, args, transferOf(args)))))
      .then((outs) => join(outs as Outputs[], into))
      .catch((e) => this.failure(e));
  }

  /** The pool, started on first use (and again after a release). */
  private pool(): ThreadPool {
    this.box.pool ??= new ThreadPool({ ...this.plan, meta: this.meta });
    return this.box.pool;
  }

  /** A call failed: if the threads did, the model goes on with one thread (once they have all ended). */
  private failure(error: unknown): never {
    if ((error as ModelError)?.code === 'thread-failed' && !this.failed) {
      this.failed = true;
      const pool = this.box.pool;
      this.box.pool = undefined;
      pool?.close();
      if (pool && this.plan.kind === 'shared') void this.track(pool.closed);
    }
    throw error;
  }
}

/** The worker with the fewest calls waiting. */
function idlest(load: number[]): number {
  let best = 0;
  for (let i = 1; i < load.length; i++) if (load[i] < load[best]) best = i;
  return best;
}

/** The buffers of a part's typed arrays (copies made for it): transferred, not cloned again. */
function transferOf(args: unknown[]): ArrayBuffer[] {
  const [input] = args;
  if (ArrayBuffer.isView(input)) return buffersOf([input]);
  const values = Object.values(input as Record<string, unknown>).map((v) =>
    v !== null && typeof v === 'object' && 'data' in v ? (v as { data: unknown }).data : v,
  );
  return buffersOf(values);
}
