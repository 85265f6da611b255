import type { KernelArgs, KernelName } from './abi/kernels.js';
import { checkShape, product, type Tensor } from './tensor.js';

/**
 * The lowered model: a straight-line list of kernel calls over planned buffers and constant data.
 * Everything the emitter needs, nothing ONNX-specific.
 */

/** A region of the arena. Batched buffers hold `maxBatch` rows; their size is per row. */
export interface Buffer {
  id: number;
  /** Bytes per row (batched) or in total (unbatched). */
  rowBytes: number;
  batched: boolean;
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

/**
 * A tensor computed at run time. Axis 0 of a batched value runs over the batch: it has `rows × dims[0]`
 * entries, so `dims[0]` is 1 unless a reshape made several entries per row (e.g. [N,2,12] → [2N,12]).
 */
export interface RtValue {
  kind: 'rt';
  dims: number[];
  batched: boolean;
  buffer: Buffer;
  /** int32 holds ONNX integer tensors (class indices) at run time. */
  dtype: 'float32' | 'int32';
  /** An int32 value that indexes these class values (ArrayFeatureExtractor over a constant class list). */
  categories?: (string | number)[];
  /**
   * Where the batch is when an op moved it off axis 0 (attention's [S, N, E] transposes); only in
   * 'rowwise' mode, where each run is one row and every size is static. Undefined means 0.
   */
  batchAxis?: number;
  /** 'nhwc': an image value [k, C, …spatial] held channels-last in memory (compiler/layout.ts). */
  layout?: 'nhwc';
  /** Probabilities a ZipMap labelled: these labels become the model's labels. */
  zipMapLabels?: string[];
}

export interface ConstValue {
  kind: 'const';
  tensor: Tensor;
}

export type Value = RtValue | ConstValue;

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

/** An address argument: into the arena (a buffer, `off` bytes in), into the data segment, or none (0). */
export type PtrArg = { t: 'buf'; b: Buffer; off?: number } | { t: 'data'; d: DataRef } | { t: 'null' };
/** An i32 argument: a constant, or the run's row count times a constant (counts that scale with the batch). */
export type I32Arg = { t: 'i32'; v: number } | { t: 'rows'; times: number };
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

export interface Step {
  kernel: KernelName;
  /** Resolved at emit time, so fusion can still change a step after it was added. */
  args: () => Record<string, Arg>;
  reads: Buffer[];
  writes: Buffer[];
  /** A GEMM or convolution step: the epilogue it applies (shared by the steps of one grouped convolution). */
  epilogue?: GemmEpilogue;
  /** A step the fusion pass may fold into the epilogue of the GEMM that wrote its run-time input. */
  fusable?: EpilogueOp;
}

/** The batch axis of a value, or -1 when it has none (constants, static shapes). */
export const batchAxisOf = (v: Value): number => (v.kind === 'rt' && v.batched ? (v.batchAxis ?? 0) : -1);

/** Elements per batch row (batched) or in total. */
export const rowSize = (v: RtValue): number => product(v.dims);

/** Elements in a value: `rows × per-row` for batched values, a constant otherwise. */
export const countArg = (v: RtValue, factor = 1): I32Arg =>
  v.batched ? { t: 'rows', times: rowSize(v) * factor } : { t: 'i32', v: rowSize(v) * factor };

export const i32 = (v: number): I32Arg => ({ t: 'i32', v });
export const f32 = (v: number): F32Arg => ({ t: 'f32', v });
export const buf = (v: RtValue, off = 0): PtrArg => ({ t: 'buf', b: v.buffer, off });
export const data = (d: DataRef | null): PtrArg => (d ? { t: 'data', d } : { t: 'null' });

/** Several arguments of one kind at once: `{ H: i32(H), W: i32(W) }` as `mapValues({ H, W }, i32)`. */
export function mapValues<T extends Record<string, number>, A>(values: T, f: (v: number) => A): { [K in keyof T]: A } {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, f(v)])) as { [K in keyof T]: A };
}

export class Program {
  readonly steps: Step[] = [];
  readonly buffers: Buffer[] = [];
  private readonly chunks: Uint8Array[] = [];
  private dataBytes = 0;
  private readonly small = new Map<string, DataRef>();
  private readonly pending: (() => void)[] = [];

  /** The kernels the steps call (after fusion removed some). */
  get kernels(): Set<KernelName> {
    return new Set(this.steps.map((s) => s.kernel));
  }

  /** Defer adding data until lowering is done (GEMM weights, once fusion has settled their scale). */
  beforeLayout(fn: () => void): void {
    this.pending.push(fn);
  }

  /** Run deferred data additions; the data segment is final afterwards. */
  finishData(): void {
    this.pending.splice(0).forEach((fn) => fn());
  }

  newValue(dims: number[], batched: boolean, dtype: RtValue['dtype'] = 'float32'): RtValue {
    const buffer: Buffer = {
      id: this.buffers.length,
      rowBytes: checkShape(dims, 'a run-time tensor') * 4,
      batched,
      first: Infinity,
      last: -Infinity,
      pendingReads: 0,
      offset: -1,
    };
    this.buffers.push(buffer);
    return { kind: 'rt', dims, batched, buffer, dtype };
  }

  addStep<K extends KernelName>(kernel: K, args: () => StepArgs<K>, reads: RtValue[], writes: RtValue[]): Step {
    const step: Step = { kernel, args, reads: reads.map((v) => v.buffer), writes: writes.map((v) => v.buffer) };
    this.steps.push(step);
    return step;
  }

  /** Add constant bytes, 16-byte aligned (GEMM panels are read with aligned v128 loads). */
  addData(bytes: Uint8Array): DataRef {
    const key = bytes.byteLength <= 256 ? Array.from(bytes).join(',') : null;
    const known = key !== null ? this.small.get(key) : undefined;
    if (known) return known;
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
