/**
 * Every failure the runtime reports is a ModelError with a machine-readable `code`, so elements can
 * show a specific message and pages can react to the kind of failure.
 */
export type ModelErrorCode =
  | 'unsupported' // this browser lacks a WebAssembly feature the model needs
  | 'fetch-failed' // network error, CORS refusal, or the connection dropped mid-download
  | 'http-error' // the server answered with a non-2xx status
  | 'not-wasm' // the bytes are not WebAssembly at all (e.g. an HTML page)
  | 'invalid-wasm' // WebAssembly magic but the module does not compile (truncated, corrupt)
  | 'not-a-model' // valid WebAssembly that is not an ml-widgets model
  | 'unsupported-version' // a model format this runtime does not know
  | 'bad-meta' // the ml.meta section is unreadable or inconsistent
  | 'has-imports' // the module imports something: models must be self-contained
  | 'memory-mismatch' // the module's memory differs from its declared plan
  | 'bad-input' // the input does not fit the model
  | 'missing-input' // run() was not given one of the model's inputs (or given one it does not have)
  | 'dtype-mismatch' // an input's data is not of the element type the model takes
  | 'shape-mismatch' // an input's shape does not fit the model (rank, a fixed size, data length, sizes that must agree)
  | 'shape-out-of-bounds' // a symbolic dimension beyond the bounds the model was compiled for
  | 'integrity' // the bytes do not match the given Subresource Integrity hash
  | 'csp' // the page's Content-Security-Policy forbids compiling WebAssembly ('wasm-unsafe-eval' is missing)
  | 'out-of-memory' // the browser could not give the model its memory (too many models alive at once)
  | 'trap' // the model failed while running (a WebAssembly trap: a damaged or hostile file)
  | 'timeout' // a prediction in the worker ran past its deadline, so the worker was stopped
  | 'thread-failed' // a worker of the model's threads failed to start or ended mid-call (the model goes on with one thread)
  | 'aborted'; // the caller aborted the load

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
  }
}

/** A failure inside a worker's call as a ModelError: a trap in the model, else bad input (posted to the page). */
export function asModelError(err: unknown): ModelError {
  if (err instanceof ModelError) return err;
  return new ModelError(
    err instanceof WebAssembly.RuntimeError ? 'trap' : 'bad-input',
    String((err as Error)?.message ?? err),
  );
}

export function abortError(signal?: AbortSignal): ModelError {
  const reason = signal?.reason;
  return new ModelError('aborted', reason instanceof Error ? reason.message : 'The model load was aborted.', {
    cause: reason,
  });
}

/**
 * What the engine's own failure to compile or instantiate means, when it is not about the file: a page
 * whose Content-Security-Policy forbids WebAssembly (the engine's message names the directive), or no
 * memory left for another instance. Undefined for anything else.
 */
export function engineRefusal(err: unknown, where: string): ModelError | undefined {
  const message = String((err as Error)?.message ?? err);
  if (/content.security.policy|\bCSP\b|unsafe-eval/i.test(message)) {
    return new ModelError(
      'csp',
      `The page's Content-Security-Policy does not let ${where} compile: add 'wasm-unsafe-eval' to its script-src directive (script-src 'self' 'wasm-unsafe-eval'). The browser said: ${message}`,
      { cause: err },
    );
  }
  if (/out of memory|could not allocate|cannot allocate/i.test(message)) {
    return new ModelError(
      'out-of-memory',
      `The browser has no memory left for ${where} (${message}). Each model keeps its own memory while an element or a variable holds it: too many are alive at once. Remove the elements you no longer show, or reload the page.`,
      { cause: err },
    );
  }
  return undefined;
}
