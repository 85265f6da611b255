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
  | 'integrity' // the bytes do not match the given Subresource Integrity hash
  | 'aborted'; // the caller aborted the load

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
  }
}

export function abortError(signal?: AbortSignal): ModelError {
  const reason = signal?.reason;
  return new ModelError('aborted', reason instanceof Error ? reason.message : 'The model load was aborted.', {
    cause: reason,
  });
}
