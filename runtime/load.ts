import { abortError, engineRefusal, ModelError } from './errors.js';
import { missingWasmFeatures } from './features.js';
import { instantiate } from './instantiate.js';
import type { Model } from './model.js';
import { SectionScanner, type ModuleShape } from './sections.js';
import { sharedLoad } from './shared-loads.js';
import { canShareMemory, threadCount, withThreads } from './threads/setup.js';
import { SharedMemoryRewriter } from './threads/shared-module.js';
import { ThreadedModel, type ThreadsOption } from './threads/threaded-model.js';

export { clearModelCache, releaseModel } from './shared-loads.js';

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
  /** What error messages call a model given as bytes (e.g. its file name); default "the model bytes". */
  name?: string;
  /**
   * Run big calls on several threads (docs/threads.md): a number, or `'auto'` (the cores there are, up
   * to 4), never more than `navigator.hardwareConcurrency`. With threads the model is a ThreadedModel:
   * `predict()` and `run()` may return a Promise (a batch split over workers; the first call while the
   * threads start), the outputs at once for any other call. Without (or with 1) the model is a Model,
   * synchronous as always.
   */
  threads?: ThreadsOption;
  /** @internal Split every call and step that can be split, however small (tests). */
  threadsAlways?: boolean;
}

/** What a load resolves to: a Model, or with `threads` a ThreadedModel where threads can help. */
export type LoadedModel = Model | ThreadedModel;

/** The parts of the options that change what is fetched, so they are part of the sharing key. */
interface FetchPolicy {
  integrity: string;
  credentials: RequestCredentials;
  persist: boolean;
}

/** The Cache API cache `cache: 'persist'` uses (a service worker can pre-fill it: see the README). */
export const MODEL_CACHE = 'ml-widgets-models-v1';

export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Response;

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Load a compiled model. URLs stream (`compileStreaming` while bytes arrive) with progress, whatever
 * Content-Type the server sends; bytes and Responses compile directly. The module is validated before
 * it is instantiated. Concurrent and later loads of the same URL share one fetch, compile and instance
 * while anyone holds it (predict is synchronous and stateless between calls, so sharing is safe); see
 * shared-loads.ts for when it is released.
 */
export function loadModel(source: ModelSource, options?: LoadOptions & { threads?: 1 }): Promise<Model>;
export function loadModel(source: ModelSource, options?: LoadOptions): Promise<LoadedModel>;
export function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<LoadedModel> {
  const { signal, onProgress } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const threads = threadCount(options.threads);
  // Threads that share memory need the module's memory imported as a shared one: rewritten while it streams.
  const sharing = threads > 1 && canShareMemory();
  const finish = (model: Model): LoadedModel =>
    threads > 1 ? withThreads(model, options.threads!, threads, options.threadsAlways) : model;
  if (typeof source !== 'string' && !(source instanceof URL)) {
    return withAbort(loadFromBytesOrResponse(source, signal, onProgress, options.name, sharing).then(finish), signal);
  }
  const url = resolveUrl(source);
  const policy: FetchPolicy = {
    integrity: (options.integrity ?? '').trim(),
    credentials: options.crossOrigin === 'use-credentials' ? 'include' : 'same-origin',
    persist: options.cache === 'persist',
  };
  const mode = threads > 1 ? `\nthreads ${threads} ${sharing} ${options.threads} ${!!options.threadsAlways}` : '';
  const key = `${url}\n${policy.integrity}\n${policy.credentials}\n${policy.persist}${mode}`;
  return sharedLoad<LoadedModel>(
    key,
    (signal, progress) => fetchModel(url, policy, signal, progress, sharing).then(finish),
    signal,
    onProgress,
  ).then((model) => {
    // Each load holds the threads (releaseModel gives the hold back).
    if (model instanceof ThreadedModel) model.hold();
    return model;
  });
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
  sharing: boolean,
): Promise<Model> {
  const cache = policy.persist ? await openModelCache() : null;
  const cached = cache ? await cache.match(url).catch(() => undefined) : undefined;
  if (cached) {
    try {
      return await compileResponse(cached, url, signal, onProgress, policy.integrity, null, sharing);
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
  return compileResponse(response, url, signal, onProgress, policy.integrity, cache, sharing);
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
  name = 'the model bytes',
  sharing = false,
): Promise<Model> {
  if (source instanceof Response) {
    return compileResponse(
      source,
      source.url || name,
      signal ?? new AbortController().signal,
      onProgress ?? (() => {}),
      '',
      null,
      sharing,
    );
  }
  const bytes = ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source);
  checkFeaturesAvailable();
  const rewriter = sharing ? new SharedMemoryRewriter() : null;
  const compiled = rewriter ? concat([...rewriter.push(bytes), ...rewriter.end()]) : bytes;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(compiled as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw compileFailure(bytes.subarray(0, 8), name, err, false);
  }
  return instantiate(module, name, scanShape(bytes), !!rewriter?.rewritten);
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
  sharing = false,
): Promise<Model> {
  // Integrity checks and the persistent cache need the bytes too; otherwise none are kept.
  const keep = integrity !== '' || cache !== null;
  const chunks: Uint8Array[] = [];
  checkFeaturesAvailable();
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const total = encoded ? 0 : Number(response.headers.get('content-length')) || 0;
  const head = new Uint8Array(8);
  const scanner = new SectionScanner();
  // The original bytes are scanned, checked and kept; what compiles is rewritten for shared memory.
  const rewriter = sharing ? new SharedMemoryRewriter() : null;
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
          if (done) {
            rewriter?.end().forEach((c) => controller.enqueue(c));
            return controller.close();
          }
          if (loaded < head.length) head.set(value.subarray(0, head.length - loaded), loaded);
          scanner.push(value);
          if (keep) chunks.push(value);
          loaded += value.byteLength;
          onProgress({ loaded, total });
          if (rewriter) rewriter.push(value).forEach((c) => controller.enqueue(c));
          else controller.enqueue(value);
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
      throw compileFailure(head.subarray(0, Math.min(loaded, head.length)), where, err, response.url !== '');
    }
  } else {
    const bytes = new Uint8Array(await response.arrayBuffer());
    scanner.push(bytes);
    if (keep) chunks.push(bytes);
    loaded = bytes.byteLength;
    onProgress({ loaded, total: total || loaded });
    const compiled = rewriter ? concat([...rewriter.push(bytes), ...rewriter.end()]) : bytes;
    try {
      module = await WebAssembly.compile(compiled as Uint8Array<ArrayBuffer>);
    } catch (err) {
      throw compileFailure(bytes.subarray(0, 8), where, err, response.url !== '');
    }
  }
  if (signal.aborted) throw abortError(signal);
  if (keep) {
    const bytes = concat(chunks, loaded);
    if (integrity) await checkIntegrity(bytes, integrity, where);
    const model = await instantiate(module, where, scanner.result(true), !!rewriter?.rewritten);
    // Only a model that validated is kept for the next visit.
    await cache
      ?.put(where, new Response(bytes, { headers: { 'content-type': 'application/wasm' } }))
      .catch(() => undefined);
    return model;
  }
  return instantiate(module, where, scanner.result(true), !!rewriter?.rewritten);
}

function concat(chunks: Uint8Array[], size = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array<ArrayBuffer> {
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

/**
 * Why a module did not compile: the engine's refusal (the page's CSP, no memory left), else what the first
 * bytes say about the file. `fromUrl`: the bytes came from a server, which may answer a wrong path.
 */
function compileFailure(head: Uint8Array, where: string, err: unknown, fromUrl: boolean): ModelError {
  const refusal = engineRefusal(err, fromUrl ? `the model at ${where}` : where);
  if (refusal) return refusal;
  const file = fromUrl ? `The file at ${where}` : `${where[0].toUpperCase()}${where.slice(1)}`;
  const isWasm = head.length >= 4 && WASM_MAGIC.every((b, i) => head[i] === b);
  if (!isWasm) {
    const text = new TextDecoder().decode(head).replace(/[^\x20-\x7e]/g, '?');
    // An ONNX file (protobuf, field 1 = ir_version) is the likeliest wrong file after an HTML page.
    const onnx =
      /\.onnx($|[?#])/i.test(where) || (head[0] === 0x08 && head[1] > 0 && head[1] < 0x20 && head[2] === 0x12);
    return new ModelError(
      'not-wasm',
      head.length === 0
        ? `${fromUrl ? `The model file at ${where}` : file} is empty.`
        : onnx
          ? `${file} looks like an ONNX model, not a compiled one. Compile it with "ml-widgets compile model.onnx" and use the .wasm it writes.`
          : `${file} is not a WebAssembly model (it starts with "${text}").${fromUrl ? ' Check the path: servers often answer a wrong path with an HTML page.' : ''}`,
      { cause: err },
    );
  }
  return new ModelError(
    'invalid-wasm',
    `${fromUrl ? `The model at ${where}` : file} is damaged or truncated and does not compile (${(err as Error).message}). Compile it again with "ml-widgets compile".`,
    { cause: err },
  );
}

function scanShape(bytes: Uint8Array): ModuleShape | null {
  const scanner = new SectionScanner();
  scanner.push(bytes);
  return scanner.result(true);
}
