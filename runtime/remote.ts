import { abortError, ModelError, type ModelErrorCode } from './errors.js';
import type { LoadOptions } from './load.js';
import { rowSize, type ModelMeta } from './meta.js';
import type { ModelInput, Outputs } from './model.js';
import { RELEASE_GRACE_MS } from './shared-loads.js';
import type { WorkerReply, WorkerRequest } from './worker.js';
import { startWorker } from './worker-url.js';

/** A model running in a module Worker: same metadata and results as `Model`, predictions async. */
export interface RemoteModel {
  readonly meta: ModelMeta;
  predict(input: ModelInput, rows?: number): Promise<Outputs>;
  /** Let the worker free this model (see `releaseModel`); using the handle again reloads it. */
  release(): void;
}

export interface WorkerLoadOptions extends LoadOptions {
  /**
   * Milliseconds one call of the model (a chunk of up to `maxBatch` rows) may run before the worker is
   * stopped: the call fails with `timeout`, and the other models go on in a fresh worker. Default 10 000;
   * 0 for no limit.
   */
  timeout?: number;
}

export const DEFAULT_TIMEOUT = 10_000;

interface Pending {
  message: WorkerRequest;
  resolve(reply: WorkerReply): void;
  progress?(loaded: number, total: number): void;
  /** For a prediction: which handle asked, and how long it may run. */
  handle?: WorkerModel;
  deadline?: number;
}

let worker: Worker | undefined;
/** Counts workers started: a handle loaded into an earlier one reloads before it predicts. */
let generation = 0;
let nextId = 1;
const pending = new Map<number, Pending>();
/** Predictions sent and not yet answered, in the order the worker runs them (one at a time). */
const queue: number[] = [];
/** When the first prediction in `queue` started running, and the timer that watches it. */
let headStarted = 0;
let watchdog: ReturnType<typeof setTimeout> | undefined;
/** Handles holding a model in the current worker; at none, the worker ends (its memories with it). */
let holds = 0;
let idle: ReturnType<typeof setTimeout> | undefined;

/** Nobody holds a model in the worker any more: end it after the grace period, unless it is used again. */
function letGo(): void {
  if (--holds > 0) return;
  clearTimeout(idle);
  idle = setTimeout(() => {
    if (holds > 0 || pending.size || !worker) return;
    // Its released models are garbage only its own collector would free; ending the worker frees them now.
    worker.terminate();
    worker = undefined;
    generation++;
  }, RELEASE_GRACE_MS);
}

/** One worker per page, started on first use from its own module URL (CSP-friendly: no blob:). */
function getWorker(): Worker {
  if (worker) return worker;
  try {
    worker = startWorker('ml-widgets');
  } catch (err) {
    throw new ModelError(
      'unsupported',
      `The ml-widgets worker could not start (${(err as Error).message}). Under a Trusted Types allow-list, allow the "ml-widgets" policy; or drop the worker attribute.`,
      { cause: err },
    );
  }
  const self = worker;
  worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
    if (self !== worker) return;
    const entry = pending.get(data.id);
    if (!entry) {
      // A load that was aborted here finished there: give its hold back.
      if (data.type === 'loaded')
        self.postMessage({ id: 0, type: 'release', model: data.model } satisfies WorkerRequest);
      return;
    }
    if (data.type === 'progress') return entry.progress?.(data.loaded, data.total);
    pending.delete(data.id);
    answered(data.id);
    entry.resolve(data);
  };
  worker.onerror = (event) => {
    // The worker script itself failed (e.g. not served): fail everything waiting, start afresh next time.
    const failure: WorkerReply = {
      id: 0,
      type: 'error',
      code: 'fetch-failed',
      message: `The ml-widgets worker could not start: ${event.message || 'its script did not load'}.`,
    };
    const waiting = [...pending.values()];
    pending.clear();
    queue.length = 0;
    arm();
    worker = undefined;
    generation++;
    holds = 0;
    waiting.forEach((entry) => entry.resolve(failure));
  };
  return worker;
}

function post(id: number, entry: Pending): void {
  clearTimeout(idle);
  pending.set(id, entry);
  if (entry.handle) {
    queue.push(id);
    if (queue.length === 1) {
      headStarted = performance.now();
      arm();
    }
  }
  getWorker().postMessage(entry.message);
}

/** A prediction was answered: the next one starts running now. */
function answered(id: number): void {
  const at = queue.indexOf(id);
  if (at < 0) return;
  queue.splice(at, 1);
  if (at === 0) {
    headStarted = performance.now();
    arm();
  }
}

/** Watch the prediction the worker is running now. */
function arm(): void {
  clearTimeout(watchdog);
  watchdog = undefined;
  const head = pending.get(queue[0]);
  if (!head?.deadline) return;
  watchdog = setTimeout(() => stuck(queue[0]), Math.max(0, headStarted + head.deadline - performance.now()));
}

/**
 * The prediction `id` ran past its deadline: the worker is stuck in it. Stop that worker, fail every call
 * of the model that hung (`timeout`, now and later), and carry everything else over to a fresh worker.
 */
function stuck(id: number): void {
  const head = pending.get(id)!;
  const culprit = head.handle!;
  worker?.terminate();
  worker = undefined;
  generation++;
  holds = 0;
  const timeout = new ModelError(
    'timeout',
    `The model at ${culprit.src} did not answer within ${head.deadline} ms, so the worker running it was stopped (a model that never returns is damaged or hostile). Other models go on in a fresh worker.`,
  );
  culprit.kill(timeout);
  const waiting = [...pending];
  pending.clear();
  queue.length = 0;
  arm();
  for (const [rid, entry] of waiting) {
    if (entry.handle?.dead) {
      entry.resolve({ id: rid, type: 'error', code: 'timeout', message: entry.handle.dead.message });
    } else if (entry.handle) {
      // Reload that model in the new worker, then ask again.
      entry.handle.ensure().then(
        () => post(rid, { ...entry, message: { ...entry.message, model: entry.handle!.number } as WorkerRequest }),
        (err: ModelError) => entry.resolve({ id: rid, type: 'error', code: err.code, message: err.message }),
      );
    } else if (entry.message.type === 'load') post(rid, entry);
  }
}

type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;

function request(
  message: Unsent<WorkerRequest>,
  options: { progress?: Pending['progress']; signal?: AbortSignal; handle?: WorkerModel; deadline?: number } = {},
): Promise<WorkerReply> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const { signal } = options;
    signal?.addEventListener(
      'abort',
      () => {
        pending.delete(id);
        answered(id);
        worker?.postMessage({ id, type: 'abort' } satisfies WorkerRequest);
        reject(abortError(signal));
      },
      { once: true },
    );
    try {
      post(id, { ...options, message: { ...message, id } as WorkerRequest, resolve });
    } catch (err) {
      // postMessage could not copy the input (a function, a DOM node, …).
      pending.delete(id);
      answered(id);
      if (err instanceof ModelError) reject(err);
      else reject(new ModelError('bad-input', `The input cannot be sent to the worker: ${(err as Error).message}`));
    }
  });
}

function fail(reply: WorkerReply): never {
  if (reply.type !== 'error') throw new ModelError('not-a-model', 'Unexpected reply from the ml-widgets worker.');
  throw new ModelError(reply.code as ModelErrorCode, reply.message);
}

/** Handles nobody released, collected: give their holds back. */
const unreleased =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ number: number; generation: number }>((held) => {
        if (held.generation !== generation || !worker) return;
        worker.postMessage({ id: 0, type: 'release', model: held.number } satisfies WorkerRequest);
        letGo();
      })
    : undefined;

/** Handles by the number their model has in worker `byNumberGeneration` (to fail them all if it hangs). */
let byNumber = new Map<number, Set<WorkerModel>>();
let byNumberGeneration = 0;

class WorkerModel implements RemoteModel {
  readonly meta: ModelMeta;
  readonly src: string;
  private readonly options: WorkerLoadOptions;
  /** The model's number in worker `generation`; undefined once released. */
  number?: number;
  private generation = -1;
  private reloading?: Promise<void>;
  dead?: ModelError;

  constructor(src: string, options: WorkerLoadOptions, number: number, meta: ModelMeta) {
    this.src = src;
    this.options = options;
    this.meta = meta;
    this.hold(number);
  }

  async predict(input: ModelInput, rows?: number): Promise<Outputs> {
    if (this.dead) throw this.dead;
    await this.ensure();
    const limit = this.options.timeout ?? DEFAULT_TIMEOUT;
    const chunks = Math.max(1, Math.ceil(rowsOf(input, rows, this.meta) / this.meta.maxBatch) || 1);
    const reply = await request(
      { type: 'predict', model: this.number!, input, rows },
      { handle: this, deadline: limit > 0 ? limit * chunks : 0 },
    );
    if (reply.type !== 'result') fail(reply);
    return reply.outputs;
  }

  release(): void {
    if (this.number === undefined) return;
    unreleased?.unregister(this);
    byNumber.get(this.number)?.delete(this);
    if (this.generation === generation && worker) {
      worker.postMessage({ id: 0, type: 'release', model: this.number } satisfies WorkerRequest);
      letGo();
    }
    this.number = undefined;
  }

  /** Loaded in the current worker (again, after a release or a restart). */
  ensure(): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.number !== undefined && this.generation === generation) return Promise.resolve();
    this.reloading ??= load(this.src, this.options).then(
      ({ number }) => {
        this.reloading = undefined;
        this.release();
        this.hold(number);
      },
      (err) => {
        this.reloading = undefined;
        throw err;
      },
    );
    return this.reloading;
  }

  /** Its model hung the worker: this handle and every other of that model fail from now on. */
  kill(error: ModelError): void {
    for (const handle of byNumber.get(this.number!) ?? [this]) handle.dead = error;
    this.dead = error;
  }

  private hold(number: number): void {
    if (byNumberGeneration !== generation) {
      byNumber = new Map();
      byNumberGeneration = generation;
    }
    this.number = number;
    this.generation = generation;
    holds++;
    let set = byNumber.get(number);
    if (!set) byNumber.set(number, (set = new Set()));
    set.add(this);
    unreleased?.register(this, { number, generation }, this);
  }
}

/** Rows in a prediction's input (to give each chunk of `maxBatch` rows its own deadline, to size a call). */
export function rowsOf(input: ModelInput, rows: number | undefined, meta: ModelMeta): number {
  if (rows !== undefined) return rows;
  // The worker's model says what is wrong with a non-object or a model without inputs.
  if (input === null || typeof input !== 'object' || meta.inputs.length === 0) return 1;
  const first = (
    ArrayBuffer.isView(input) || Array.isArray(input) ? input : (input as Record<string, unknown>)[meta.inputs[0].name]
  ) as ArrayLike<unknown> | undefined;
  if (!first) return 1;
  if (Array.isArray(first) && typeof first[0] === 'object') return first.length;
  return first.length / rowSize(meta.inputs[0]);
}

async function load(src: string, options: WorkerLoadOptions): Promise<{ number: number; meta: ModelMeta }> {
  const { signal, onProgress, integrity, crossOrigin, cache } = options;
  const reply = await request(
    { type: 'load', src, options: { integrity, crossOrigin, cache } },
    { progress: (loaded, total) => onProgress?.({ loaded, total }), signal },
  );
  if (reply.type !== 'loaded') fail(reply);
  return { number: reply.model, meta: reply.meta };
}

/** Load a model into the page's ml-widgets Worker (see `loadModel` for the options, and `timeout`). */
export async function loadModelInWorker(src: string | URL, options: WorkerLoadOptions = {}): Promise<RemoteModel> {
  if (options.signal?.aborted) throw abortError(options.signal);
  const base = typeof document !== 'undefined' ? document.baseURI : undefined;
  const url = new URL(src, base).href;
  const { number, meta } = await load(url, options);
  // Later reloads (after a release or a restart) are silent and not abortable by the first caller.
  return new WorkerModel(url, { ...options, signal: undefined, onProgress: undefined }, number, meta);
}
