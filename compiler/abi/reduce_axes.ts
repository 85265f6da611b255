/**
 * Reductions over axes known only at run time (assembly/reduce_axes.ts), spread into KERNELS (kernels.ts).
 * The op handler (compiler/ops/reduce.ts) passes: axes_mask over the axes tensor (Step.valueCheck: an axis
 * outside the rank, or named twice with keepdims 0), reduced_dim once per output dimension j into a
 * computed size, then reduce_masked with the reduce family's code of the op (familyMembers('reduce')),
 * scratch 2·rank i32.
 */
import { i32, ptr, type KernelSpec } from './spec.js';

export const REDUCE_AXES_KERNELS = {
  /** mask [rank] i32 = 1 on the axes named by axes [n] (i32/i64), all or none when n = 0. */
  axes_mask: {
    module: 'reduce_axes',
    params: [ptr('axes'), i32('n'), i32('axesBytes'), i32('rank'), i32('noop'), i32('distinct'), ptr('mask')],
    returns: 'i32',
    valid: 0,
  },
  /** *count = output dimension j of a reduction by mask over dims table (keepdims or not). */
  reduced_dim: {
    module: 'reduce_axes',
    params: [ptr('mask'), ptr('table'), i32('rank'), i32('j'), i32('keepdims'), ptr('count')],
  },
  /** y = x reduced (op: reduce family code) over the axes the mask names. */
  reduce_masked: {
    module: 'reduce_axes',
    params: [ptr('x'), ptr('y'), i32('rank'), ptr('table'), ptr('mask'), i32('op'), ptr('scratch')],
  },
} as const satisfies Record<string, KernelSpec>;
