import { Task, TaskStatus, initialState } from '@lit/task';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { loadModel, type LoadOptions, type LoadProgress } from '../../runtime/load.js';
import type { Model } from '../../runtime/model.js';
import { loadModelInWorker, type RemoteModel, type WorkerLoadOptions } from '../../runtime/remote.js';
import { releaseModel, RELEASE_GRACE_MS } from '../../runtime/shared-loads.js';
import type { ThreadedModel, ThreadsOption } from '../../runtime/threads/threaded-model.js';
import { WidgetError } from '../shared/errors.js';

/**
 * What the controller loads: a `Model` on the main thread (synchronous `predict`), with `threads` a
 * `ThreadedModel` where threads can help (`predict` returns a Promise for a call that runs on them), or
 * with the `worker` option a `RemoteModel` in the page's module Worker (`predict` returns a Promise).
 * Same metadata and the same numbers either way: elements handle `predict` returning either.
 */
export type LoadedModel = Model | RemoteModel | ThreadedModel;

export interface ModelControllerOptions<M extends LoadedModel = Model> {
  /** The model URL, or empty for none. */
  src: () => string | undefined | null;
  /** False while loading should wait (e.g. `loading="lazy"` and still far from the viewport). */
  enabled: () => boolean;
  /** How to fetch: `integrity`, `crossorigin` and `cache` attributes. A change reloads. */
  fetchOptions?: () => Pick<LoadOptions, 'integrity' | 'crossOrigin' | 'cache'>;
  /**
   * True to load and run the model in a module Worker (the elements' `worker` attribute); the model is
   * then a RemoteModel, so only a `ModelController<LoadedModel>` should pass this. A change reloads.
   */
  worker?: () => boolean;
  /** With `worker`: milliseconds one call of the model may run before the worker is stopped (0: no limit). */
  timeout?: () => number;
  /** Threads for big calls (the `threads` attribute; not with `worker`). A change reloads. */
  threads?: () => ThreadsOption | undefined;
  onProgress?: (progress: LoadProgress) => void;
  onLoad?: (model: M) => void;
  /** Load failures except aborts (an aborted load was superseded or its element left the page). */
  onError?: (error: unknown) => void;
}

interface Waiter<M> {
  resolve: (model: M) => void;
  reject: (error: unknown) => void;
}

/**
 * Loads the model named by `src` with @lit/task: a new `src` aborts the running load (the Task aborts
 * its AbortSignal) and only the newest load's result is ever applied (the Task ignores stale runs).
 * Leaving the page mid-load aborts too; coming back resumes. The model is released (`releaseModel`) when
 * a new `src` replaces it, and when the host has been out of the page for the grace period; coming back
 * after that loads it again (from the cache while anything still holds it).
 */
export class ModelController<M extends LoadedModel = Model> implements ReactiveController {
  private readonly host: ReactiveControllerHost & HTMLElement;
  private readonly options: ModelControllerOptions<M>;
  /** Resolves to a box the model is taken out of, so the Task's own record of its value does not hold it. */
  private readonly task: Task<[string, boolean, string, boolean, number, string], { model?: M }>;
  private waiters: Waiter<M>[] = [];
  /** Someone awaits `whenLoaded()`: load now even if lazy loading would still wait. */
  private wanted = false;
  private _progress: LoadProgress = { loaded: 0, total: 0 };
  /** Set before `onLoad` runs (the Task records its value only after), cleared when a new load starts. */
  private _model?: M;
  /** The host left the page: its model goes back after the grace period unless it returns. */
  private releaseTimer?: ReturnType<typeof setTimeout>;
  private released = false;

  constructor(host: ReactiveControllerHost & HTMLElement, options: ModelControllerOptions<M>) {
    this.host = host;
    this.options = options;
    host.addController(this);
    this.task = new Task(host, {
      args: () =>
        [
          this.options.src() ?? '',
          this.wanted || this.options.enabled(),
          JSON.stringify(this.options.fetchOptions?.() ?? {}),
          this.options.worker?.() ?? false,
          this.options.worker?.() ? (this.options.timeout?.() ?? 0) : 0,
          this.options.worker?.() ? '1' : String(this.options.threads?.() ?? '1'),
        ] as [string, boolean, string, boolean, number, string],
      task: ([src, enabled, fetchOptions, inWorker, timeout, threads], { signal }) => {
        this.drop();
        if (!src) {
          this.rejectWaiters(new WidgetError('no-src', 'This element has no model: set its src attribute.'));
          return initialState;
        }
        if (!enabled) return initialState;
        this._progress = { loaded: 0, total: 0 };
        // Same options, progress and abort either way; the worker resolves src against this page.
        // An element that can run in a worker types its controller ModelController<LoadedModel>.
        const load = (inWorker ? loadModelInWorker : loadModel) as (
          src: string,
          options: WorkerLoadOptions,
        ) => Promise<M>;
        return load(src, {
          ...(JSON.parse(fetchOptions) as Pick<LoadOptions, 'integrity' | 'crossOrigin' | 'cache'>),
          ...(inWorker ? { timeout } : { threads: threads === 'auto' ? 'auto' : Number(threads) }),
          signal,
          onProgress: (p) => {
            if (signal.aborted) return; // a superseded load must not move the new one's bar
            this._progress = p;
            this.options.onProgress?.(p);
            this.host.requestUpdate();
          },
        }).then((model) => ({ model }));
      },
      onComplete: (box) => {
        const model = box.model!;
        box.model = undefined;
        const waiters = this.waiters;
        this.waiters = [];
        this._model = model;
        this.options.onLoad?.(model);
        waiters.forEach((w) => w.resolve(model));
      },
      onError: (error) => {
        if ((error as { code?: string })?.code === 'aborted') return; // resumed in hostConnected
        this.rejectWaiters(error);
        this.options.onError?.(error);
      },
    });
  }

  /** The loaded model, or undefined while none is loaded (including while a new `src` loads). */
  get model(): M | undefined {
    return this._model;
  }

  get loading(): boolean {
    return this.task.status === TaskStatus.PENDING;
  }

  get progress(): LoadProgress {
    return this._progress;
  }

  /** The last load failure, or undefined. */
  get error(): unknown {
    return this.task.status === TaskStatus.ERROR && !isAbort(this.task.error) ? this.task.error : undefined;
  }

  /** The model once loaded; asks for it now if lazy loading was still waiting. */
  whenLoaded(): Promise<M> {
    const model = this.model;
    if (model) return Promise.resolve(model);
    const error = this.error;
    if (error && this.task.status === TaskStatus.ERROR) return Promise.reject(error);
    if (!this.options.src())
      return Promise.reject(new WidgetError('no-src', 'This element has no model: set its src attribute.'));
    return new Promise<M>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.wanted) {
        this.wanted = true;
        this.host.requestUpdate();
      }
    });
  }

  hostConnected(): void {
    clearTimeout(this.releaseTimer);
    // A load aborted because the element left the page, or a model released while it was away: the
    // arguments did not change, so rerun it.
    if ((this.task.status === TaskStatus.ERROR && isAbort(this.task.error)) || this.released) {
      this.released = false;
      void this.task.run();
    }
  }

  hostDisconnected(): void {
    // Moving an element disconnects and reconnects it in one task: only abort if it stayed out.
    queueMicrotask(() => {
      if (this.host.isConnected) return;
      this.task.abort(new WidgetError('aborted', 'The element left the page.'));
      clearTimeout(this.releaseTimer);
      this.releaseTimer = setTimeout(() => {
        if (this.host.isConnected || !this._model) return;
        this.drop();
        this.released = true;
      }, RELEASE_GRACE_MS);
    });
  }

  /** Give the current model back to the runtime (a new load replaces it, or the host left for good). */
  private drop(): void {
    const model = this._model;
    this._model = undefined;
    if (model) releaseModel(model);
  }

  private rejectWaiters(error: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w.reject(error));
  }
}

function isAbort(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'aborted';
}
