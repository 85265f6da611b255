/**
 * Kernels of the resampling family (Resize, Upsample, GridSample, RoiAlign, MaxUnpool): their ABI table
 * entries, spread into KERNELS (kernels.ts), and the scratch sizes an op handler must plan for them.
 * Layouts, codes and argument formulas are in each kernel's doc comment (assembly/resize.ts, …).
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
