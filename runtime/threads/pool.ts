/**
 * A model's pool of worker threads, page side: start them (the module the page compiled, posted to each,
 * no fetch and no compile of their own), send calls, and notice when one fails to start or ends. The page's
 * thread is one of the threads: a shared pool of n threads has n − 1 helpers (the page leads each call),
 * a pool of instances n − 1 workers (the page runs one part of each batch).
 *
 * Each worker holds a Web Lock named for it while it lives, and the page asks for that lock as soon as
 * the worker is ready: the page is granted it when the worker ends for any reason (terminated, crashed,
 * closed), even while the worker is stuck in a call. A failure fails every call in flight with
 * `thread-failed` and ends the whole pool; the model then runs on one thread (threaded-model.ts).
 */
import { ModelError } from '../errors.js';
import type { ModelMeta } from '../meta.js';
import { startWorker } from '../worker-url.js';
import type { PoolCall, PoolReply, PoolStart } from './protocol.js';
import { CONTROL_WORDS, endHelpers } from './schedule.js';

/** How long workers may take to start before the pool counts as failed. */
export const START_TIMEOUT_MS = 15_000;
/** How long `closed` waits for the workers' locks before it gives up (Chromium ends a worker blocked in
 * Atomics.wait about two seconds after terminate()). */
const CLOSE_WAIT_MS = 4_000;

export interface PoolSetup {
  /** 'shared': helpers of the page's thread on one shared memory; 'instances': workers with their own memory. */
  kind: 'shared' | 'instances';
  /** Threads, the page's own included. */
  threads: number;
  module: WebAssembly.Module;
  meta: ModelMeta;
  memory?: WebAssembly.Memory;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  worker: number;
}

let poolCount = 0;

export class ThreadPool {
  /** Resolves once every worker is ready; rejects with `thread-failed`. */
  readonly ready: Promise<void>;
  /** Resolves once every worker has ended (after `close`, or a failure). */
  readonly closed: Promise<void>;
  /** Why the pool stopped working, once it has. */
  failure?: ModelError;
  /** Buffers the workers gave back (the inputs of their parts), to copy the next parts' rows into. */
  readonly spare: ArrayBuffer[] = [];
  /** When each worker sent its last result (performance.timeOrigin + now()). */
  readonly doneAt: number[];
  /** Calls sent to each worker and not answered yet. */
  readonly load: number[];
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  /** The control block a shared pool's helpers wait on (schedule.ts). */
  readonly control?: Int32Array;
  /** Whether every worker has started (a shared pool's helpers take slices from then on). */
  started = false;
  private nextId = 1;
  private closing = false;
  private ended = 0;
  private settleClosed!: () => void;
  private failStart!: (e: ModelError) => void;

  constructor(private readonly setup: PoolSetup) {
    const n = Math.max(1, setup.threads - 1);
    this.load = new Array(n).fill(0);
    this.doneAt = new Array(n).fill(0);
    this.closed = new Promise((resolve) => (this.settleClosed = resolve));
    if (setup.kind === 'shared') this.control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    const id = `ml-widgets-thread-${++poolCount}-${Math.random().toString(36).slice(2)}`;
    let readyCount = 0;
    this.ready = new Promise<void>((resolve, reject) => {
      this.failStart = reject;
      const timer = setTimeout(
        () => this.fail(`its ${n} worker${n === 1 ? '' : 's'} did not start within ${START_TIMEOUT_MS / 1000} s`),
        START_TIMEOUT_MS,
      );
      for (let i = 0; i < n; i++) {
        const lock = `${id}-${i}`;
        let worker: Worker;
        try {
          worker = startWorker('ml-widgets-thread');
        } catch (err) {
          clearTimeout(timer);
          this.fail(`a worker could not be created (${(err as Error).message})`);
          return;
        }
        this.workers.push(worker);
        worker.onmessage = ({ data }: MessageEvent<PoolReply>) => {
          if (data.type === 'pool-ready') {
            this.watch(lock);
            if (++readyCount === n) {
              clearTimeout(timer);
              this.started = true;
              resolve();
            }
          } else if (data.type === 'pool-failed') this.fail(`a worker could not start the model (${data.message})`);
          else this.answer(data);
        };
        worker.onerror = (event) => {
          event.preventDefault?.();
          this.fail(`a worker failed (${event.message || 'its script did not load'})`);
        };
        worker.onmessageerror = () => this.fail('a worker sent a message that could not be read');
        worker.postMessage(this.startMessage(lock));
      }
    });
    // A failed start is reported to the calls that wait for it; nobody may be waiting yet.
    this.ready.catch(() => undefined);
  }

  /** Worker count. */
  get size(): number {
    return this.workers.length;
  }

  /** Call `method` on worker `i` (a pool of instances); transfers `transfer`. */
  call(i: number, method: PoolCall['method'], args: unknown[], transfer: Transferable[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: i });
      this.load[i]++;
      try {
        this.workers[i].postMessage({ type: 'pool-call', id, method, args } satisfies PoolCall, transfer);
      } catch (err) {
        // postMessage could not copy the input (a function, a DOM node, …).
        this.settle(id);
        reject(
          new ModelError('bad-input', `The input cannot be sent to the model's threads: ${(err as Error).message}`),
        );
      }
    });
  }

  /** End every worker (models released, or a failure); in-flight calls fail with `thread-failed`. */
  close(reason?: ModelError): void {
    if (this.closing) return;
    this.closing = true;
    this.failure ??=
      reason ?? new ModelError('thread-failed', "The model's threads were ended (the model was released).");
    if (this.control) endHelpers(this.control);
    for (const w of this.workers) w.terminate();
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.load.fill(0);
    waiting.forEach((p) => p.reject(this.failure));
    this.failStart(this.failure);
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    // Without Web Locks nothing can tell when the workers are gone; terminate() is all there is.
    if (!locks || this.ended >= this.workers.length) this.settleClosed();
    setTimeout(() => this.settleClosed(), CLOSE_WAIT_MS);
  }

  private startMessage(lock: string): PoolStart {
    const { kind, module, meta, memory } = this.setup;
    if (kind === 'instances') return { type: 'pool-start', role: 'instance', module, meta, lock };
    return {
      type: 'pool-start',
      role: 'helper',
      module,
      meta,
      memory,
      control: this.control!.buffer as SharedArrayBuffer,
      lock,
    };
  }

  /** Ask for the worker's lock: granted when the worker has ended. */
  private watch(lock: string): void {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    void locks?.request(lock, () => {
      this.ended++;
      if (!this.closing) this.fail('a worker ended while the model was in use');
      else if (this.ended >= this.workers.length) this.settleClosed();
    });
  }

  private fail(what: string): void {
    if (this.closing) return;
    this.close(
      new ModelError(
        'thread-failed',
        `The model's threads stopped: ${what}. The call that needed them failed; the model runs on one thread from now on.`,
      ),
    );
  }

  private answer(reply: PoolReply): void {
    if (reply.type !== 'pool-result' && reply.type !== 'pool-error') return;
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.settle(reply.id);
    if (reply.type === 'pool-result') {
      // The biggest two a worker: enough for a batch's parts while the last batch's come back.
      this.spare.push(...(reply.spare ?? []));
      this.spare.sort((a, b) => b.byteLength - a.byteLength).length = Math.min(this.spare.length, 2 * this.size);
      this.doneAt[entry.worker] = reply.at;
      entry.resolve(reply.value);
    } else entry.reject(new ModelError(reply.code as ModelError['code'], reply.message));
  }

  private settle(id: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    this.load[entry.worker]--;
  }
}
