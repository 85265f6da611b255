/**
 * From a compiled module to a Model, refusing anything that is not one of our models before and after it
 * is instantiated: one readable `ml.meta` of a known format and version whose fields hold what they claim
 * (meta-check.ts), no imports (a threaded model: exactly one, its shared memory of the planned size), no
 * start function, exactly the memory its plan declares, and exports whose answers agree with the metadata
 * (a `maxBatch()` of 0 would loop forever in `predict`, a pointer outside memory would read or write out
 * of bounds).
 */
import { engineRefusal, ModelError } from './errors.js';
import { missingWasmFeatures } from './features.js';
import { checkMeta } from './meta-check.js';
import { MAX_MODEL_MEMORY, META_FORMAT, META_SECTION, META_VERSION, rowSize, type ModelMeta } from './meta.js';
import { Model, type ModelExports } from './model.js';
import type { ModuleShape } from './sections.js';
import { dropIdleModels } from './shared-loads.js';
import { headerWords } from './abi.js';
import { STORAGE_BYTES, storageOf } from './tensors.js';
import { SHARED_MEMORY_IMPORT, sharedMemoryFor } from './threads/shared-module.js';

/** The module and memory each model was instantiated from (its threads instantiate the same). */
export const origins = new WeakMap<
  Model,
  { module: WebAssembly.Module; memory?: WebAssembly.Memory; exports: ModelExports }
>();

const ABI_FUNCTIONS = ['run', 'inputPtr', 'outputPtr', 'headerPtr', 'maxBatch'];

/**
 * Check the module, then instantiate it. `shape` comes from the module's bytes (see SectionScanner): null
 * if it could not be read (refused); without it a start function cannot be ruled out and memory is checked
 * only after instantiation.
 */
export async function instantiate(
  module: WebAssembly.Module,
  where: string,
  shape?: ModuleShape | null,
  /** The loader turned the module's memory into an import of a shared one (threads/shared-module.ts). */
  rewritten = false,
): Promise<Model> {
  const meta = readMeta(module, where);
  const imports = WebAssembly.Module.imports(module);
  const { module: env, name } = SHARED_MEMORY_IMPORT;
  const threaded =
    imports.length === 1 && imports[0].module === env && imports[0].name === name && imports[0].kind === 'memory';
  if (imports.length > 0 && !threaded) {
    throw new ModelError(
      'has-imports',
      `${where} imports ${imports.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ')}; ml-widgets models must be self-contained (a threaded model imports exactly one thing, its shared memory ${env}.${name}), so it was not run.`,
    );
  }
  const missing = missingWasmFeatures(meta.features ?? []);
  if (missing.length) {
    throw new ModelError(
      'unsupported',
      `${where} needs WebAssembly ${missing.join(', ')}, which this browser lacks. Compile the model without it (the default) to run here.`,
    );
  }
  const exported = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  const absent = ['memory', ...ABI_FUNCTIONS].filter((name) => !exported.has(name));
  if (absent.length) throw new ModelError('not-a-model', `${where} lacks the model exports ${absent.join(', ')}.`);
  const wrongKind = ABI_FUNCTIONS.filter((name) => exported.get(name) !== 'function');
  if (exported.get('memory') !== 'memory') wrongKind.unshift('memory');
  if (wrongKind.length)
    throw new ModelError('not-a-model', `${where} exports ${wrongKind.join(', ')} as the wrong kind of value.`);
  if (shape === null) {
    throw new ModelError(
      'memory-mismatch',
      `${where} has over 1 MiB of sections before its code, so its memory could not be checked; it was not run.`,
    );
  }
  if (shape) {
    if (threaded && !rewritten) checkImportedMemory(shape, meta, where);
    else checkDeclaredMemory(shape, meta, where);
  }
  const memory = threaded ? sharedMemory(meta, where) : undefined;
  const exports = (await instantiateOnce(module, where, memory ? { env: { memory } } : {}))
    .exports as unknown as ModelExports;
  checkMemoryPlan(exports.memory, meta, where);
  checkExports(exports, meta, where);
  const model = new Model(meta, exports);
  origins.set(model, { module, memory, exports });
  return model;
}

/** A threaded model's memory: shared, exactly the planned size, unable to grow. */
function sharedMemory(meta: ModelMeta, where: string): WebAssembly.Memory {
  try {
    return sharedMemoryFor(meta);
  } catch (err) {
    throw (
      engineRefusal(err, where) ??
      new ModelError(
        'unsupported',
        `${where} is a threaded model, and this browser cannot make its shared memory (${(err as Error).message}).`,
        { cause: err },
      )
    );
  }
}

/**
 * A threaded model file (its memory imported, not defined): exactly one imported memory, env.memory,
 * shared, its initial size the planned one and its maximum the same, and no memory of its own.
 */
function checkImportedMemory(shape: ModuleShape, meta: ModelMeta, where: string): void {
  const [memory, ...more] = shape.importedMemories;
  const declared = `declares ${meta.memoryBytes} bytes of memory`;
  if (!memory || more.length || shape.memories.length) {
    throw new ModelError(
      'memory-mismatch',
      `${where} ${declared} but imports ${shape.importedMemories.length} memories and defines ${shape.memories.length}; a threaded model imports exactly its one shared memory. It was not run.`,
    );
  }
  const bytes = memory.initial * 65536;
  if (bytes !== meta.memoryBytes || memory.maximum !== memory.initial || !memory.shared || memory.memory64) {
    const max = memory.maximum === undefined ? 'no maximum' : `a maximum of ${memory.maximum * 65536} bytes`;
    throw new ModelError(
      'memory-mismatch',
      `${where} ${declared} but imports ${memory.shared ? 'a shared' : 'an unshared'} memory of ${bytes} bytes with ${max}; a threaded model's shared memory is exactly its planned size. It was not run.`,
    );
  }
}

/** The one `ml.meta` section, parsed and checked. */
function readMeta(module: WebAssembly.Module, where: string): ModelMeta {
  const sections = WebAssembly.Module.customSections(module, META_SECTION);
  if (sections.length === 0) {
    throw new ModelError(
      'not-a-model',
      `${where} is a WebAssembly module but not an ml-widgets model (no "${META_SECTION}" section). Compile an ONNX model with "ml-widgets compile".`,
    );
  }
  if (sections.length > 1) {
    throw new ModelError(
      'bad-meta',
      `${where} has ${sections.length} "${META_SECTION}" sections; a compiled model has exactly one, so which one describes it cannot be told. Compile the model again.`,
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
  checkMeta(meta, where);
  return meta;
}

/**
 * Instantiate; when the engine has no memory left, let go of the models kept only for their grace
 * period and try once more (the engine collects what nobody holds when an allocation needs the room).
 */
async function instantiateOnce(
  module: WebAssembly.Module,
  where: string,
  imports: WebAssembly.Imports,
): Promise<WebAssembly.Instance> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await WebAssembly.instantiate(module, imports);
    } catch (err) {
      const refusal = engineRefusal(err, where);
      if (refusal?.code === 'out-of-memory' && attempt === 0) {
        dropIdleModels();
        continue;
      }
      throw (
        refusal ??
        new ModelError('invalid-wasm', `${where} could not be instantiated (${(err as Error).message}).`, {
          cause: err,
        })
      );
    }
  }
}

/**
 * Before anything runs: one fixed-size memory of exactly the planned bytes (so a model cannot make
 * the page allocate more than `ml.meta` says), and no start function (nothing executes on instantiate).
 */
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

/**
 * The exports' answers agree with the metadata: `maxBatch()` is the declared whole number ≥ 1, the I/O
 * header lies inside memory, and every input and output pointer is aligned with room for its largest
 * tensor (fixed shapes, or `maxBatch` rows; other symbolic sizes are checked by the model on each call).
 */
function checkExports(exports: ModelExports, meta: ModelMeta, where: string): void {
  const refuse = (what: string): never => {
    throw new ModelError(
      'not-a-model',
      `${where} does not behave as its "${META_SECTION}" says: ${what}. It is damaged or not made by ml-widgets, so it was not run.`,
    );
  };
  const answer = (name: string, call: () => number): number => {
    try {
      return call();
    } catch (err) {
      return refuse(`${name} fails (${(err as Error).message})`);
    }
  };
  const maxBatch = answer('maxBatch()', () => exports.maxBatch());
  if (maxBatch !== meta.maxBatch || !(maxBatch >= 1))
    refuse(`maxBatch() returns ${maxBatch}, but the metadata declares ${meta.maxBatch} rows per call`);
  for (const [side, count, declared] of [
    ['input', exports.inputCount, meta.inputs.length],
    ['output', exports.outputCount, meta.outputs.length],
  ] as const) {
    const n = count ? answer(`${side}Count()`, () => count()) : declared;
    if (n !== declared) refuse(`${side}Count() returns ${n}, but the metadata declares ${declared} ${side}s`);
  }
  const size = exports.memory.buffer.byteLength;
  const header = answer('headerPtr()', () => exports.headerPtr());
  const words = headerWords(
    meta.inputs.map((t) => t.shape.length),
    meta.outputs.map((t) => t.shape.length),
  ).total;
  if (header % 4 !== 0 || header < 0 || header + words * 4 > size)
    refuse(`headerPtr() is ${header}, which leaves no room for its ${words} words in its ${size} bytes of memory`);
  for (const [side, tensors, ptr] of [
    ['input', meta.inputs, (i: number) => exports.inputPtr(i)],
    ['output', meta.outputs, (i: number) => exports.outputPtr(i)],
  ] as const) {
    tensors.forEach((t, i) => {
      const at = answer(`${side}Ptr(${i})`, () => ptr(i));
      const element = STORAGE_BYTES[storageOf(t)];
      const fixed = t.shape.every((d) => typeof d === 'number');
      const elements = fixed
        ? (t.shape as number[]).reduce((a, d) => a * d, 1)
        : meta.rows
          ? maxBatch * rowSize(t)
          : NaN;
      const bytes = elements * element;
      if (at % element !== 0)
        refuse(`${side}Ptr(${i}) is ${at}, not a multiple of ${element} (the size of its elements)`);
      if (at < 0 || at > size || (Number.isFinite(bytes) && at + bytes > size))
        refuse(
          `${side}Ptr(${i}) is ${at}, which leaves no room for "${t.name}" (${bytes} bytes) in its ${size} bytes of memory`,
        );
    });
  }
}
