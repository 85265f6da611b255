// Runs an ONNX LSTM/GRU/RNN node (a RecurrentCase) through the recurrent kernels the way an op handler
// will: weights packed per direction by compiler/pack-recurrent.ts, one kernel call per direction on the
// ONNX-layout tensors, scratch of the documented size (filled with NaN first: the kernels must not read
// what they did not write), canaries after every output.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import {
  packedBiasFloats,
  packedMatrixFloats,
  packRecurrent,
  padHidden,
  RECURRENT_GATES,
  recurrentScratchFloats,
  type PackedRecurrent,
  type RecurrentKind,
} from '../../compiler/pack-recurrent.js';
import { Arena, call, CANARY, TAIL, type KernelExports, type Ptr } from './kernel-harness.js';
import {
  ACTIVATIONS_PER_DIRECTION,
  directionsOf,
  type Activation,
  type ActivationName,
  type RecurrentCase,
} from './rnn-reference.js';

const CODE_OF: Record<ActivationName, number> = {
  Relu: CODES.RNN_ACT.RELU,
  Tanh: CODES.RNN_ACT.TANH,
  Sigmoid: CODES.RNN_ACT.SIGMOID,
  Affine: CODES.RNN_ACT.AFFINE,
  LeakyRelu: CODES.RNN_ACT.LEAKY_RELU,
  ThresholdedRelu: CODES.RNN_ACT.THRESHOLDED_RELU,
  ScaledTanh: CODES.RNN_ACT.SCALED_TANH,
  HardSigmoid: CODES.RNN_ACT.HARD_SIGMOID,
  Elu: CODES.RNN_ACT.ELU,
  Softsign: CODES.RNN_ACT.SOFTSIGN,
  Softplus: CODES.RNN_ACT.SOFTPLUS,
};

export interface RunOptions {
  /** sequence_lens as i64 in memory (else i32). */
  lensI64?: boolean;
  /** Byte offset (a multiple of 4) of the outputs and X from 16-byte alignment. */
  misalign?: number;
  /** Outputs to request (default all the op has). */
  outputs?: ('Y' | 'Y_h' | 'Y_c')[];
  /** Feed initial_h/initial_c in the Y_h/Y_c buffers (the streaming call). */
  stateInPlace?: boolean;
  /** Pack W, R, B, P with rnn_pack_* from ONNX-layout tensors in memory (weights that are graph inputs). */
  packWithKernels?: boolean;
}

export interface KernelOutputs {
  Y: Float32Array | null;
  Yh: Float32Array | null;
  Yc: Float32Array | null;
}

const KIND: Record<RecurrentCase['op'], RecurrentKind> = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };

function checkCanaries(arena: Arena, p: Ptr, n: number, what: string): void {
  const tail = arena.f32(p + n * 4, TAIL);
  for (let t = 0; t < TAIL; t++) if (tail[t] !== CANARY) expect.fail(`${what}: wrote past the end (float ${t})`);
}

/** Activation code and parameters of gate slot `slot` of direction d. */
function actArgs(c: RecurrentCase, d: number, slot: number, suffix: string): Record<string, number> {
  const a: Activation = c.activations[d * ACTIVATIONS_PER_DIRECTION[c.op] + slot];
  return { [`act${suffix}`]: CODE_OF[a.name], [`alpha${suffix}`]: a.alpha, [`beta${suffix}`]: a.beta };
}

export function runKernels(k: KernelExports, arena: Arena, c: RecurrentCase, opts: RunOptions = {}): KernelOutputs {
  arena.reset();
  const D = directionsOf(c);
  const kind = KIND[c.op];
  const { seq, batch, inputSize, hidden } = c;
  const mis = opts.misalign ?? 0;
  const wanted = opts.outputs ?? (c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']);
  const nY = seq * D * batch * hidden;
  const nState = D * batch * hidden;

  const x = arena.put(c.X, mis);
  let lens = 0;
  if (c.lens) {
    lens = arena.alloc(batch * 2);
    if (opts.lensI64) new BigInt64Array(k.memory.buffer, lens, batch).set(c.lens.map(BigInt));
    else arena.i32(lens, batch).set(c.lens);
  }
  const y = wanted.includes('Y') ? arena.out(nY, mis) : 0;
  const yh = wanted.includes('Y_h') ? arena.out(nState, mis) : 0;
  const yc = wanted.includes('Y_c') ? arena.out(nState, mis) : 0;
  let h0 = c.h0 ? arena.put(c.h0) : 0;
  let c0 = c.c0 ? arena.put(c.c0) : 0;
  if (opts.stateInPlace) {
    if (c.h0) arena.f32((h0 = yh), nState).set(c.h0);
    if (c.c0) arena.f32((c0 = yc), nState).set(c.c0);
  }
  const scratchFloats = recurrentScratchFloats(kind, seq, batch, hidden);
  const scratch = arena.alloc(scratchFloats);
  arena.f32(scratch, scratchFloats + TAIL).fill(NaN);
  arena.f32(scratch + scratchFloats * 4, TAIL).fill(CANARY);

  for (let d = 0; d < D; d++) {
    const { w, r, bias, peephole } = opts.packWithKernels
      ? packInMemory(k, arena, c, d)
      : putPacked(
          arena,
          packRecurrent(
            { kind, hidden, inputSize, W: c.W, R: c.R, B: c.B, P: c.P, linearBeforeReset: c.linearBeforeReset },
            d,
          ),
        );
    const common = {
      x,
      w,
      r,
      bias,
      lens,
      lensI64: opts.lensI64 ? 1 : 0,
      h0,
      y,
      yh,
      scratch,
      seq,
      batch,
      inputSize,
      hidden,
      layout: c.layout,
      dirs: D,
      dir: d,
      reverse: c.direction === 'reverse' || d === 1 ? 1 : 0,
      clip: c.clip ?? Infinity,
    };
    if (c.op === 'LSTM') {
      call(k, 'lstm', {
        ...common,
        peephole,
        c0,
        yc,
        inputForget: c.inputForget ? 1 : 0,
        ...actArgs(c, d, 0, 'F'),
        ...actArgs(c, d, 1, 'G'),
        ...actArgs(c, d, 2, 'H'),
      } as Parameters<typeof call<'lstm'>>[2]);
    } else if (c.op === 'GRU') {
      call(k, 'gru', {
        ...common,
        linearBeforeReset: c.linearBeforeReset ? 1 : 0,
        ...actArgs(c, d, 0, 'F'),
        ...actArgs(c, d, 1, 'G'),
      } as Parameters<typeof call<'gru'>>[2]);
    } else {
      call(k, 'rnn', { ...common, ...actArgs(c, d, 0, 'F') } as Parameters<typeof call<'rnn'>>[2]);
    }
  }
  checkCanaries(arena, scratch, scratchFloats, 'scratch');
  const read = (p: Ptr, n: number, what: string): Float32Array | null => {
    if (p === 0) return null;
    checkCanaries(arena, p, n, what);
    return arena.f32(p, n).slice();
  };
  return { Y: read(y, nY, 'Y'), Yh: read(yh, nState, 'Y_h'), Yc: read(yc, nState, 'Y_c') };
}

interface PackedPtrs {
  w: Ptr;
  r: Ptr;
  bias: Ptr;
  peephole: Ptr;
}

const putPacked = (arena: Arena, p: PackedRecurrent): PackedPtrs => ({
  w: arena.put(p.w),
  r: arena.put(p.r),
  bias: p.bias ? arena.put(p.bias) : 0,
  peephole: p.peephole ? arena.put(p.peephole) : 0,
});

/**
 * Direction d's weights packed by the rnn_pack_* kernels from the case's ONNX tensors in memory (each whole,
 * the kernel reading direction d's part), into canary-filled blocks whose tails must stay untouched.
 */
export function packInMemory(k: KernelExports, arena: Arena, c: RecurrentCase, d: number): PackedPtrs {
  const kind = KIND[c.op];
  const gates = RECURRENT_GATES[kind];
  const { hidden, inputSize } = c;
  const lbr = c.op === 'GRU' && !!c.linearBeforeReset;
  const checks: [Ptr, number, string][] = [];
  const out = (n: number, what: string) => {
    const p = arena.out(n);
    checks.push([p, n, what]);
    return p;
  };
  const matrix = (src: Float32Array, cols: number, what: string) => {
    const packed = out(packedMatrixFloats(kind, hidden, cols), what);
    const from = arena.put(src) + d * gates * hidden * cols * 4;
    call(k, 'rnn_pack_weights', { w: from, packed, gates, hidden, cols });
    return packed;
  };
  const w = matrix(c.W, inputSize, 'packed W');
  const r = matrix(c.R, hidden, 'packed R');
  let bias = 0;
  if (c.B) {
    bias = out(packedBiasFloats(kind, hidden, lbr), 'packed B');
    const b = arena.put(c.B) + d * 2 * gates * hidden * 4;
    call(k, 'rnn_pack_bias', { b, packed: bias, gates, hidden, linearBeforeReset: lbr ? 1 : 0 });
  }
  let peephole = 0;
  if (c.P && c.op === 'LSTM') {
    peephole = out(3 * padHidden(hidden), 'packed P');
    call(k, 'rnn_pack_peephole', { p: arena.put(c.P) + d * 3 * hidden * 4, packed: peephole, hidden });
  }
  for (const [p, n, what] of checks) checkCanaries(arena, p, n, what);
  return { w, r, bias, peephole };
}
