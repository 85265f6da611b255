// Double-precision references for the resampling kernels, written from the ONNX operator specs and ONNX's
// reference implementation (onnx/reference/ops/op_resize.py, op_grid_sample.py, op_roi_align.py,
// op_max_unpool.py) — never from the kernels. Where they deviate from that implementation on purpose the
// comment says so and why.

export type CoordMode =
  | 'half_pixel'
  | 'asymmetric'
  | 'pytorch_half_pixel'
  | 'tf_half_pixel_for_nearest'
  | 'align_corners'
  | 'tf_crop_and_resize'
  | 'half_pixel_symmetric';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple';

export interface ResizeOptions {
  mode: 'nearest' | 'linear' | 'cubic';
  coord: CoordMode;
  nearest: NearestMode;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
  /** [starts…, ends…] over every axis (tf_crop_and_resize). */
  roi: number[];
}

/**
 * x_original for output index o, the Resize-19 spec's formulas in the reference's order of operations.
 * `outLen` is the integer output length ("length_resized" in the spec text; onnxruntime uses it too — the
 * reference uses scale·in there, which differs only when a scale does not give a whole length).
 */
export function sourceCoordRef(
  coord: CoordMode,
  o: number,
  scale: number,
  inLen: number,
  outLen: number,
  r0: number,
  r1: number,
): number {
  switch (coord) {
    case 'align_corners':
      return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
    case 'asymmetric':
      return o / scale;
    case 'tf_crop_and_resize':
      return (
        (outLen === 1 ? ((r1 - r0) * (inLen - 1)) / 2 : (o * (r1 - r0) * (inLen - 1)) / (outLen - 1)) + r0 * (inLen - 1)
      );
    case 'pytorch_half_pixel':
      // The spec says 0 for a length-1 output (onnxruntime too); the reference has -0.5, which picks the
      // same inputs except for cubic.
      return outLen > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'tf_half_pixel_for_nearest':
      return (o + 0.5) / scale;
    case 'half_pixel_symmetric': {
      const adjustment = outLen / (scale * inLen);
      const offset = (inLen / 2) * (1 - adjustment);
      return offset + (o + 0.5) / scale - 0.5;
    }
    default:
      return (o + 0.5) / scale - 0.5;
  }
}

/** The reference's `_get_neighbor_idxes` after edge padding: n nearest indices of x, ties to the lower. */
function neighbours(x: number, n: number, inLen: number): number[] {
  const pad = Math.ceil(n / 2);
  const candidates = Array.from({ length: inLen + 2 * pad }, (_, i) => i);
  candidates.sort((a, b) => Math.abs(x + pad - a) - Math.abs(x + pad - b) || a - b);
  return candidates
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => i - pad);
}

function coefficients(opts: ResizeOptions, ratio: number): number[] {
  if (opts.mode === 'linear') return [1 - ratio, ratio];
  const A = opts.cubicA;
  const q = 1 - ratio;
  return [
    ((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A,
    ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
    ((A + 2) * q - (A + 3)) * q * q + 1,
    ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A,
  ];
}

/** The reference's `_nearest_coeffs` choice between floor(x) and floor(x) + 1 (Resize-10's rule for 'simple'). */
function nearestPick(x: number, mode: NearestMode, scale: number): number {
  const f = Math.floor(x);
  if (x === f) return x;
  const ratio = x - f;
  switch (mode) {
    case 'round_prefer_floor':
      return ratio <= 0.5 ? f : f + 1;
    case 'round_prefer_ceil':
      return ratio < 0.5 ? f : f + 1;
    case 'floor':
      return f;
    case 'ceil':
      return f + 1;
    case 'simple':
      // onnxruntime's Resize-10 / Upsample: ceil when downsampling, else truncation.
      return scale < 1 ? Math.ceil(x) : Math.trunc(x);
  }
}

interface Taps {
  outside: boolean;
  index: number[];
  weight: number[];
}

/** The taps of one output index along an axis. */
function axisTaps(
  opts: ResizeOptions,
  o: number,
  scale: number,
  inLen: number,
  outLen: number,
  a: number,
  rank: number,
): Taps {
  const crop = opts.coord === 'tf_crop_and_resize';
  const x = sourceCoordRef(opts.coord, o, scale, inLen, outLen, crop ? opts.roi[a] : 0, crop ? opts.roi[rank + a] : 1);
  const outside = crop && (x < 0 || x > inLen - 1);
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
  if (opts.mode === 'nearest') {
    // The reference takes np.dot([0, 1], two neighbours), so a NaN in the neighbour it does not pick leaks
    // through; we copy the picked element alone, as onnxruntime does.
    return { outside, index: [clamp(nearestPick(x, opts.nearest, scale))], weight: [1] };
  }
  const xInt = Math.floor(x);
  const ratio = x === xInt ? 1 : x - xInt;
  const weight = coefficients(opts, ratio);
  const idx = neighbours(x, weight.length, inLen);
  if (opts.excludeOutside) {
    idx.forEach((i, k) => {
      if (i < 0 || i >= inLen) weight[k] = 0;
    });
    const sum = weight.reduce((s, w) => s + w, 0);
    if (sum !== 0) weight.forEach((w, k) => (weight[k] = w / sum));
  }
  return { outside, index: idx.map(clamp), weight };
}

/**
 * Resize of x (row-major, `inShape`) to `outShape`, one axis at a time as onnx's reference does; an axis
 * whose taps leave it unchanged (each output reads its own input with weight 1) is skipped, as there.
 * scales[a] = 0 means sizes were given: scale = out / in.
 */
export function resizeRef(
  x: ArrayLike<number>,
  inShape: number[],
  outShape: number[],
  scales: number[],
  opts: ResizeOptions,
): Float64Array {
  let data = Float64Array.from(x);
  const shape = inShape.slice();
  const rank = shape.length;
  for (let a = 0; a < rank; a++) {
    const inLen = inShape[a],
      outLen = outShape[a];
    const scale = scales[a] > 0 ? scales[a] : outLen / inLen;
    const taps = Array.from({ length: outLen }, (_, o) => axisTaps(opts, o, scale, inLen, outLen, a, rank));
    const identity =
      inLen === outLen &&
      taps.every(
        (t, o) =>
          !t.outside &&
          t.index.reduce((s, i, k) => s + (i === o ? t.weight[k] : 0), 0) === 1 &&
          t.index.every((i, k) => i === o || t.weight[k] === 0),
      );
    if (identity) continue;
    const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
    const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
    const next = new Float64Array(outer * outLen * inner);
    for (let p = 0; p < outer; p++) {
      for (let o = 0; o < outLen; o++) {
        const t = taps[o];
        for (let i = 0; i < inner; i++) {
          let v = 0;
          if (t.outside) v = opts.extrapolation;
          else for (let k = 0; k < t.index.length; k++) v += t.weight[k] * data[(p * inLen + t.index[k]) * inner + i];
          next[(p * outLen + o) * inner + i] = v;
        }
      }
    }
    data = next;
    shape[a] = outLen;
  }
  return data;
}
