/**
 * Recurrent kernels (assembly/rnn/): ONNX LSTM, GRU and RNN, opsets 7–14. One call runs one direction over
 * the whole batch and sequence; bidirectional is two calls (dir 0 forward, dir 1 reverse) on the same
 * X, Y, Y_h, Y_c and initial state tensors, each with its own direction's packed weights.
 *
 * Run-time sizes: seq, batch, inputSize (X's dims), hidden. Tensors are read and written where ONNX puts
 * them, in either layout (strides computed from `layout`, `dirs`, `dir`; no transposes around the call):
 *   layout 0: X [seq, batch, input], Y [seq, dirs, batch, hidden], initial_h/c, Y_h, Y_c [dirs, batch, hidden]
 *   layout 1: X [batch, seq, input], Y [batch, seq, dirs, hidden], initial_h/c, Y_h, Y_c [batch, dirs, hidden]
 * Optional pointers are 0 when absent: bias, peephole, lens (all lengths = seq), h0/c0 (zeros), y/yh/yc (not
 * written). h0 may equal yh and c0 may equal yc (state fed back in place, the streaming case); nothing else
 * may overlap. lens: sequence_lens as i32 (lensI64 0) or i64 (lensI64 1); lengths are clamped to [0, seq]
 * (`rnn_first_bad_length` finds the ones ONNX forbids). Steps past an entry's length give zero rows of Y;
 * Y_h, Y_c hold its last valid step (zeros for length 0, as onnxruntime). Reverse runs each entry over its
 * own first len steps backwards (onnxruntime's per-entry reversal).
 *
 * Packed weights (per direction, written once at compile time by compiler/pack-recurrent.ts, or per call by
 * rnn_pack_weights, rnn_pack_bias and rnn_pack_peephole when they are graph inputs; 16-byte aligned).
 * Hp = ceil(hidden/4)·4; each gate takes Hp columns, in ONNX gate order (LSTM i o f c, GRU z r h),
 * columns hidden..Hp−1 of a gate zero:
 *   w        W[dir]ᵀ [input, gates·Hp] as GEMM panels (compiler/pack.ts packPanels, assembly/gemm.ts layout)
 *   r        R[dir]ᵀ [hidden, gates·Hp], the same
 *   bias     padBias(gates·Hp) of Wb + Rb (GRU with linear_before_reset: the h gate gets Wbh only, and a
 *            second padBias(3·Hp) block follows with Rbh in the h gate's columns and zeros before)
 *   peephole LSTM P[dir] as 3 gates of Hp floats (i o f)
 * The activation codes are CODES.RNN_ACT with their alpha/beta (0 where unused): compiler/recurrent-attributes.ts
 * reads a node's activations, activation_alpha, activation_beta into them as onnxruntime does.
 * clip: the threshold, +Infinity for none; applied to the inputs of f and g (not of LSTM's h), as onnxruntime.
 *
 * Scratch (16-byte aligned), in floats, with T = min(seq, CONSTANTS.RNN_CHUNK):
 *   lstm  batch·Hp·(4·T + 6)      gru  batch·Hp·(3·T + 5)      rnn  batch·Hp·(T + 2)
 * (compiler/pack-recurrent.ts `recurrentScratchFloats`). It does not grow with the sequence length.
 */
import { f32, i32, ptr, type KernelSpec } from './spec.js';

const SIZES = [i32('seq'), i32('batch'), i32('inputSize'), i32('hidden')] as const;
const DIRECTION = [i32('layout'), i32('dirs'), i32('dir'), i32('reverse')] as const;
const act = (gate: string) => [i32(`act${gate}`), f32(`alpha${gate}`), f32(`beta${gate}`)] as const;

export const RNN_KERNELS = {
  lstm: {
    module: 'rnn/lstm',
    params: [
      ptr('x'),
      ptr('w'),
      ptr('r'),
      ptr('bias'),
      ptr('peephole'),
      ptr('lens'),
      i32('lensI64'),
      ptr('h0'),
      ptr('c0'),
      ptr('y'),
      ptr('yh'),
      ptr('yc'),
      ptr('scratch'),
      ...SIZES,
      ...DIRECTION,
      i32('inputForget'),
      f32('clip'),
      ...act('F'),
      ...act('G'),
      ...act('H'),
    ],
  },
  gru: {
    module: 'rnn/gru',
    params: [
      ptr('x'),
      ptr('w'),
      ptr('r'),
      ptr('bias'),
      ptr('lens'),
      i32('lensI64'),
      ptr('h0'),
      ptr('y'),
      ptr('yh'),
      ptr('scratch'),
      ...SIZES,
      ...DIRECTION,
      i32('linearBeforeReset'),
      f32('clip'),
      ...act('F'),
      ...act('G'),
    ],
  },
  rnn: {
    module: 'rnn/rnn',
    params: [
      ptr('x'),
      ptr('w'),
      ptr('r'),
      ptr('bias'),
      ptr('lens'),
      i32('lensI64'),
      ptr('h0'),
      ptr('y'),
      ptr('yh'),
      ptr('scratch'),
      ...SIZES,
      ...DIRECTION,
      f32('clip'),
      ...act('F'),
    ],
  },
  /** One direction's run-time ONNX W or R [gates·hidden, cols] into the packed panels `w`/`r` above. */
  rnn_pack_weights: {
    module: 'rnn/pack',
    params: [ptr('w'), ptr('packed'), i32('gates'), i32('hidden'), i32('cols')],
  },
  /** One direction's run-time ONNX B [2·gates·hidden] into the packed `bias` above. */
  rnn_pack_bias: {
    module: 'rnn/pack',
    params: [ptr('b'), ptr('packed'), i32('gates'), i32('hidden'), i32('linearBeforeReset')],
  },
  /** One direction's run-time ONNX P [3·hidden] into the packed `peephole` above. */
  rnn_pack_peephole: {
    module: 'rnn/pack',
    params: [ptr('p'), ptr('packed'), i32('hidden')],
  },
  /** The index of the first sequence_lens entry outside [0, seq], or −1. */
  rnn_first_bad_length: {
    module: 'rnn/common',
    params: [ptr('lens'), i32('lensI64'), i32('batch'), i32('seq')],
    returns: 'i32',
  },
} as const satisfies Record<string, KernelSpec>;
