/**
 * Weight packing and scratch sizes for the recurrent kernels (assembly/rnn/, table compiler/abi/rnn.ts):
 * one direction's W, R, B, P of an ONNX LSTM, GRU or RNN into the layouts the kernels read.
 */
import { CONSTANTS } from './abi/codes.js';
import { packPanels, padBias } from './pack.js';
import { add, min, mul, type Size } from './shape/size.js';

export type RecurrentKind = 'lstm' | 'gru' | 'rnn';

/** Gates per kind, in ONNX order: LSTM i o f c, GRU z r h, RNN one. */
export const RECURRENT_GATES: Record<RecurrentKind, number> = { lstm: 4, gru: 3, rnn: 1 };

/** Columns per gate in packed weights (hidden rounded up to a SIMD vector). */
export const padHidden = (hidden: number): number => Math.ceil(hidden / 4) * 4;

export interface PackedRecurrent {
  w: Float32Array;
  r: Float32Array;
  /** null when the node has no B. */
  bias: Float32Array | null;
  /** LSTM only; null when the node has no P. */
  peephole: Float32Array | null;
}

export interface RecurrentWeights {
  kind: RecurrentKind;
  hidden: number;
  inputSize: number;
  /** ONNX W [dirs, gates·hidden, input], R [dirs, gates·hidden, hidden], B [dirs, 2·gates·hidden], P [dirs, 3·hidden], row-major. */
  W: ArrayLike<number>;
  R: ArrayLike<number>;
  B?: ArrayLike<number> | null;
  P?: ArrayLike<number> | null;
  /** GRU's linear_before_reset. */
  linearBeforeReset?: boolean;
}

/** Direction `dir`'s weights in the kernels' packed layouts (see compiler/abi/rnn.ts). */
export function packRecurrent(m: RecurrentWeights, dir: number): PackedRecurrent {
  const { kind, hidden, inputSize } = m;
  const lbr = kind === 'gru' && !!m.linearBeforeReset;
  return {
    w: packGateMatrix(kind, hidden, inputSize, m.W, dir),
    r: packGateMatrix(kind, hidden, hidden, m.R, dir),
    bias: m.B ? packGateBias(kind, hidden, m.B, dir, lbr) : null,
    peephole: kind === 'lstm' && m.P ? packPeephole(hidden, m.P, dir) : null,
  };
}

/** Packed column n's ONNX unit (gate ⌊n/Hp⌋, unit n mod Hp), or −1 for a padded column. */
const unitOf = (n: number, H: number, Hp: number): number => (n % Hp < H ? Math.floor(n / Hp) * H + (n % Hp) : -1);

/** Floats of a packed W (cols = input_size) or R (cols = hidden): whole panels over the padded gates. */
export const packedMatrixFloats = (kind: RecurrentKind, hidden: number, cols: number): number =>
  Math.ceil((RECURRENT_GATES[kind] * padHidden(hidden)) / CONSTANTS.PANEL_WIDTH) * CONSTANTS.PANEL_WIDTH * cols;

/** Floats of a packed bias (two blocks for GRU with linear_before_reset). */
export const packedBiasFloats = (kind: RecurrentKind, hidden: number, linearBeforeReset: boolean): number =>
  Math.ceil((RECURRENT_GATES[kind] * padHidden(hidden)) / CONSTANTS.PANEL_WIDTH) *
  CONSTANTS.PANEL_WIDTH *
  (linearBeforeReset ? 2 : 1);

/** Direction `dir` of ONNX W [dirs, gates·hidden, cols] or R (cols = hidden) as GEMM panels of its transpose. */
export function packGateMatrix(
  kind: RecurrentKind,
  hidden: number,
  cols: number,
  src: ArrayLike<number>,
  dir: number,
): Float32Array {
  const Hp = padHidden(hidden);
  const GH = RECURRENT_GATES[kind] * hidden;
  const at0 = dir * GH * cols;
  return packPanels(cols, RECURRENT_GATES[kind] * Hp, (k, n) => {
    const u = unitOf(n, hidden, Hp);
    return u < 0 ? 0 : src[at0 + u * cols + k];
  });
}

/** Direction `dir` of ONNX B [dirs, 2·gates·hidden] as the kernels' bias (Wb + Rb; GRU's linear_before_reset apart). */
export function packGateBias(
  kind: RecurrentKind,
  hidden: number,
  B: ArrayLike<number>,
  dir: number,
  linearBeforeReset: boolean,
): Float32Array {
  const Hp = padHidden(hidden);
  const N = RECURRENT_GATES[kind] * Hp;
  const GH = RECURRENT_GATES[kind] * hidden;
  const B0 = dir * 2 * GH;
  const unit = (n: number) => unitOf(n, hidden, Hp);
  // linear_before_reset keeps Rbh out of the projection: it is added to Ht−1·Rhᵀ before the reset gate.
  const sum = padBias(N, (n) => {
    const u = unit(n);
    if (u < 0) return 0;
    return linearBeforeReset && u >= 2 * hidden ? B[B0 + u] : B[B0 + u] + B[B0 + GH + u];
  });
  if (!linearBeforeReset) return sum;
  const rbh = padBias(N, (n) => (unit(n) >= 2 * hidden ? B[B0 + GH + unit(n)] : 0));
  const bias = new Float32Array(sum.length + rbh.length);
  bias.set(sum);
  bias.set(rbh, sum.length);
  return bias;
}

/** Direction `dir` of LSTM's ONNX P [dirs, 3·hidden] as 3 gates of Hp floats. */
export function packPeephole(hidden: number, P: ArrayLike<number>, dir: number): Float32Array {
  const Hp = padHidden(hidden);
  const peephole = new Float32Array(3 * Hp);
  for (let g = 0; g < 3; g++)
    for (let j = 0; j < hidden; j++) peephole[g * Hp + j] = P[dir * 3 * hidden + g * hidden + j];
  return peephole;
}

/**
 * The scratch a kernel call needs, in floats (16-byte aligned), for these run-time sizes: numbers, or the
 * symbolic sizes of an op handler (planned at their bounds; T = min(seq, RNN_CHUNK) keeps it from growing
 * with the sequence).
 */
export function recurrentScratchFloats(kind: RecurrentKind, seq: number, batch: number, hidden: number): number;
export function recurrentScratchFloats(kind: RecurrentKind, seq: Size, batch: Size, hidden: number): Size;
export function recurrentScratchFloats(kind: RecurrentKind, seq: Size, batch: Size, hidden: number): Size {
  const T = min(seq, CONSTANTS.RNN_CHUNK);
  const [perStep, fixed] = { lstm: [4, 6], gru: [3, 5], rnn: [1, 2] }[kind];
  return mul(mul(batch, padHidden(hidden)), add(mul(T, perStep), fixed));
}
