/**
 * One fetch, compile and instance per URL, shared by every caller, and released when nobody uses it.
 *
 * Every WebAssembly memory reserves address space (Chromium refuses a new one after about 124 are alive in
 * a page), so the cache must never be what keeps a model alive: a loaded model is held only weakly, shared
 * while anyone holds it. After its load, and after each `releaseModel`, it is also held strongly for a
 * short grace period (at most IDLE_LIMIT models at once), so a re-render or a quick switch back to the same
 * URL reuses the instance instead of fetching again. After that only the callers' own references keep it,
 * and the engine collects it once they drop them (it does so on its own when an allocation needs the room).
 */
import { abortError } from './errors.js';
import type { LoadProgress } from './load.js';
import type { Model } from './model.js';
import type { RemoteModel } from './remote.js';
import type { ThreadedModel } from './threads/threaded-model.js';

/** Milliseconds a model is kept after its load and after its last release. */
export const RELEASE_GRACE_MS = 2000;
/** Models kept through their grace period at most; the one released longest ago goes first. */
export const IDLE_LIMIT = 8;

/** What the cache holds: a Model, or a ThreadedModel (runtime/threads/). */
type Cached = object;

interface SharedLoad {
  promise: Promise<Cached>;
  progress: Set<(p: LoadProgress) => void>;
  waiters: number;
  controller: AbortController;
}

/** Loads in progress, by key (URL and fetch policy). */
const loads = new Map<string, SharedLoad>();
/** Loaded models, by key: shared while anyone holds them. */
const loaded = new Map<string, WeakRef<Cached>>();
/** Models in their grace period, oldest release first. */
const idle = new Map<Cached, ReturnType<typeof setTimeout>>();
const collected =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<string>((key) => {
        if (loaded.get(key)?.deref() === undefined) loaded.delete(key);
      })
    : undefined;

/**
 * The model under `key`: the one loaded and still alive, the load in progress (joined), or a new load
 * started with `start`. A caller's abort leaves a shared download running for the others; the last
 * waiter's abort stops it.
 */
export function sharedLoad<M extends Cached = Model>(
  key: string,
  start: (signal: AbortSignal, onProgress: (p: LoadProgress) => void) => Promise<M>,
  signal: AbortSignal | undefined,
  onProgress: ((p: LoadProgress) => void) | undefined,
): Promise<M> {
  const alive = loaded.get(key)?.deref() as M | undefined;
  if (alive) return Promise.resolve(alive);
  let shared = loads.get(key);
  if (!shared) {
    const controller = new AbortController();
    const progress = new Set<(p: LoadProgress) => void>();
    const entry: SharedLoad = { progress, waiters: 0, controller, promise: undefined as unknown as Promise<Cached> };
    entry.promise = start(controller.signal, (p) => progress.forEach((fn) => fn(p)));
    entry.promise.then(
      (model) => {
        if (loads.get(key) === entry) loads.delete(key);
        loaded.set(key, new WeakRef(model));
        collected?.register(model, key);
        keepBriefly(model);
      },
      () => {
        if (loads.get(key) === entry) loads.delete(key); // a failed load is retried next time
      },
    );
    loads.set(key, entry);
    shared = entry;
  }
  return join(key, shared, signal, onProgress) as Promise<M>;
}

function join(
  key: string,
  shared: SharedLoad,
  signal: AbortSignal | undefined,
  onProgress: ((p: LoadProgress) => void) | undefined,
): Promise<Cached> {
  shared.waiters++;
  if (onProgress) shared.progress.add(onProgress);
  let settled = false;
  const leave = () => {
    if (settled) return;
    settled = true;
    if (onProgress) shared.progress.delete(onProgress);
    shared.waiters--;
  };
  return new Promise<Cached>((resolve, reject) => {
    const onAbort = () => {
      leave();
      // Nobody else wants this download any more: stop it and forget it.
      if (shared.waiters === 0 && loads.get(key) === shared) {
        loads.delete(key);
        shared.controller.abort(signal?.reason);
      }
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    shared.promise.then(
      (model) => {
        signal?.removeEventListener('abort', onAbort);
        leave();
        resolve(model);
      },
      (err) => {
        signal?.removeEventListener('abort', onAbort);
        leave();
        reject(err);
      },
    );
  });
}

/** Hold `model` strongly for the grace period (again, if it already was), within IDLE_LIMIT. */
function keepBriefly(model: Cached): void {
  const timer = idle.get(model);
  if (timer !== undefined) {
    clearTimeout(timer);
    idle.delete(model);
  }
  const next = setTimeout(() => idle.delete(model), RELEASE_GRACE_MS);
  // In Node (the CLI) a pending grace period must not keep the process alive.
  (next as { unref?: () => void }).unref?.();
  idle.set(model, next);
  for (const [oldest, t] of idle) {
    if (idle.size <= IDLE_LIMIT) break;
    clearTimeout(t);
    idle.delete(oldest);
  }
}

/**
 * Tell the runtime you no longer use `model`, so its memory can go once nothing else holds it (the
 * elements do this when their `src` changes or they leave the page for good). Loading the same URL
 * within a couple of seconds still reuses it. For a model in the worker (`loadModelInWorker`), the
 * worker lets go of its instance; that handle reloads it if it is used again.
 */
export function releaseModel(model: Model | RemoteModel | ThreadedModel): void {
  // A worker's model lets go in its worker; a ThreadedModel gives its threads back and is kept briefly too.
  if ('release' in model && typeof model.release === 'function') model.release();
  if ('maxBatch' in model) keepBriefly(model);
}

/** Let go of every model in its grace period (before retrying an allocation that ran out of memory). */
export function dropIdleModels(): void {
  idle.forEach((t) => clearTimeout(t));
  idle.clear();
}

/** Forget cached loads, so the next load of a URL fetches again (tests; pages replacing a model file). */
export function clearModelCache(): void {
  loads.clear();
  loaded.clear();
  dropIdleModels();
}
