import { META_FORMAT, META_VERSION, type ImagePreprocessing, type ModelMeta } from '../runtime/meta.js';
import { VERSION } from '../runtime/version.js';
import { loadKernels } from './emit/kernels.js';
import { emitModel } from './emit/module.js';
import { CompileError } from './errors.js';
import { fuseEpilogues } from './fuse.js';
import { constInputs, type ConstOption } from './lowering/consts.js';
import { lowerModel } from './lowering/lower.js';
import { parseDimOption, type DimOption } from './shape/symbols.js';
import { describe } from './metadata.js';
import { decodeOnnx, type OnnxModel } from './onnx.js';
import { opsChangedSince } from './legacy-opsets.js';
import { planMemory } from './plan.js';

export interface CompileOptions {
  /** Class labels, index-aligned with the scores; default: the ONNX metadata_props "labels". */
  labels?: string[];
  /**
   * Symbolic dimensions by name (a `dim_param`, or `input[axis]` for an unnamed one): a number fixes one
   * (specialised code), `'..MAX'` or `'MIN..MAX'` (or { min, max }) bounds it. Others get a default bound.
   */
  dims?: Record<string, number | string | DimOption>;
  /** Inputs fixed at compile time: they fold away (an If on them is decided here). */
  consts?: Record<string, ConstOption>;
  /** The same as `consts` (the CLI's `--const`); both may be given, for different inputs. */
  const?: Record<string, ConstOption>;
  /** Rows per call for a model whose graph keeps rows apart (a bound on its batch dimension). */
  maxBatch?: number;
  /** Use relaxed SIMD (fused multiply-add): faster, but only for browsers that have it. */
  relaxedSimd?: boolean;
  /** The kernel library bytes; default: dist/kernels.wasm (or kernels-relaxed.wasm) beside the compiler. */
  kernels?: Uint8Array;
  /** Export every kernel call as `step<i>:<kernel>(rows)` too, for profiling. */
  exportSteps?: boolean;
  /** false: leave out what running on several threads needs (its exports and `meta.threads`); default true. */
  threads?: boolean;
  /** Task override; default: inferred from the outputs. */
  task?: ModelMeta['task'];
  /** The model takes images: how to preprocess them (missing fields are inferred from the input shape). */
  image?: Partial<Omit<ImagePreprocessing, 'type' | 'layout'>>;
}

export interface CompileResult {
  wasm: Uint8Array;
  meta: ModelMeta;
}

export const MIN_OPSET = 1;
export const MAX_OPSET = 21;

/**
 * Compile ONNX model bytes into one self-contained `.wasm` model file. Every failure is a CompileError:
 * anything else escaping is a compiler bug, still reported as one (code 'internal').
 */
export async function compile(onnxBytes: Uint8Array, options: CompileOptions = {}): Promise<CompileResult> {
  try {
    return await compileModel(onnxBytes, options);
  } catch (err) {
    if (err instanceof CompileError) throw err;
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new CompileError(
      'internal',
      `Internal compiler error (${what}). The model is probably malformed in a way the compiler does not check yet; please report it with the model.`,
    );
  }
}

/**
 * The compiler is this list of passes, each in its own module:
 *   decode    ONNX protobuf → graph                                               onnx.ts
 *   check     the opsets are ones we compile                                      (below)
 *   lower     fold constant subgraphs; lower the rest to kernel calls over buffers lowering/, ops/
 *   fuse      per-column affine maps and activations into GEMM/conv epilogues     fuse.ts
 *   pack      weights laid out for their kernels, now that fusion settled them    program.ts
 *   plan      buffer lifetimes, rows per call, arena offsets                      plan.ts
 *   describe  what ml.meta says: inputs, outputs, labels, task, preprocessing     metadata.ts
 *   emit      kernels + run() + weights + ml.meta as one module                   emit.ts
 */
async function compileModel(onnxBytes: Uint8Array, options: CompileOptions): Promise<CompileResult> {
  const model = decodeOnnx(onnxBytes);
  checkOpsets(model);
  const dims = Object.fromEntries(Object.entries(options.dims ?? {}).map(([name, v]) => dimOption(name, v)));
  const lowered = lowerModel(model, { dims, consts: constInputs(model, { ...options.const, ...options.consts }) });
  const { program } = lowered;
  if (options.maxBatch !== undefined && lowered.rows) {
    const rows = program.symbols.get(lowered.rows.symbol)!;
    if (!rows.flagged) Object.assign(rows, { max: Math.max(1, Math.floor(options.maxBatch)), flagged: true });
  }
  fuseEpilogues(
    program,
    lowered.outputs.map((o) => o.value),
  );
  program.finishData();
  const plan = planMemory(lowered);
  const description = describe(model, lowered, options);
  let meta: ModelMeta | undefined;
  const wasm = emitModel({
    kernels: options.kernels ?? (await loadKernels(!!options.relaxedSimd)),
    relaxedSimd: !!options.relaxedSimd,
    program,
    inputs: lowered.inputs.map((i) => i.value),
    outputs: lowered.outputs.map((o) => o.value),
    maxBatch: plan.maxBatch,
    arenaBytes: plan.arenaBytes,
    tableBytes: plan.tableBytes,
    exportSteps: options.exportSteps,
    threads: options.threads,
    meta: ({ memoryBytes, weightBytes, kernels, checks, threads }) => {
      meta = {
        format: META_FORMAT,
        version: META_VERSION,
        producer: { name: 'ml-widgets', version: VERSION },
        source: {
          producer: `${model.producer} ${model.producerVersion}`.trim(),
          producerVersion: model.producerVersion,
          opset: model.opsets['ai.onnx'],
          domains: model.opsets,
        },
        ...description,
        features: options.relaxedSimd ? ['simd', 'relaxed-simd'] : ['simd'],
        ops: lowered.ops.sort(),
        kernels,
        weightBytes,
        arenaBytes: plan.arenaBytes,
        peakLiveBytes: plan.peakLiveBytes,
        memoryBytes,
        symbols: program.symbols.all.map(({ name, min, max, kind, flagged }) => ({
          name,
          min,
          max,
          kind,
          ...(flagged ? { flagged } : {}),
        })),
        rows: lowered.rows ?? null,
        maxBatch: plan.maxBatch,
        checks,
        ...(threads ? { threads } : {}),
      };
      return new TextEncoder().encode(JSON.stringify(meta));
    },
  });
  return { wasm, meta: meta! };
}

/** A `dims` entry as the symbol table takes it (strings parse like the CLI's --dim). */
function dimOption(name: string, v: number | string | DimOption): [string, DimOption] {
  if (typeof v === 'object') return [name, v];
  return parseDimOption(`${name}=${v}`);
}

/** The check pass: the model's ai.onnx opset is one we compile. */
function checkOpsets(model: OnnxModel): void {
  const opset = model.opsets['ai.onnx'];
  // Pure ai.onnx.ml graphs (onnxmltools' XGBoost exports) may declare any ai.onnx opset: it is unused.
  const usesCoreOps = model.graph.nodes.some((n) => n.domain === 'ai.onnx');
  if (!usesCoreOps) return;
  // Below opset 7, each op must be one whose old definition the compiler reads (compiler/legacy-opsets.ts).
  const changed = opset < 7 ? opsChangedSince(model, opset) : [];
  if (changed.length)
    throw new CompileError(
      'unsupported-ops',
      `The model uses ONNX opset ${opset}, where ${changed.join(', ')} ${changed.length > 1 ? 'have' : 'has'} a definition ml-widgets does not read (it reads them as defined from opset 7 on). Re-export it with opset_version 7 or later.`,
    );
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new CompileError(
      'unsupported-ops',
      `The model uses ONNX opset ${opset}; ml-widgets compiles opsets ${MIN_OPSET}–${MAX_OPSET}. Re-export it with opset_version between them.`,
    );
  }
}
