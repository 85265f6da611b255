import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { bytesOf } from '../lowering/storage.js';
import { buf, data, f32, i32, onnxTypeOf, slot, type PtrArg, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { boundsOf, sameSize } from '../shape/size.js';
import { Tensor } from '../tensor.js';

/**
 * HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix (17) as onnxruntime computes them
 * (assembly/signal.ts). Their output sizes are input values: folded when those are constants, otherwise
 * computed sizes (`window`, `spectrogram_bins`, `mel_bins`) bounded by the defaults below, which
 * `--dim NAME=..MAX` changes. Float output only (output_datatype 1).
 */

/** Default bounds of sizes read from run-time inputs: a 65536-sample window, a 4096-point DFT's 2049 bins. */
const WINDOW_DEFAULT = 65536;
const BINS_DEFAULT = 2049;
const MELS_DEFAULT = 256;

const f = Math.fround;

/** The f32 coefficients a0, a1, a2 onnxruntime uses. */
const WINDOWS: Record<string, [number, number, number]> = {
  HannWindow: [0.5, 0.5, 0],
  HammingWindow: [f(25 / 46), f(1 - f(25 / 46)), 0],
  BlackmanWindow: [f(0.5 - f(f(0.16) / 2)), 0.5, f(f(0.16) / 2)],
};

function checkFloatOutput(ctx: NodeContext): void {
  const t = ctx.int('output_datatype', 1);
  if (t !== 1)
    throw new NodeProblem(
      `output_datatype ${t} is not supported yet; only 1 (float) is: add a Cast after the op`,
      'unsupported-ops',
    );
}

interface Scalar {
  ptr: PtrArg;
  reads: RtValue[];
  bytes: number;
  /** The value when it is a constant. */
  value?: number;
}

/** A scalar input (shape [] or [1]) of ONNX type `type`, read by a kernel through a pointer. */
function scalar(ctx: NodeContext, i: number, what: string, type: 'int64' | 'float32'): Scalar {
  const v = ctx.input(i);
  if (!v) throw new NodeProblem(`${what} (input ${i}) is missing`, 'invalid-graph');
  const t = onnxTypeOf(v);
  const ok = type === 'int64' ? t === 'int64' || t === 'int32' : t === 'float32';
  if (!ok)
    throw new NodeProblem(`${what} is ${t}; it must be ${type === 'int64' ? 'int64 or int32' : type}`, 'invalid-graph');
  if (v.kind === 'shape') throw new NodeProblem(`${what} cannot be a shape`, 'unsupported-ops');
  const dims = v.kind === 'const' ? v.tensor.dims : v.dims;
  if (!(dims.length === 0 || (dims.length === 1 && sameSize(dims[0], 1))))
    throw new NodeProblem(`${what} must be a scalar, got ${shapeToString(dims)}`, 'invalid-graph');
  if (v.kind === 'const') {
    const storage = type === 'int64' ? 'int64' : 'float32';
    const value = v.tensor.numbers[0];
    return { ptr: data(ctx.program.addData(bytesOf(v.tensor, storage))), reads: [], bytes: 8, value };
  }
  const rt = ctx.rtAny(i);
  return { ptr: buf(rt), reads: [rt], bytes: rt.dtype === 'int32' ? 4 : rt.dtype === 'int64' ? 8 : 4 };
}

/** The window on constants, in onnxruntime's arithmetic (f64 cosines, then f32). */
export function cosineWindow(size: number, [a0, a1, a2]: number[], periodic: boolean): number[] {
  const step = (2 * 3.14159265) / (periodic ? size : size - 1);
  return Array.from(
    { length: size },
    (_, i) => a0 - a1 * Math.cos(step * i) + (a2 === 0 ? 0 : a2 * Math.cos(2 * step * i)),
  );
}

function windowOp(name: string): OpHandler {
  const coefficients = WINDOWS[name];
  return {
    inputs: 'size',
    fold(ctx, [size]) {
      checkFloatOutput(ctx);
      const n = size!.numbers[0];
      if (!(n >= 1)) throw new NodeProblem(`the window size is ${n}; it must be at least 1`, 'invalid-graph');
      return [Tensor.fromNumbers('float32', [n], cosineWindow(n, coefficients, ctx.int('periodic', 1) !== 0))];
    },
    lower(ctx) {
      checkFloatOutput(ctx);
      const size = scalar(ctx, 0, 'the window size', 'int64');
      const count = ctx.symbols.computed('window', WINDOW_DEFAULT, true);
      const bound = boundsOf(count, (s) => ctx.symbols.range(s))[1];
      const y = ctx.newValue([count]);
      ctx.program.addStep(
        'cosine_window',
        () => ({
          size: size.ptr,
          y: buf(y),
          count: slot(count),
          sizeBytes: i32(size.bytes),
          bound: i32(bound),
          a0: f32(coefficients[0]),
          a1: f32(coefficients[1]),
          a2: f32(coefficients[2]),
          periodic: i32(ctx.int('periodic', 1) !== 0 ? 1 : 0),
        }),
        size.reads,
        [y],
      );
      ctx.output(0, y);
    },
  };
}

const hzToMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number) => 700 * (10 ** (mel / 2595) - 1);

/** MelWeightMatrix on constants, as the kernel computes it. */
function melWeights(M: number, D: number, R: number, lo: number, hi: number): Tensor {
  const bins = Math.floor(D / 2) + 1;
  const lowest = Math.floor(f(f(f(D + 1) * lo) / f(R)));
  const highest = Math.floor(f(f(f(D + 1) * hi) / f(R)));
  if (!(M > 0 && D > 0 && R > 0 && lowest >= 0 && lowest < bins && highest >= 0 && highest < bins))
    throw new NodeProblem(
      `the mel filterbank of ${M} bands from ${lo} Hz to ${hi} Hz does not fit a ${D}-point DFT at ${R} Hz`,
      'invalid-graph',
    );
  const y = new Float32Array(bins * M);
  const [lowMel, highMel] = [hzToMel(lo), hzToMel(hi)];
  const step = (highMel - lowMel) / (M + 2);
  const points = Array.from({ length: M + 2 }, (_, i) => Math.floor(((D + 1) * melToHz(lowMel + step * i)) / R));
  for (let i = 0; i < M; i++) {
    const [left, center, right] = [points[i], points[i + 1], points[i + 2]];
    const rise = center - left;
    if (rise === 0) {
      if (center >= 0 && center < bins) y[center * M + i] = 1;
    } else for (let j = Math.max(left, 0); j <= center && j < bins; j++) y[j * M + i] = f(j - left) / f(rise);
    const fall = right - center;
    if (fall > 0) for (let j = Math.max(center, 0); j < right && j < bins; j++) y[j * M + i] = f(right - j) / f(fall);
  }
  return Tensor.fromNumbers('float32', [bins, M], y);
}

const melWeightMatrix: OpHandler = {
  inputs: 'num_mel_bins dft_length sample_rate lower_edge_hertz upper_edge_hertz',
  fold(ctx, [m, d, r, lo, hi]) {
    checkFloatOutput(ctx);
    const n = (t: Tensor | undefined) => t!.numbers[0];
    return [melWeights(n(m), n(d), n(r), n(lo), n(hi))];
  },
  lower(ctx) {
    checkFloatOutput(ctx);
    const mels = scalar(ctx, 0, 'num_mel_bins', 'int64');
    const dft = scalar(ctx, 1, 'dft_length', 'int64');
    const rate = scalar(ctx, 2, 'sample_rate', 'int64');
    const lower = scalar(ctx, 3, 'lower_edge_hertz', 'float32');
    const upper = scalar(ctx, 4, 'upper_edge_hertz', 'float32');
    const exact = (v: number | undefined) => (v === undefined ? undefined : Math.max(0, v));
    const rowsMax = exact(dft.value === undefined ? undefined : Math.floor(dft.value / 2) + 1);
    const rows = ctx.symbols.computed('spectrogram_bins', rowsMax ?? BINS_DEFAULT, rowsMax === undefined);
    const cols = ctx.symbols.computed('mel_bins', exact(mels.value) ?? MELS_DEFAULT, mels.value === undefined);
    const top = (s: typeof rows) => boundsOf(s, (n) => ctx.symbols.range(n))[1];
    const y = ctx.newValue([rows, cols]);
    const scratch = ctx.newValue([top(cols) + 2], 'int32');
    ctx.program.addStep(
      'mel_weight_matrix',
      () => ({
        mels: mels.ptr,
        dft: dft.ptr,
        rate: rate.ptr,
        lower: lower.ptr,
        upper: upper.ptr,
        y: buf(y),
        rows: slot(rows),
        cols: slot(cols),
        scratch: buf(scratch),
        melsBytes: i32(mels.bytes),
        dftBytes: i32(dft.bytes),
        rateBytes: i32(rate.bytes),
        rowBound: i32(top(rows)),
        colBound: i32(top(cols)),
      }),
      [...mels.reads, ...dft.reads, ...rate.reads, ...lower.reads, ...upper.reads],
      [y, scratch],
    );
    ctx.output(0, y);
  },
};

export const SIGNAL_OPS: Record<string, OpHandler> = {
  HannWindow: windowOp('HannWindow'),
  HammingWindow: windowOp('HammingWindow'),
  BlackmanWindow: windowOp('BlackmanWindow'),
  MelWeightMatrix: melWeightMatrix,
};
