import { abortError, ModelError } from './errors.js';
import { missingWasmFeatures } from './features.js';
import { MAX_MODEL_MEMORY, META_FORMAT, META_SECTION, META_VERSION, type ModelMeta } from './meta.js';
import { Model, type ModelExports } from './model.js';
import { SectionScanner, type ModuleShape } from './sections.js';

export interface LoadProgress {
  loaded: number;
  /** Total bytes when the server says (Content-Length), else 0: show an indeterminate bar. */
  total: number;
}

export interface LoadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Subresource Integrity of the model file ("sha256-…", "sha384-…", "sha512-…"; several may be
   * given, space-separated). Checked on the streamed bytes before the module is instantiated.
   */
  integrity?: string;
  /** As the `crossorigin` attribute: "anonymous" (default: same-origin credentials) or "use-credentials". */
  crossOrigin?: 'anonymous' | 'use-credentials' | '';
  /** "persist": keep the model bytes in the Cache API, so later visits and offline use skip the network. */
  cache?: 'persist' | 'default';
}

/** The parts of the options that change what is fetched, so they are part of the sharing key. */
interface FetchPolicy {
  integrity: string;
  credentials: RequestCredentials;
  persist: boolean;
}

/** The Cache API cache `cache: 'persist'` uses (a service worker can pre-fill it: see the README). */
export const MODEL_CACHE = 'ml-widgets-models-v1';

export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Response;

/** One fetch, compile and instance per URL, shared by every caller until it fails. */
interface SharedLoad {
  promise: Promise<Model>;
  progress: Set<(p: LoadProgress) => void>;
  waiters: number;
  controller: AbortController;
}
const loads = new Map<string, SharedLoad>();

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Load a compiled model. URLs stream (`compileStreaming` while bytes arrive) with progress, whatever
 * Content-Type the server sends; bytes and Responses compile directly. The module is validated before
 * it is instantiated. Concurrent and later loads of the same URL share one fetch, compile and instance
 * (predict is synchronous and stateless between calls, so sharing is safe).
 */
export function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
  const { signal, onProgress } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (typeof source !== 'string' && !(source instanceof URL)) {
    return withAbort(loadFromBytesOrResponse(source, signal, onProgress), signal);
  }
  const url = resolveUrl(source);
  const policy: FetchPolicy = {
    integrity: (options.integrity ?? '').trim(),
    credentials: options.crossOrigin === 'use-credentials' ? 'include' : 'same-origin',
    persist: options.cache === 'persist',
  };
  const key = `${url}\n${policy.integrity}\n${policy.credentials}\n${policy.persist}`;
  let shared = loads.get(key);
  if (!shared) {
    const controller = new AbortController();
    const progress = new Set<(p: LoadProgress) => void>();
    const entry: SharedLoad = { progress, waiters: 0, controller, promise: undefined as unknown as Promise<Model> };
    entry.promise = fetchModel(url, policy, controller.signal, (p) => progress.forEach((fn) => fn(p)));
    entry.promise.catch(() => {
      if (loads.get(key) === entry) loads.delete(key); // a failed load is retried next time
    });
    loads.set(key, entry);
    shared = entry;
  }
  return joinSharedLoad(key, shared, signal, onProgress);
}

function joinSharedLoad(
  key: string,
  shared: SharedLoad,
  signal: AbortSignal | undefined,
  onProgress: ((p: LoadProgress) => void) | undefined,
): Promise<Model> {
  shared.waiters++;
  if (onProgress) shared.progress.add(onProgress);
  let settled = false;
  const leave = () => {
    if (settled) return;
    settled = true;
    if (onProgress) shared.progress.delete(onProgress);
    shared.waiters--;
  };
  return new Promise<Model>((resolve, reject) => {
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

/** Forget cached loads, so the next load of a URL fetches again (tests; pages replacing a model file). */
export function clearModelCache(): void {
  loads.clear();
}

function resolveUrl(source: string | URL): string {
  const base =
    typeof document !== 'undefined' ? document.baseURI : (globalThis as { location?: Location }).location?.href;
  try {
    return new URL(source, base).href;
  } catch {
    throw new ModelError('fetch-failed', `"${String(source)}" is not a valid URL for a model.`);
  }
}

function withAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function fetchModel(
  url: string,
  policy: FetchPolicy,
  signal: AbortSignal,
  onProgress: (p: LoadProgress) => void,
): Promise<Model> {
  const cache = policy.persist ? await openModelCache() : null;
  const cached = cache ? await cache.match(url).catch(() => undefined) : undefined;
  if (cached) {
    try {
      return await compileResponse(cached, url, signal, onProgress, policy.integrity, null);
    } catch (err) {
      if (signal.aborted) throw err;
      await cache!.delete(url).catch(() => false); // a bad cached copy: fetch a fresh one
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { signal, credentials: policy.credentials });
  } catch (err) {
    if (signal.aborted) throw abortError(signal);
    throw new ModelError(
      'fetch-failed',
      `Could not download the model from ${url}: ${(err as Error).message}. Check the address and your connection; a model on another site must be served with CORS headers.`,
      { cause: err },
    );
  }
  if (!response.ok) {
    throw new ModelError(
      'http-error',
      `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''} for the model at ${url}. Check that the file is published at that address.`,
    );
  }
  return compileResponse(response, url, signal, onProgress, policy.integrity, cache);
}

/** The Cache API is only there in secure contexts (and not in every worker or runtime). */
async function openModelCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'object' ? await caches.open(MODEL_CACHE) : null;
  } catch {
    return null;
  }
}

async function loadFromBytesOrResponse(
  source: ArrayBuffer | ArrayBufferView | Response,
  signal: AbortSignal | undefined,
  onProgress: ((p: LoadProgress) => void) | undefined,
): Promise<Model> {
  if (source instanceof Response) {
    return compileResponse(
      source,
      source.url || 'the response',
      signal ?? new AbortController().signal,
      onProgress ?? (() => {}),
      '',
      null,
    );
  }
  const bytes = ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source);
  checkFeaturesAvailable();
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw compileFailure(bytes.subarray(0, 8), 'the model bytes', err);
  }
  return instantiate(module, 'the model bytes', scanShape(bytes));
}

/**
 * Stream a response into `compileStreaming`, counting bytes for progress and keeping the first bytes
 * to explain a failure. Re-wrapping the body as `application/wasm` lets a model served with the wrong
 * MIME type still stream.
 */
async function compileResponse(
  response: Response,
  where: string,
  signal: AbortSignal,
  onProgress: (p: LoadProgress) => void,
  integrity: string,
  cache: Cache | null,
): Promise<Model> {
  // Integrity checks and the persistent cache need the bytes too; otherwise none are kept.
  const keep = integrity !== '' || cache !== null;
  const chunks: Uint8Array[] = [];
  checkFeaturesAvailable();
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const total = encoded ? 0 : Number(response.headers.get('content-length')) || 0;
  const head = new Uint8Array(8);
  const scanner = new SectionScanner();
  let loaded = 0;
  let networkError: unknown;
  onProgress({ loaded, total });

  let module: WebAssembly.Module;
  const body = response.body;
  if (body && typeof WebAssembly.compileStreaming === 'function') {
    const reader = body.getReader();
    const counted = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          if (loaded < head.length) head.set(value.subarray(0, head.length - loaded), loaded);
          scanner.push(value);
          if (keep) chunks.push(value);
          loaded += value.byteLength;
          onProgress({ loaded, total });
          controller.enqueue(value);
        } catch (err) {
          networkError = err;
          controller.error(err);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    try {
      module = await WebAssembly.compileStreaming(
        new Response(counted, { headers: { 'content-type': 'application/wasm' } }),
      );
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (networkError !== undefined) {
        throw new ModelError(
          'fetch-failed',
          `The connection broke after ${loaded} bytes of the model at ${where}: ${(networkError as Error).message ?? networkError}. Try again.`,
          { cause: networkError },
        );
      }
      throw compileFailure(head.subarray(0, Math.min(loaded, head.length)), where, err);
    }
  } else {
    const bytes = new Uint8Array(await response.arrayBuffer());
    scanner.push(bytes);
    if (keep) chunks.push(bytes);
    loaded = bytes.byteLength;
    onProgress({ loaded, total: total || loaded });
    try {
      module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (err) {
      throw compileFailure(bytes.subarray(0, 8), where, err);
    }
  }
  if (signal.aborted) throw abortError(signal);
  if (keep) {
    const bytes = concat(chunks, loaded);
    if (integrity) await checkIntegrity(bytes, integrity, where);
    const model = await instantiate(module, where, scanner.result(true));
    // Only a model that validated is kept for the next visit.
    await cache
      ?.put(where, new Response(bytes, { headers: { 'content-type': 'application/wasm' } }))
      .catch(() => undefined);
    return model;
  }
  return instantiate(module, where, scanner.result(true));
}

function concat(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const SRI_ALGORITHMS: Record<string, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/**
 * Subresource Integrity as browsers apply it: the file must match one of the strongest listed hashes.
 * Unknown algorithms are ignored; a list with none known is an error (it could never pass).
 */
async function checkIntegrity(bytes: Uint8Array<ArrayBuffer>, integrity: string, where: string): Promise<void> {
  const entries = integrity
    .split(/\s+/)
    .map((token) => /^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})/.exec(token))
    .filter((m): m is RegExpExecArray => m !== null);
  if (!entries.length) {
    throw new ModelError(
      'integrity',
      `The integrity value "${integrity}" names no supported hash (sha256, sha384 or sha512).`,
    );
  }
  const strongest = ['sha512', 'sha384', 'sha256'].find((a) => entries.some((m) => m[1] === a))!;
  const digest = new Uint8Array(await crypto.subtle.digest(SRI_ALGORITHMS[strongest], bytes));
  let binary = '';
  for (const b of digest) binary += String.fromCharCode(b);
  const actual = btoa(binary);
  const normal = (s: string) => s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!entries.some((m) => m[1] === strongest && normal(m[2]) === normal(actual))) {
    throw new ModelError(
      'integrity',
      `The model at ${where} does not match its integrity value (${strongest} is ${actual}); it was not run. The file changed, or the integrity attribute is out of date.`,
    );
  }
}

function checkFeaturesAvailable(): void {
  const missing = missingWasmFeatures(['simd']);
  if (typeof WebAssembly !== 'object' || missing.length) {
    throw new ModelError(
      'unsupported',
      'This browser cannot run ml-widgets models: it lacks WebAssembly SIMD. Use a current Chrome, Edge, Firefox or Safari.',
    );
  }
}

function compileFailure(head: Uint8Array, where: string, err: unknown): ModelError {
  const isWasm = head.length >= 4 && WASM_MAGIC.every((b, i) => head[i] === b);
  if (!isWasm) {
    const text = new TextDecoder().decode(head).replace(/[^\x20-\x7e]/g, '?');
    // An ONNX file (protobuf, field 1 = ir_version) is the likeliest wrong file after an HTML page.
    const onnx =
      /\.onnx($|[?#])/i.test(where) || (head[0] === 0x08 && head[1] > 0 && head[1] < 0x20 && head[2] === 0x12);
    return new ModelError(
      'not-wasm',
      head.length === 0
        ? `The model file at ${where} is empty.`
        : onnx
          ? `The file at ${where} looks like an ONNX model, not a compiled one. Compile it with "ml-widgets compile model.onnx" and use the .wasm it writes.`
          : `The file at ${where} is not a WebAssembly model (it starts with "${text}"). Check the path: servers often answer a wrong path with an HTML page.`,
      { cause: err },
    );
  }
  return new ModelError(
    'invalid-wasm',
    `The model at ${where} is damaged or truncated and does not compile (${(err as Error).message}). Compile it again with "ml-widgets compile".`,
    { cause: err },
  );
}

function scanShape(bytes: Uint8Array): ModuleShape | null {
  const scanner = new SectionScanner();
  scanner.push(bytes);
  return scanner.result(true);
}

/**
 * Check the module is an ml-widgets model of a known format with no imports, no start function and
 * exactly the memory its plan declares, then instantiate it. `shape` comes from the module's bytes
 * (see SectionScanner): null if it could not be read (refused); without it a start function cannot be
 * ruled out and memory is checked only after instantiation.
 */
export async function instantiate(
  module: WebAssembly.Module,
  where: string,
  shape?: ModuleShape | null,
): Promise<Model> {
  const sections = WebAssembly.Module.customSections(module, META_SECTION);
  if (sections.length !== 1) {
    throw new ModelError(
      'not-a-model',
      `${where} is a WebAssembly module but not an ml-widgets model (no "${META_SECTION}" section). Compile an ONNX model with "ml-widgets compile".`,
    );
  }
  let meta: ModelMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(sections[0]));
  } catch (err) {
    throw new ModelError('bad-meta', `The "${META_SECTION}" section of ${where} is not valid JSON.`, { cause: err });
  }
  if (meta?.format !== META_FORMAT || typeof meta.version !== 'number') {
    throw new ModelError(
      'bad-meta',
      `The "${META_SECTION}" section of ${where} does not describe an ml-widgets model.`,
    );
  }
  if (meta.version !== META_VERSION) {
    throw new ModelError(
      'unsupported-version',
      `${where} uses model format version ${meta.version}, but this ml-widgets runtime reads version ${META_VERSION}. ${
        meta.version > META_VERSION ? 'Update ml-widgets' : 'Recompile the model with this version of ml-widgets'
      }.`,
    );
  }
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    throw new ModelError(
      'has-imports',
      `${where} imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}; ml-widgets models must be self-contained, so it was not run.`,
    );
  }
  const missing = missingWasmFeatures(meta.features ?? []);
  if (missing.length) {
    throw new ModelError(
      'unsupported',
      `${where} needs WebAssembly ${missing.join(', ')}, which this browser lacks. Compile the model without it (the default) to run here.`,
    );
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const abi = ['memory', 'run', 'inputPtr', 'outputPtr', 'maxBatch'];
  const absent = abi.filter((name) => !exported.has(name));
  if (absent.length) {
    throw new ModelError('not-a-model', `${where} lacks the model exports ${absent.join(', ')}.`);
  }
  if (shape === null) {
    throw new ModelError(
      'memory-mismatch',
      `${where} has over 1 MiB of sections before its code, so its memory could not be checked; it was not run.`,
    );
  }
  if (shape) checkDeclaredMemory(shape, meta, where);
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, {});
  } catch (err) {
    throw new ModelError('invalid-wasm', `${where} could not be instantiated (${(err as Error).message}).`, {
      cause: err,
    });
  }
  const exports = instance.exports as unknown as ModelExports;
  checkMemoryPlan(exports.memory, meta, where);
  return new Model(meta, exports);
}

/**
 * Before anything runs: one fixed-size memory of exactly the planned bytes (so a model cannot make
 * the page allocate more than `ml.meta` says), and no start function (nothing executes on instantiate).
 */
/** The compiler's ceiling (i32 pointers stay positive): a larger memory is no model of ours. */

function checkDeclaredMemory(shape: ModuleShape, meta: ModelMeta, where: string): void {
  if (shape.hasStart) {
    throw new ModelError(
      'not-a-model',
      `${where} has a start function, which ml-widgets models never have; it was not run.`,
    );
  }
  const [memory, ...more] = shape.memories;
  const declared = `declares ${meta.memoryBytes} bytes of memory`;
  if (!memory || more.length) {
    throw new ModelError(
      'memory-mismatch',
      `${where} ${declared} but defines ${shape.memories.length} memories; it was not run.`,
    );
  }
  const bytes = memory.initial * 65536;
  if (bytes > MAX_MODEL_MEMORY) {
    throw new ModelError(
      'memory-mismatch',
      `${where} asks for ${bytes} bytes of memory, more than any ml-widgets model can use (${MAX_MODEL_MEMORY}); it was not run.`,
    );
  }
  if (bytes !== meta.memoryBytes || memory.maximum !== memory.initial || memory.shared || memory.memory64) {
    const max = memory.maximum === undefined ? 'no maximum' : `a maximum of ${memory.maximum * 65536} bytes`;
    throw new ModelError(
      'memory-mismatch',
      `${where} ${declared} but asks for ${bytes} bytes with ${max}; it was not run.`,
    );
  }
}

/** The memory must be exactly the planned size and unable to grow: a model cannot take more than it declared. */
function checkMemoryPlan(memory: WebAssembly.Memory, meta: ModelMeta, where: string): void {
  const size = memory.buffer.byteLength;
  let grew = false;
  try {
    memory.grow(1);
    grew = true;
  } catch {
    // expected: maximum == initial
  }
  if (size !== meta.memoryBytes || grew) {
    throw new ModelError(
      'memory-mismatch',
      `${where} declares ${meta.memoryBytes} bytes of memory but has ${size}${grew ? ' and can grow' : ''}; it was not run.`,
    );
  }
}
