/**
 * Shape operands given at run time (assembly/shape_values.ts), spread into KERNELS (kernels.ts). Each
 * checks the operand as ONNX defines it (Step.valueCheck: 0, or 1 + the first entry it cannot use) and
 * writes an i32 table the op handler reads into computed sizes with read_size (compiler/ops/run-shape.ts).
 */
import { i32, ptr, type KernelSpec } from './spec.js';

const checked = { module: 'shape_values', returns: 'i32', valid: 0 } as const;

export const SHAPE_VALUES_KERNELS = {
  /** out [n] = Reshape's dims from shape (n entries of shapeBytes) for input dims inLens [inRank]. */
  reshape_dims: {
    ...checked,
    params: [ptr('shape'), i32('shapeBytes'), i32('n'), ptr('inLens'), i32('inRank'), i32('allowZero'), ptr('out')],
  },
  /** 0 when Π (sum = 1: Σ) of dims [n] is total, else 1 + it. */
  dims_count: { ...checked, params: [ptr('dims'), i32('n'), i32('total'), i32('sum')] },
  /** out = the dims after Squeeze (squeeze 1) or Unsqueeze (0) by axes (nAxes entries of axesBytes). */
  axes_dims: {
    ...checked,
    params: [ptr('axes'), i32('axesBytes'), i32('nAxes'), ptr('inLens'), i32('inRank'), i32('squeeze'), ptr('out')],
  },
  /** out [3·rank] = [start, length, step] per axis of a Slice (axesBytes / stepsBytes 0: not given). */
  slice_ranges: {
    ...checked,
    params: [
      ptr('starts'),
      i32('startsBytes'),
      ptr('ends'),
      i32('endsBytes'),
      ptr('axes'),
      i32('axesBytes'),
      ptr('steps'),
      i32('stepsBytes'),
      i32('n'),
      ptr('inLens'),
      i32('rank'),
      ptr('out'),
    ],
  },
  /** out [max(n, inRank)] = input dims inLens [inRank] broadcast with Expand's shape (n of shapeBytes). */
  expand_dims: {
    ...checked,
    params: [ptr('shape'), i32('shapeBytes'), i32('n'), ptr('inLens'), i32('inRank'), ptr('out')],
  },
  /** out [n] (i32) = x (n entries of xBytes), none negative. */
  sizes_of: { ...checked, params: [ptr('x'), i32('xBytes'), i32('n'), ptr('out')] },
  /** 0 unless training (bool) is true and ratio (f32) is not 0. */
  dropout_check: { ...checked, params: [ptr('ratio'), ptr('training')] },
} as const satisfies Record<string, KernelSpec>;
