import { abortError, ModelError, type ModelErrorCode } from './errors.js';
import type { LoadOptions } from './load.js';
import type { ModelMeta } from './meta.js';
import type { ModelInput, Outputs } from './model.js';
import type { WorkerReply, WorkerRequest } from './worker.js';

/** A model running in a module Worker: same metadata and results as `Model`, predictions async. */
export interface RemoteModel {
  readonly meta: ModelMeta;
  predict(input: ModelInput, rows?: number): Promise<Outputs>;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<
  number,
  { resolve(reply: WorkerReply): void; progress?(loaded: number, total: number): void }
>();

interface TrustedTypePolicyLike {
  createScriptURL(url: string): unknown;
}
let policy: TrustedTypePolicyLike | undefined;

/**
 * Under `require-trusted-types-for 'script'` a Worker's URL must be a TrustedScriptURL. The
 * "ml-widgets" policy passes exactly one URL, our own worker module's (a page with a `trusted-types`
 * allow-list must name it, as it names "lit-html" for Lit).
 */
function trustedWorkerUrl(url: URL): string | URL {
  const tt = (
    globalThis as {
      trustedTypes?: {
        createPolicy(name: string, rules: { createScriptURL(u: string): string }): TrustedTypePolicyLike;
      };
    }
  ).trustedTypes;
  if (!tt) return url;
  policy ??= tt.createPolicy('ml-widgets', {
    createScriptURL: (u) => {
      if (u !== url.href)
        throw new TypeError(`The ml-widgets Trusted Types policy only allows its own worker, not ${u}.`);
      return u;
    },
  });
  return policy.createScriptURL(url.href) as string;
}

/** One worker per page, started on first use from its own module URL (CSP-friendly: no blob:). */
function getWorker(): Worker {
  if (!worker) {
    try {
      worker = new Worker(trustedWorkerUrl(new URL('./worker.js', import.meta.url)), {
        type: 'module',
        name: 'ml-widgets',
      });
    } catch (err) {
      throw new ModelError(
        'unsupported',
        `The ml-widgets worker could not start (${(err as Error).message}). Under a Trusted Types allow-list, allow the "ml-widgets" policy; or drop the worker attribute.`,
        { cause: err },
      );
    }
    worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
      const entry = pending.get(data.id);
      if (!entry) return;
      if (data.type === 'progress') return entry.progress?.(data.loaded, data.total);
      pending.delete(data.id);
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
      pending.forEach((entry) => entry.resolve(failure));
      pending.clear();
      worker = undefined;
    };
  }
  return worker;
}

type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;

function request(
  message: Unsent<WorkerRequest>,
  progress?: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<WorkerReply> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, progress });
    signal?.addEventListener(
      'abort',
      () => {
        pending.delete(id);
        getWorker().postMessage({ id, type: 'abort' } satisfies WorkerRequest);
        reject(abortError(signal));
      },
      { once: true },
    );
    getWorker().postMessage({ ...message, id } as WorkerRequest);
  });
}

function fail(reply: WorkerReply): never {
  if (reply.type !== 'error') throw new ModelError('not-a-model', 'Unexpected reply from the ml-widgets worker.');
  throw new ModelError(reply.code as ModelErrorCode, reply.message);
}

/** Load a model into the page's ml-widgets Worker (see `loadModel` for the options). */
export async function loadModelInWorker(src: string | URL, options: LoadOptions = {}): Promise<RemoteModel> {
  const { signal, onProgress, integrity, crossOrigin, cache } = options;
  if (signal?.aborted) throw abortError(signal);
  const base = typeof document !== 'undefined' ? document.baseURI : undefined;
  const url = new URL(src, base).href;
  const reply = await request(
    { type: 'load', src: url, options: { integrity, crossOrigin, cache } },
    (loaded, total) => onProgress?.({ loaded, total }),
    signal,
  );
  if (reply.type !== 'loaded') fail(reply);
  const { model, meta } = reply;
  return {
    meta,
    async predict(input, rows) {
      const result = await request({ type: 'predict', model, input, rows });
      if (result.type !== 'result') fail(result);
      return result.outputs;
    },
  };
}
