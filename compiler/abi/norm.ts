/**
 * Normalisation kernels over channels-last groups (assembly/norm.ts), spread into KERNELS (kernels.ts).
 *
 * - InstanceNormalization, x [N, C, D1…] held channels-last: images N, HW = D1·…, C; scale / bias the
 *   [C] inputs; epsOutside 0. MeanVarianceNormalization over axes whose memory positions are contiguous:
 *   images = product of the dims before them, HW = of theirs, C = of those after; scale = bias = 0,
 *   epsilon 1e-9, epsOutside 1. scratch: a buffer of 4·C floats.
 */
import { f32, i32, ptr, type KernelSpec } from './spec.js';

export const NORM_KERNELS = {
  instance_norm: {
    module: 'norm',
    params: [
      ptr('x'),
      ptr('scale'),
      ptr('bias'),
      ptr('y'),
      ptr('scratch'),
      i32('images'),
      i32('HW'),
      i32('C'),
      f32('epsilon'),
      i32('epsOutside'),
    ],
  },
} as const satisfies Record<string, KernelSpec>;
