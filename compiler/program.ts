import type { KernelArgs, KernelName } from './abi/kernels.js';
import { isConst, mul, product, sameSize, symbolName, type Size } from './shape/size.js';
import type { SymbolTable } from './shape/symbols.js';
import type { DataType, Tensor } from './tensor.js';

/**
 * The lowered model: kernel calls over planned buffers and constant data, with every size an expression
 * over the model's symbolic dimensions (compiler/shape/). Everything the emitter needs, nothing ONNX-specific.
 */

/** A region of the arena, planned at its size's upper bound. */
export interface Buffer {
  id: number;
  bytes: Size;
  /** Step indices of first write and last read; -1 / Infinity for graph inputs / outputs. */
  first: number;
  last: number;
  /** Reads still to be lowered, to decide when an op may overwrite its input in place. */
  pendingReads: number;
  /** Byte offset from the memory plan. */
  offset: number;
  /** Set when a pass merged this buffer into another (a fused step's output is its GEMM's output). */
  mergedInto?: Buffer;
}

/** The buffer a buffer stands for after passes merged buffers. */
export function resolve(b: Buffer): Buffer {
  while (b.mergedInto) b = b.mergedInto;
  return b;
}

/** How a run-time tensor's elements are held in memory (ONNX element type names). */
export type Storage = 'float32' | 'int32' | 'int64' | 'uint8' | 'int8';

export const ELEMENT_BYTES: Record<Storage, number> = { float32: 4, int32: 4, int64: 8, uint8: 1, int8: 1 };

/** A tensor computed at run time. */
export interface RtValue {
  kind: 'rt';
  dims: Size[];
  buffer: Buffer;
  /** What memory holds. */
  dtype: Storage;
  /**
   * The ONNX element type, where it differs from what memory holds: booleans computed as 1/0 floats,
   * int64 class indices held as int32.
   */
  onnx?: DataType;
  /** An int32 value that indexes these class values (ArrayFeatureExtractor over a constant class list). */
  categories?: (string | number)[];
  /**
   * The axis that runs over the rows of the batch, while no op has mixed rows; 'none' for a value that
   * does not depend on the rows at all (a Range over a sequence length); undefined once rows are mixed.
   * A graph whose outputs keep the rows on axis 0 may run a batch in chunks (compiler/lowering/rows.ts).
   */
  rowAxis?: number | 'none';
  /** 'nhwc': an image value [k, C, …spatial] held channels-last in memory (compiler/lowering/layout.ts). */
  layout?: 'nhwc';
  /** Probabilities a ZipMap labelled: these labels become the model's labels. */
  zipMapLabels?: string[];
}

export interface ConstValue {
  kind: 'const';
  tensor: Tensor;
}

/**
 * A small integer tensor (rank 0 or 1) known at compile time up to symbols: what Shape gives, and the
 * Gather/Concat/Slice/arithmetic of shape subgraphs keep it so, until a Reshape or Expand consumes it.
 */
export interface ShapeValue {
  kind: 'shape';
  /** [] for a scalar, [n] for a vector. */
  dims: number[];
  values: Size[];
}

export type Value = RtValue | ConstValue | ShapeValue;

/** The ONNX element type of a value. */
export function onnxTypeOf(v: Value): DataType {
  if (v.kind === 'const') return v.tensor.dtype;
  if (v.kind === 'shape') return 'int64';
  return v.onnx ?? v.dtype;
}

/**
 * What a GEMM or convolution applies to its output columns as it writes them: a per-column scale (folded
 * into the weights when they are packed), a bias, an activation. The fusion pass (compiler/fuse.ts) grows it
 * from the steps that follow.
 */
export interface GemmEpilogue {
  n: number;
  /** Per-column scale, folded into the weights when they are packed (BatchNormalization, Mul). */
  scale: Float32Array | null;
  bias: Float32Array | null;
  act: number;
  p0: number;
  p1: number;
}

/** Constant bytes (weights, tables) in the data segment; `offset` is relative to the segment start. */
export interface DataRef {
  offset: number;
  bytes: number;
}

/** A table of i32 sizes some of which are known only at run time: written before the step that reads it. */
export interface RuntimeTable {
  id: number;
  values: Size[];
  /** Byte offset in the table area, from the memory plan. */
  offset: number;
}

/**
 * An address argument: into the arena (a buffer, `off` bytes in), into the data segment, a run-time table,
 * a symbol's i32 slot (for kernels that compute a size), or none (0).
 */
export type PtrArg =
  | { t: 'buf'; b: Buffer; off?: Size }
  | { t: 'data'; d: DataRef }
  | { t: 'table'; table: RuntimeTable }
  | { t: 'slot'; symbol: string }
  | { t: 'null' };
/** An i32 argument: a size (a constant or an expression over symbols, evaluated per call). */
export type I32Arg = { t: 'i32'; v: Size };
export type F32Arg = { t: 'f32'; v: number };
export type Arg = PtrArg | I32Arg | F32Arg;

/** A kernel call's arguments by parameter name, typed by the kernel table (compiler/abi/kernels.ts). */
export type StepArgs<K extends KernelName> = KernelArgs<K, { ptr: PtrArg; i32: I32Arg; f32: F32Arg }>;

/**
 * What a step computes that a GEMM's epilogue could do instead, when the step is the only reader of the
 * GEMM's output: y = x·scale + bias per output column (a constant `channels` long, or one value for all), or
 * an activation (CODES.ACT).
 */
export type EpilogueOp =
  | { kind: 'affine'; scale: Float32Array | null; bias: Float32Array | null; channels: number }
  | { kind: 'activation'; act: number; p0: number; p1: number };

/** One kernel call. */
export interface KernelStep {
  kernel: KernelName;
  /** Resolved at emit time, so fusion can still change a step after it was added. */
  args: () => Record<string, Arg>;
  reads: Buffer[];
  writes: Buffer[];
  /** A GEMM or convolution step: the epilogue it applies (shared by the steps of one grouped convolution). */
  epilogue?: GemmEpilogue;
  /** A step the fusion pass may fold into the epilogue of the GEMM that wrote its run-time input. */
  fusable?: EpilogueOp;
  /**
   * Run-time checks before the call: each pair of sizes must be equal, else the call fails with the
   * message (an input whose sizes do not fit together, e.g. broadcast dimensions that differ).
   */
  checks?: { a: Size; b: Size; message: string }[];
  /**
   * A check of data by a kernel that returns an i32 (rnn_first_bad_length, first_index_outside, the
   * indexing kernels): the value its KernelSpec `valid` names when every entry is valid, else (offset by
   * it) the position of the first that is not. Any other result fails the call with STATUS.VALUE_INVALID,
   * a bad-input error: `message`, where `{index}` becomes that position and `{lo}`/`{hi}` the bounds
   * the entries must lie in (as the message states them), when the op has such bounds.
   */
  valueCheck?: { message: string; lo?: Size; hi?: Size };
}

/**
 * A condition read at run time: a size expression (a branch on a shape) or a scalar tensor in the arena (a
 * bool, or any number: nonzero is true).
 */
export type Condition = { kind: 'size'; size: Size } | { kind: 'value'; value: RtValue };

/**
 * Structure in the step list (If, Loop, Scan): the steps between `if` and `else`/`end` run when the
 * condition holds; a `loop` repeats the steps up to its `end` while the counter (a computed symbol, 0 at
 * the start, the trip count after) is below `trips` and `cond` (a bool scalar the body rewrites) holds;
 * `set` writes a computed size (a branch's output dims). Blocks nest; compiler/emit/run.ts builds them.
 */
export type Control =
  | { op: 'if'; cond: Condition }
  | { op: 'else' }
  | { op: 'end' }
  | { op: 'loop'; counter: string; trips?: Condition; cond?: RtValue }
  | { op: 'set'; symbol: string; value: Size };

export interface ControlStep {
  control: Control;
  reads: Buffer[];
  writes: Buffer[];
  checks?: KernelStep['checks'];
}

export type Step = KernelStep | ControlStep;

export const isKernelStep = (s: Step): s is KernelStep => 'kernel' in s;

/** Elements in a value. */
export const sizeOf = (v: RtValue): Size => product(v.dims);

/** Elements in a value (times `factor`) as a kernel argument. */
export const countArg = (v: RtValue, factor: Size = 1): I32Arg => ({ t: 'i32', v: mul(sizeOf(v), factor) });

export const i32 = (v: Size): I32Arg => ({ t: 'i32', v });
export const f32 = (v: number): F32Arg => ({ t: 'f32', v });
export const buf = (v: RtValue, off: Size = 0): PtrArg => ({ t: 'buf', b: v.buffer, off });
export const data = (d: DataRef | null): PtrArg => (d ? { t: 'data', d } : { t: 'null' });
/** The i32 slot of a computed size (SymbolTable.computed): a kernel writes the size there; see emit/run.ts. */
export function slot(s: Size): PtrArg {
  const name = symbolName(s);
  if (!name) throw new Error(`internal error: ${String(s)} is not a symbol`);
  return { t: 'slot', symbol: name };
}

/** Several arguments of one kind at once: `{ H: i32(H), W: i32(W) }` as `mapValues({ H, W }, i32)`. */
export function mapValues<T extends Record<string, Size>, A>(values: T, f: (v: Size) => A): { [K in keyof T]: A } {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, f(v)])) as { [K in keyof T]: A };
}

export class Program {
  readonly steps: Step[] = [];
  readonly buffers: Buffer[] = [];
  readonly tables: RuntimeTable[] = [];
  private readonly chunks: Uint8Array[] = [];
  private dataBytes = 0;
  /** Set once the memory is laid out: data added later would sit past the data segment's planned end. */
  private dataSealed = false;
  private readonly small = new Map<string, DataRef>();
  private readonly pending: (() => void)[] = [];
  private checks: NonNullable<Step['checks']> = [];
  /** Counts control steps: what was computed in one epoch may not have run in another (If branches, loops). */
  controlEpoch = 0;

  constructor(readonly symbols: SymbolTable) {}

  /** A run-time check the next kernel call waits for (see Step.checks). */
  requireBeforeNextStep(a: Size, b: Size, message: string): void {
    if (sameSize(a, b)) return;
    this.checks.push({ a, b, message });
    this.symbols.noteEquality(a, b);
  }

  /** The kernels the steps call (after fusion removed some). */
  get kernels(): Set<KernelName> {
    return new Set(this.steps.filter(isKernelStep).map((s) => s.kernel));
  }

  /** Defer adding data until lowering is done (GEMM weights, once fusion has settled their scale). */
  beforeLayout(fn: () => void): void {
    this.pending.push(fn);
  }

  /** Run deferred data additions; the data segment is final afterwards. */
  finishData(): void {
    this.pending.splice(0).forEach((fn) => fn());
  }

  newValue(dims: Size[], dtype: Storage = 'float32'): RtValue {
    const buffer: Buffer = {
      id: this.buffers.length,
      bytes: mul(product(dims), ELEMENT_BYTES[dtype]),
      first: Infinity,
      last: -Infinity,
      pendingReads: 0,
      offset: -1,
    };
    this.buffers.push(buffer);
    return { kind: 'rt', dims, buffer, dtype };
  }

  addStep<K extends KernelName>(kernel: K, args: () => StepArgs<K>, reads: RtValue[], writes: RtValue[]): KernelStep {
    const step: KernelStep = { kernel, args, reads: reads.map((v) => v.buffer), writes: writes.map((v) => v.buffer) };
    if (this.checks.length) step.checks = this.checks.splice(0);
    this.steps.push(step);
    return step;
  }

  /** A control step (see Control); checks pending so far are made where it stands. */
  addControl(control: Control, reads: RtValue[] = [], writes: RtValue[] = []): ControlStep {
    const step: ControlStep = { control, reads: reads.map((v) => v.buffer), writes: writes.map((v) => v.buffer) };
    if (this.checks.length) step.checks = this.checks.splice(0);
    this.steps.push(step);
    this.controlEpoch++;
    return step;
  }

  /** Run `add` (which appends steps) and move what it appended to just before `step`. */
  insertBefore(step: Step, add: () => void): void {
    const from = this.steps.length;
    add();
    const added = this.steps.splice(from);
    this.steps.splice(this.steps.indexOf(step), 0, ...added);
  }

  /** i32 sizes for a kernel that reads a table: in the data segment when all are known, else at run time. */
  addTable(values: Size[]): PtrArg {
    if (values.every(isConst)) return data(this.addInts(values as number[]));
    const table: RuntimeTable = { id: this.tables.length, values, offset: -1 };
    this.tables.push(table);
    return { t: 'table', table };
  }

  /** Add constant bytes, 16-byte aligned (GEMM panels are read with aligned v128 loads). */
  addData(bytes: Uint8Array): DataRef {
    const key = bytes.byteLength <= 256 ? Array.from(bytes).join(',') : null;
    const known = key !== null ? this.small.get(key) : undefined;
    if (known) return known;
    if (this.dataSealed)
      throw new Error('internal error: data added after the memory was laid out (add it while lowering, not at emit)');
    const pad = (16 - (this.dataBytes % 16)) % 16;
    if (pad) this.chunks.push(new Uint8Array(pad));
    const ref: DataRef = { offset: this.dataBytes + pad, bytes: bytes.byteLength };
    this.chunks.push(bytes);
    this.dataBytes += pad + bytes.byteLength;
    if (key !== null) this.small.set(key, ref);
    return ref;
  }

  addFloats(values: Float32Array): DataRef {
    return this.addData(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  addInts(values: number[]): DataRef {
    const a = Int32Array.from(values);
    return this.addData(new Uint8Array(a.buffer));
  }

  get dataSize(): number {
    return this.dataBytes;
  }

  /** The data segment's size is final (emit/module.ts lays out the memory after it). */
  sealData(): void {
    this.dataSealed = true;
  }

  dataSegment(): Uint8Array {
    const out = new Uint8Array(this.dataBytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}
