/**
 * The module Worker behind `loadModelInWorker` (and the elements' `worker` attribute): loads models
 * and runs predictions off the main thread. Started from its own URL (no blob: URL, no eval), so it
 * works under a strict Content-Security-Policy. It holds each model while the page holds a handle to it
 * (counted per `loaded` reply, given back by `release`); then the loader's cache decides (shared-loads.ts).
 */
import { asModelError, ModelError } from './errors.js';
import { loadModel, releaseModel, type LoadOptions } from './load.js';
import type { Model, ModelInput } from './model.js';
import { isPoolRequest } from './threads/protocol.js';
import { poolMessage } from './threads/pool-worker.js';

export type WorkerRequest =
  | {
      id: number;
      type: 'load';
      src: string;
      options: Pick<LoadOptions, 'integrity' | 'crossOrigin' | 'cache'>;
    }
  | { id: number; type: 'predict'; model: number; input: ModelInput; rows?: number }
  | { id: number; type: 'release'; model: number }
  | { id: number; type: 'abort' };

export type WorkerReply =
  | { id: number; type: 'progress'; loaded: number; total: number }
  | { id: number; type: 'loaded'; model: number; meta: Model['meta'] }
  | { id: number; type: 'result'; outputs: ReturnType<Model['predict']> }
  | { id: number; type: 'error'; code: string; message: string };

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
};
/** Models the page holds handles to, by the number the page knows them by. */
const held = new Map<number, { model: Model; users: number }>();
const numbers = new WeakMap<Model, number>();
let nextNumber = 1;
const aborts = new Map<number, AbortController>();

scope.onmessage = async ({ data: request }) => {
  // A worker of a model's thread pool speaks runtime/threads/protocol.ts instead.
  if (isPoolRequest(request)) return poolMessage(request, scope as unknown as Parameters<typeof poolMessage>[1]);
  const { id } = request;
  try {
    if (request.type === 'abort') {
      aborts.get(id)?.abort();
      return;
    }
    if (request.type === 'release') {
      const entry = held.get(request.model);
      if (entry && --entry.users === 0) {
        held.delete(request.model);
        releaseModel(entry.model);
      }
      return;
    }
    if (request.type === 'load') {
      const controller = new AbortController();
      aborts.set(id, controller);
      const model = await loadModel(request.src, {
        ...request.options,
        signal: controller.signal,
        onProgress: ({ loaded, total }) => scope.postMessage({ id, type: 'progress', loaded, total }),
      });
      aborts.delete(id);
      let number = numbers.get(model);
      if (number === undefined) numbers.set(model, (number = nextNumber++));
      const entry = held.get(number);
      if (entry) entry.users++;
      else held.set(number, { model, users: 1 });
      scope.postMessage({ id, type: 'loaded', model: number, meta: model.meta });
      return;
    }
    const entry = held.get(request.model);
    if (!entry) throw new ModelError('not-a-model', 'This model was released in the worker; load it again.');
    const outputs = entry.model.predict(request.input, request.rows);
    // Typed outputs move to the page without a copy.
    const transfer = Object.values(outputs).flatMap((t) => (ArrayBuffer.isView(t.data) ? [t.data.buffer] : []));
    scope.postMessage({ id, type: 'result', outputs }, transfer);
  } catch (err) {
    aborts.delete(id);
    const e = asModelError(err);
    scope.postMessage({ id, type: 'error', code: e.code, message: e.message });
  }
};
