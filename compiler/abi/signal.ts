/**
 * The signal kernels (assembly/signal.ts): window functions and the mel filterbank, whose output sizes are
 * read from input values (computed sizes). What the op handlers pass: each scalar input through a pointer
 * (a constant in the data segment or a run-time buffer) with its integer width (8: int64 held as int64, 4:
 * int32), the slot of each computed size and that size's bound; for a window its f32 coefficients (Hann
 * 0.5, 0.5, 0; Hamming 25/46, 1 − 25/46, 0; Blackman 0.42, 0.5, 0.08, each rounded to f32 as onnxruntime
 * does) and `periodic`; for the mel matrix scratch ≥ colBound + 2 i32 words.
 */
import { f32, i32, ptr, type KernelSpec } from './spec.js';

export const SIGNAL_KERNELS = {
  /** y[n] = a0 − a1·cos(t·n) + a2·cos(2t·n), t = 2π / (periodic ? N : N − 1), N read from `size`. */
  cosine_window: {
    module: 'signal',
    params: [
      ptr('size'),
      ptr('y'),
      ptr('count'),
      i32('sizeBytes'),
      i32('bound'),
      f32('a0'),
      f32('a1'),
      f32('a2'),
      i32('periodic'),
    ],
  },
  /** MelWeightMatrix [floor(dft/2) + 1, mels] from its five scalar inputs. */
  mel_weight_matrix: {
    module: 'signal',
    params: [
      ptr('mels'),
      ptr('dft'),
      ptr('rate'),
      ptr('lower'),
      ptr('upper'),
      ptr('y'),
      ptr('rows'),
      ptr('cols'),
      ptr('scratch'),
      i32('melsBytes'),
      i32('dftBytes'),
      i32('rateBytes'),
      i32('rowBound'),
      i32('colBound'),
    ],
  },
} as const satisfies Record<string, KernelSpec>;
