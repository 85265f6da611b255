/**
 * The worker side of a model's thread pool (runtime/worker.ts hands these messages here): instantiate the
 * module the page compiled (no fetch, no compile of our own), hold a Web Lock for as long as this worker
 * lives, say `pool-ready`, then serve its role (protocol.ts).
 */
import { asModelError, ModelError } from '../errors.js';
import { Model, type ModelExports } from '../model.js';
import type { PoolReply, PoolRequest, PoolStart } from './protocol.js';
import { helperLoop, type SliceExports } from './schedule.js';
import { sharedMemoryFor } from './shared-module.js';

interface Scope {
  postMessage(message: PoolReply, transfer?: Transferable[]): void;
  close(): void;
}

let model: Model | undefined;

export async function poolMessage(request: PoolRequest, scope: Scope): Promise<void> {
  if (request.type === 'pool-start') {
    return start(request, scope).catch((err) =>
      scope.postMessage({ type: 'pool-failed', message: String((err as Error)?.message ?? err) }),
    );
  }
  const { id } = request;
  try {
    if (!model) throw new ModelError('not-a-model', 'This thread has no model.');
    const value = (model[request.method] as (...args: unknown[]) => Record<string, { data: unknown }>)(...request.args);
    // Typed outputs move to the page without a copy; the input's buffers go back to be filled again.
    const transfer = Object.values(value).flatMap((t) => (ArrayBuffer.isView(t.data) ? [t.data.buffer] : []));
    const spare = inputBuffers(request.args[0]).filter((b) => !transfer.includes(b));
    const at = performance.timeOrigin + performance.now();
    scope.postMessage({ type: 'pool-result', id, value, spare, at }, [...transfer, ...spare]);
  } catch (err) {
    const e = asModelError(err);
    scope.postMessage({ type: 'pool-error', id, code: e.code, message: e.message });
  }
}

async function start(request: PoolStart, scope: Scope): Promise<void> {
  const { module, meta, role } = request;
  const needsMemory = WebAssembly.Module.imports(module).length > 0;
  const memory = request.memory ?? (needsMemory ? sharedMemoryFor(meta) : undefined);
  const instance = await WebAssembly.instantiate(module, memory ? { env: { memory } } : {});
  const exports = instance.exports as unknown as ModelExports & SliceExports;
  await holdLock(request.lock);
  scope.postMessage({ type: 'pool-ready' });
  const ctl = request.control ? new Int32Array(request.control) : undefined;
  if (role === 'helper') {
    helperLoop(exports, ctl!);
    scope.close();
    return;
  }
  model = new Model(meta, exports);
}

/** The buffers of a call's typed input arrays (one array, or a record of arrays or of tensors). */
function inputBuffers(input: unknown): ArrayBuffer[] {
  const arrays = ArrayBuffer.isView(input)
    ? [input]
    : Object.values((input ?? {}) as Record<string, unknown>).map((v) => (v as { data?: unknown })?.data ?? v);
  // A shared buffer (a caller's, cloned as it is) cannot be transferred.
  const buffers = arrays.flatMap((a) => (ArrayBuffer.isView(a) && a.buffer instanceof ArrayBuffer ? [a.buffer] : []));
  return [...new Set(buffers)];
}

/** Take the lock and keep it until this worker ends; resolves once it is held. */
function holdLock(name: string): Promise<void> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return Promise.resolve();
  return new Promise((held) => {
    void locks.request(name, () => {
      held();
      return new Promise<never>(() => {});
    });
  });
}
