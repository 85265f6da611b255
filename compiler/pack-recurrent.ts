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
  const { kind, hidden: H, inputSize: I } = m;
  const gates = RECURRENT_GATES[kind];
  const Hp = padHidden(H);
  const N = gates * Hp;
  const GH = gates * H;
  // Packed column n is gate ⌊n/Hp⌋, unit n mod Hp; -1 for padding.
  const unit = (n: number): number => (n % Hp < H ? Math.floor(n / Hp) * H + (n % Hp) : -1);
  const W0 = dir * GH * I;
  const R0 = dir * GH * H;
  const w = packPanels(I, N, (k, n) => (unit(n) < 0 ? 0 : m.W[W0 + unit(n) * I + k]));
  const r = packPanels(H, N, (k, n) => (unit(n) < 0 ? 0 : m.R[R0 + unit(n) * H + k]));

  let bias: Float32Array | null = null;
  if (m.B) {
    const B = m.B;
    const B0 = dir * 2 * GH;
    const lbr = kind === 'gru' && m.linearBeforeReset;
    // linear_before_reset keeps Rbh out of the projection: it is added to Ht−1·Rhᵀ before the reset gate.
    const sum = padBias(N, (n) => {
      const u = unit(n);
      if (u < 0) return 0;
      return lbr && u >= 2 * H ? B[B0 + u] : B[B0 + u] + B[B0 + GH + u];
    });
    if (lbr) {
      const rbh = padBias(N, (n) => (unit(n) >= 2 * H ? B[B0 + GH + unit(n)] : 0));
      bias = new Float32Array(sum.length + rbh.length);
      bias.set(sum);
      bias.set(rbh, sum.length);
    } else bias = sum;
  }

  let peephole: Float32Array | null = null;
  if (kind === 'lstm' && m.P) {
    peephole = new Float32Array(3 * Hp);
    for (let g = 0; g < 3; g++) for (let j = 0; j < H; j++) peephole[g * Hp + j] = m.P[dir * 3 * H + g * H + j];
  }
  return { w, r, bias, peephole };
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
