/**
 * Messages between the page and the workers of a model's thread pool (runtime/threads/pool.ts there,
 * pool-worker.ts here). One pool worker runs in one of two roles:
 *  - `helper`: takes slices of the steps the page's thread leads on a shared memory (it never reads a
 *    message again once started);
 *  - `instance`: its own instance of the module, on its own memory, running whole calls or parts of a
 *    batch (data parallelism, where memory cannot be shared).
 */
import type { ModelMeta } from '../meta.js';

export type PoolRole = 'helper' | 'instance';

export interface PoolStart {
  type: 'pool-start';
  role: PoolRole;
  module: WebAssembly.Module;
  meta: ModelMeta;
  /** The shared memory (helper); an instance of a module importing one makes its own. */
  memory?: WebAssembly.Memory;
  /** The control block of the shared-memory pool (runtime/threads/schedule.ts). */
  control?: SharedArrayBuffer;
  /** A Web Lock the worker holds while it lives: the page learns of its end when it can take it. */
  lock: string;
}

export interface PoolCall {
  type: 'pool-call';
  id: number;
  method: 'predict' | 'run';
  args: unknown[];
}

export type PoolRequest = PoolStart | PoolCall;

export type PoolReply =
  | { type: 'pool-ready' }
  /** The worker could not set up its role (the module did not instantiate, …). */
  | { type: 'pool-failed'; message: string }
  /**
   * `spare`: the buffers the call's input arrived in, given back for the next parts' rows (split.ts);
   * `at`: when the result was sent (performance.timeOrigin + now(), a clock the page shares).
   */
  | { type: 'pool-result'; id: number; value: unknown; spare: ArrayBuffer[]; at: number }
  | { type: 'pool-error'; id: number; code: string; message: string };

export const isPoolRequest = (m: unknown): m is PoolRequest =>
  typeof m === 'object' &&
  m !== null &&
  ((m as PoolRequest).type === 'pool-start' || (m as PoolRequest).type === 'pool-call');
