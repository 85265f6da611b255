/**
 * The module Worker behind `loadModelInWorker` (and the elements' `worker` attribute): loads models
 * and runs predictions off the main thread. Started from its own URL (no blob: URL, no eval), so it
 * works under a strict Content-Security-Policy.
 */
import { ModelError } from './errors.js';
import { loadModel, type LoadOptions } from './load.js';
import type { Model, ModelInput } from './model.js';

export type WorkerRequest =
  | { id: number; type: 'load'; src: string; options: Pick<LoadOptions, 'integrity' | 'crossOrigin' | 'cache'> }
  | { id: number; type: 'predict'; model: number; input: ModelInput; rows?: number }
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
const models: Model[] = [];
const aborts = new Map<number, AbortController>();

scope.onmessage = async ({ data: request }) => {
  const { id } = request;
  try {
    if (request.type === 'abort') {
      aborts.get(id)?.abort();
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
      let index = models.indexOf(model);
      if (index < 0) index = models.push(model) - 1;
      scope.postMessage({ id, type: 'loaded', model: index, meta: model.meta });
      return;
    }
    const outputs = models[request.model].predict(request.input, request.rows);
    // Typed outputs move to the page without a copy.
    const transfer = Object.values(outputs).flatMap((t) => (ArrayBuffer.isView(t.data) ? [t.data.buffer] : []));
    scope.postMessage({ id, type: 'result', outputs }, transfer);
  } catch (err) {
    aborts.delete(id);
    const e = err instanceof ModelError ? err : new ModelError('bad-input', String((err as Error)?.message ?? err));
    scope.postMessage({ id, type: 'error', code: e.code, message: e.message });
  }
};
