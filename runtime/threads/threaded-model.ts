/**
 * A model with threads (`loadModel(src, { threads })`): the same surface as Model, where a call big enough
 * uses the model's worker threads beside the page's own, and any other call runs on the page's thread
 * exactly as Model's does. Two ways to use several cores:
 *  - shared memory (cross-origin-isolated pages): the threads share the model's memory; the page's thread
 *    leads each call, splitting its big steps into slices that it and the helpers take (schedule.ts). The
 *    call stays synchronous — no message, no copy — and memory is ×1.
 *  - workers (every other page): each worker has its own instance of the one compiled module; a batch is
 *    cut into runs of rows, the page's thread running the first and each worker one more, and joined in
 *    order (a Promise); the page's share follows how fast each side turned out to be. A model whose graph
 *    mixes rows (one tensor per call) sends each call whole to an idle worker, or runs it on the page
 *    when none is. Memory ×threads.
 * A pool that fails (a worker does not start, or ends mid-call) fails the call that needed it with
 * `thread-failed`, and the model runs on the page's thread alone from then on.
 */
import type { ModelError } from '../errors.js';
import { origins } from '../instantiate.js';
import type { ModelMeta } from '../meta.js';
import { Model, type ModelInput, type ModelStream, type Outputs, type RunOptions } from '../model.js';
import { rowsOf } from '../remote.js';
import { RELEASE_GRACE_MS } from '../shared-loads.js';
import type { Tensor, TensorFeed } from '../tensors.js';
import { ThreadPool } from './pool.js';
import { threadedRun, type SliceExports } from './schedule.js';
import { buffersOf, feedRows, join, nextShare, predictPart, ranges, runPart } from './split.js';

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
 * Work (multiply-adds, compiler/emit/threads.ts) a call needs before threads pay for themselves: on shared
 * memory the helpers' waking and spinning (they spin about a millisecond after each step, a core that the
 * page's other work does not get); a part of a batch on a worker costs copying its rows there and its
 * outputs back.
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
  /** Shared memory: the page's model on the same instance, whose calls lead the helpers (schedule.ts). */
  private readonly leader?: Model;
  private failed = false;
  /** Workers: the share of a split batch's rows the page's thread takes (split.ts nextShare). */
  private pageShare?: number;
  private holds = 0;
  private releaseTimer?: ReturnType<typeof setTimeout>;
  /** Shared memory after a failure, until every helper has ended (none may still write): calls wait for it. */
  private settling?: Promise<void>;

  constructor(
    private readonly main: Model,
    private readonly plan: PoolPlan,
  ) {
    this.meta = main.meta;
    this.maxBatch = main.maxBatch;
    pools?.register(this, this.box);
    const origin = origins.get(main);
    if (plan.kind === 'shared' && origin) {
      const slices = origin.exports as unknown as SliceExports;
      const steps = this.meta.threads?.steps ?? 0;
      const sliceWork = plan.always ? 1 : undefined;
      this.leader = new Model(this.meta, origin.exports, () =>
        threadedRun(slices, this.pool().control!, plan.threads, steps, sliceWork),
      );
      // Started now: a worker only starts while the page's thread gives the event loop a turn, which a
      // page calling predict() in a loop may never do.
      this.pool();
    }
  }

  get threads(): ThreadInfo {
    const { kind, threads } = this.plan;
    if (this.failed || this.box.pool?.failure) return { mode: 'none', threads: 1, memoryBytes: this.meta.memoryBytes };
    const workers = kind === 'instances';
    return {
      mode: workers ? 'workers' : 'shared-memory',
      threads,
      memoryBytes: this.meta.memoryBytes * (workers ? threads : 1),
    };
  }

  /**
   * As Model.predict; a Promise when the call's rows run on workers, when it is the first on shared memory
   * (it waits for the helpers to start), or when it waits for failed helpers to end.
   */
  predict(input: ModelInput, rows?: number): Outputs | Promise<Outputs> {
    const n = rowsOf(input, rows, this.meta);
    const parts = this.partsFor(n);
    if (parts === 0) return this.onPage(() => this.main.predict(input, rows));
    if (this.leader) return this.led(() => this.leader!.predict(input, rows));
    if (parts === 1) return this.whole('predict', [input, rows], () => this.main.predict(input, rows));
    // Flattened (and checked) here, so the parts are plain float rows.
    const flat = this.main.flatRows(input, rows);
    return this.spread(
      n,
      parts,
      (a, b) => ['predict', predictPart(this.meta, flat, a, b, this.pool().spare)],
      (a, b) => {
        const [part, count] = predictPart(this.meta, flat, a, b, 'view');
        return this.main.predict(part as ModelInput, count as number);
      },
    ) as Promise<Outputs>;
  }

  /** As Model.run; a Promise in the same cases as predict(). */
  run(
    feeds: Record<string, TensorFeed>,
    options: RunOptions = {},
  ): Record<string, Tensor> | Promise<Record<string, Tensor>> {
    const n = feedRows(this.meta, feeds);
    const parts = this.partsFor(n || 1);
    if (parts === 0) return this.onPage(() => this.main.run(feeds, options));
    if (this.leader) return this.led(() => this.leader!.run(feeds, options));
    const into = options.outputs;
    if (parts === 1) {
      const out = this.whole('run', [feeds], () => this.main.run(feeds, options));
      return out instanceof Promise ? out.then((o) => (into ? join([o], into) : o)) : out;
    }
    return this.spread(
      n,
      parts,
      (a, b) => ['run', runPart(this.meta, feeds, a, b, this.pool().spare)],
      (a, b) => this.main.run(runPart(this.meta, feeds, a, b, 'view')[0] as Record<string, TensorFeed>),
      into,
    );
  }

  /** As Model.stream: the state stays in the page's instance, so its calls run there, one after another. */
  stream(pairs: Record<string, string>): Pick<ModelStream, 'run'> {
    const inner = this.main.stream(pairs);
    return { run: (feeds, options) => this.onPage(() => inner.run(feeds, options)) as Record<string, Tensor> };
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
   * 0: the page's thread runs the call alone; 1: the call runs whole with threads (led by the page on shared
   * memory, or on one worker); more: the batch is cut into that many parts, the page's and one per worker.
   */
  private partsFor(rows: number): number {
    if (this.failed) return 0;
    if (this.box.pool?.failure) {
      this.fallBack(this.box.pool.failure);
      return 0;
    }
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

  /** Run `fn` on the page's thread: at once, or once failed helpers have all ended. */
  private onPage<T>(fn: () => T): T | Promise<T> {
    return this.settling ? this.settling.then(fn) : fn();
  }

  /**
   * A call the page's thread leads on shared memory: at once once the helpers have started (before, the
   * call waits for them: a helper instantiating the module writes its data while the call would read it);
   * a helper that died mid-slice fails it.
   */
  private led<T>(fn: () => T): T | Promise<T> {
    const pool = this.pool();
    if (!pool.started) return pool.ready.then(() => this.led(fn)).catch((e) => this.failure(e));
    try {
      return fn();
    } catch (err) {
      this.failure(err);
    }
  }

  /**
   * A whole call on the idlest worker, or on the page when every worker is busy (so that two calls at once
   * still run at once).
   */
  private whole<T>(method: Method, args: unknown[], onPage: () => T): T | Promise<T> {
    const pool = this.pool();
    const i = idlest(pool.load);
    if (pool.started && pool.load[i] > 0) return onPage();
    return pool.ready.then(() => pool.call(i, method, args) as Promise<T>).catch((e) => this.failure(e));
  }

  /**
   * A batch cut into `parts` runs of rows: the first on the page's thread (on views of the caller's rows, no
   * copy), the rest on the workers (copies, transferred), joined in order.
   */
  private spread(
    rows: number,
    parts: number,
    part: (start: number, end: number) => [Method, unknown[]],
    pagePart: (start: number, end: number) => Outputs | Record<string, Tensor>,
    into?: RunOptions['outputs'],
  ): Promise<Outputs | Record<string, Tensor>> {
    const pool = this.pool();
    const workers = parts - 1;
    const [first, ...rest] = ranges(rows, parts, this.pageShare ?? 1 / parts);
    const start = performance.now();
    const startAt = performance.timeOrigin + start;
    const send = () =>
      Promise.all(
        rest.map(([a, b], j) => {
          const [method, args] = part(a, b);
          return pool.call(j % pool.size, method, args, transferOf(args));
        }),
      );
    // Workers that have started get their parts before the page starts on its own.
    const sent = pool.started ? send() : pool.ready.then(send);
    sent.catch(() => undefined);
    let mine: Outputs | Record<string, Tensor>;
    try {
      mine = pagePart(first[0], first[1]);
    } catch (err) {
      return Promise.reject(err);
    }
    const pageMs = performance.now() - start;
    return sent
      .then((outs) => {
        const share = this.pageShare ?? 1 / parts;
        const workerRows = (rows - first[1]) / workers;
        const workerMs = Math.max(...rest.map((_, j) => pool.doneAt[j % pool.size])) - startAt;
        this.pageShare = nextShare(share, first[1], pageMs, workerRows, workers, workerMs);
        return join([mine, ...(outs as Outputs[])], into);
      })
      .catch((e) => this.failure(e));
  }

  /** The pool, started on first use (and again after a release). */
  private pool(): ThreadPool {
    this.box.pool ??= new ThreadPool({ ...this.plan, meta: this.meta });
    return this.box.pool;
  }

  /** A call failed: if the threads did, the model goes on with one thread. */
  private failure(error: unknown): never {
    this.fallBack(error);
    throw error;
  }

  /** After `thread-failed`: one thread from now on (on shared memory, once every helper has ended). */
  private fallBack(error: unknown): void {
    if ((error as ModelError)?.code !== 'thread-failed' || this.failed) return;
    this.failed = true;
    const pool = this.box.pool;
    this.box.pool = undefined;
    pool?.close(error as ModelError);
    if (pool && this.plan.kind === 'shared') this.settling = pool.closed.then(() => void (this.settling = undefined));
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
