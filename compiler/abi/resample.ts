/**
 * Kernels of the resampling family (Resize, Upsample, GridSample, RoiAlign, MaxUnpool): their ABI table
 * entries, spread into KERNELS (kernels.ts), and the scratch sizes an op handler must plan for them.
 * Layouts and codes are in each kernel's doc comment (assembly/resize.ts, grid_sample.ts, roi_align.ts,
 * unpool.ts). What an op handler passes:
 *
 * - Resize-11+ / Upsample / Resize-10 → `resize` (float32) or `resize_nearest` (other types, nearest):
 *   table per axis a: in_a, out_a, scale_a. With `scales`: scale_a = scales[a] (float32 as given) and
 *   out_a = floor(in_a·scale_a); with `sizes`: scale_a = 0, out_a = sizes[a]. With `axes` (opset 18):
 *   axes not listed get in = out and scale 1 (and roi 0 / 1). Upsample (7–9) and Resize-10: coord
 *   ASYMMETRIC, nearest SIMPLE. roi: the roi input (float32, starts then ends over every axis) for
 *   tf_crop_and_resize, else 0. The ONNX defaults: coord HALF_PIXEL, nearest ROUND_PREFER_FLOOR,
 *   cubicA −0.75, excludeOutside 0, extrapolation 0. Not done here: antialias=1 (opset 18) and
 *   keep_aspect_ratio_policy (a handler computes its scale and out lengths, then passes them as above).
 * - DepthToSpace, SpaceToDepth, Tile are `strided_copy_sized` views (table [R, dims…, strides…], rows =
 *   dims[0], strides in elements). x [N, C, H, W], block b:
 *     DepthToSpace DCR: dims [N, C/b², H, b, W, b], strides [CHW, HW, W, (C/b)·HW, 1, (C/b²)·HW];
 *     DepthToSpace CRD: dims [N, C/b², H, b, W, b], strides [CHW, b²·HW, W, b·HW, 1, HW];
 *     SpaceToDepth:     dims [N, b, b, C, H/b, W/b], strides [CHW, W, 1, HW, b·W, b];
 *     Tile (x dims d, contiguous strides s, repeats r): dims [r0, d0, r1, d1, …], strides [0, s0, 0, s1, …].
 */
import { CODES } from './codes.js';
import { f32, i32, ptr, type KernelSpec } from './spec.js';

export const RESAMPLE_KERNELS = {
  /**
   * Resize / Upsample of float32 x into y (row-major, `rank` dims), every mode: table = per axis
   * [i32 in, i32 out, f32 scale (0: sizes given)], roi = f32 [starts…, ends…] for tf_crop_and_resize.
   */
  resize: {
    module: 'resize',
    params: [
      ptr('x'),
      ptr('y'),
      i32('rank'),
      ptr('table'),
      ptr('roi'),
      ptr('scratch'),
      i32('mode'),
      i32('coord'),
      i32('nearest'),
      f32('cubicA'),
      i32('excludeOutside'),
      f32('extrapolation'),
    ],
  },
  /** Nearest Resize of elements of elemSize bytes (1, 2, 4, 8); fill = one element (extrapolation_value). */
  resize_nearest: {
    module: 'resize_nearest',
    params: [
      ptr('x'),
      ptr('y'),
      i32('rank'),
      ptr('table'),
      ptr('roi'),
      ptr('scratch'),
      i32('coord'),
      i32('nearest'),
      i32('elemSize'),
      ptr('fill'),
    ],
  },
  /**
   * GridSample (4-D): x f32 [N, C, H, W], grid f32 [N, OH, OW, 2] → y f32 [N, C, OH, OW]; mode CODES.GRID,
   * padding CODES.GRID_PAD, alignCorners 0/1.
   */
  grid_sample: {
    module: 'grid_sample',
    params: [
      ptr('x'),
      ptr('grid'),
      ptr('y'),
      i32('N'),
      i32('C'),
      i32('H'),
      i32('W'),
      i32('OH'),
      i32('OW'),
      i32('mode'),
      i32('padding'),
      i32('alignCorners'),
    ],
  },
  /**
   * RoiAlign: x f32 [N, C, H, W], rois f32 [R, 4], batchIndices i64 [R] → y f32 [R, C, OH, OW];
   * halfPixel 1 for coordinate_transformation_mode half_pixel, maxMode 1 for mode max.
   */
  roi_align: {
    module: 'roi_align',
    params: [
      ptr('x'),
      ptr('rois'),
      ptr('batchIndices'),
      ptr('y'),
      i32('N'),
      i32('C'),
      i32('H'),
      i32('W'),
      i32('R'),
      i32('OH'),
      i32('OW'),
      i32('samplingRatio'),
      f32('spatialScale'),
      i32('halfPixel'),
      i32('maxMode'),
    ],
  },
  /**
   * The `resize` table (12 bytes per axis) from scales or sizes known only at run time: src of kind
   * CODES.RESIZE_SRC for `axes` (i32 [nAxes]), inLens i32 [rank]; policy CODES.ASPECT.
   */
  resize_table: {
    module: 'resize_lengths',
    params: [
      ptr('src'),
      i32('kind'),
      i32('rank'),
      ptr('inLens'),
      ptr('axes'),
      i32('nAxes'),
      i32('policy'),
      ptr('table'),
    ],
  },
  /** *size (a symbol's slot) = the i32 (elemBytes 4) or i64 (8) at x, clamped into i32. */
  read_size: { module: 'resize_lengths', params: [ptr('x'), i32('elemBytes'), ptr('size')] },
  /** MaxUnpool: y (zeroed) at indices (i64) = x; table = i32 [R, inferred dims…, output dims…]. */
  max_unpool: { module: 'unpool', params: [ptr('x'), ptr('indices'), ptr('y'), i32('n'), ptr('table')] },
  /**
   * A run-time check (Step.rangeCheck): the position of the first of x (i64 [n]) outside [lo, hi), or −1.
   * RoiAlign: x = batch_indices, [0, N); MaxUnpool: x = I, [0, Π of the unpooled dims).
   */
  first_index_outside: {
    module: 'index_check',
    params: [ptr('x'), i32('n'), i32('lo'), i32('hi')],
    returns: 'i32',
  },
} as const satisfies Record<string, KernelSpec>;

/**
 * Bytes of scratch `resize` / `resize_nearest` need for output lengths `out` (every axis, in order) in a
 * mode (CODES.RESIZE): 4·(Σ_a (2T+1)·out_a + T·(out_last + 1)) + 112·rank + 160, T = 1, 2, 4 taps
 * (nearest, linear, cubic). It grows with the output lengths only, never with the input.
 */
export function resizeScratchBytes(mode: number, out: readonly number[]): number {
  const T = mode === CODES.RESIZE.NEAREST ? 1 : mode === CODES.RESIZE.LINEAR ? 2 : 4;
  const perAxis = out.reduce((sum, n) => sum + (2 * T + 1) * n, 0);
  const last = out.length > 0 ? out[out.length - 1] : 0;
  return 4 * (perAxis + T * (last + 1)) + 112 * out.length + 160;
}
