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

// ---- GridSample (op_grid_sample.py, the 4-D case) ---------------------------------------------------

export type GridMode = 'bilinear' | 'nearest' | 'bicubic';
export type GridPadding = 'zeros' | 'border' | 'reflection';

/** The reference's _gs_reflect. */
function gsReflect(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.trunc(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.trunc(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

function gsCubic(t: number): number[] {
  const A = -0.75;
  return [
    ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
    ((A + 2) * t - (A + 3)) * t * t + 1,
    ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1,
    ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A,
  ];
}

/** Half to even, as np.rint. */
const rint = (v: number) => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** GridSample of x [N, C, H, W] at grid [N, OH, OW, 2] → [N, C, OH, OW]. */
export function gridSampleRef(
  x: ArrayLike<number>,
  [N, C, H, W]: number[],
  grid: ArrayLike<number>,
  [OH, OW]: number[],
  mode: GridMode,
  padding: GridPadding,
  alignCorners: boolean,
): Float64Array {
  const y = new Float64Array(N * C * OH * OW);
  const dims = [H, W];
  const lo = dims.map(() => (alignCorners ? 0 : -0.5));
  const hi = dims.map((d) => (alignCorners ? d - 1 : d - 0.5));
  // Per axis (0: rows, 1: columns): the pixel a neighbour index reads, or -1 for zero padding.
  const pixelAt = (i: number, a: number): number => {
    const d = dims[a];
    if (padding === 'zeros') return i >= 0 && i < d ? i : -1;
    if (padding === 'border') return Math.min(Math.max(i, 0), d - 1);
    return d === 1 ? 0 : Math.trunc(gsReflect(i, lo[a], hi[a]));
  };
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < OH * OW; p++) {
      // The grid holds (x, y): reversed to (row, column) coordinates, each denormalised in float32.
      const g = [grid[(n * OH * OW + p) * 2 + 1], grid[(n * OH * OW + p) * 2]];
      const v = g.map((gv, a) =>
        Math.fround(alignCorners ? ((gv + 1) / 2) * (dims[a] - 1) : ((gv + 1) * dims[a] - 1) / 2),
      );
      const c = v.map((cv, a) => {
        let u = mode === 'nearest' ? rint(cv) : cv;
        // PyTorch's grid_sampler (and onnxruntime) pad the point itself except for bicubic, whose taps
        // alone are padded; ONNX's reference pads the point in every mode (different for bicubic border).
        if (mode !== 'bicubic' && (u < lo[a] || u > hi[a])) {
          if (padding === 'border') u = Math.min(Math.max(u, 0), dims[a] - 1);
          else if (padding === 'reflection') u = dims[a] === 1 ? lo[a] : gsReflect(u, lo[a], hi[a]);
        }
        return Math.fround(u);
      });
      for (let ch = 0; ch < C; ch++) {
        const plane = (n * C + ch) * H * W;
        const read = (r: number, col: number) => (r < 0 || col < 0 ? 0 : x[plane + r * W + col]);
        let out: number;
        if (mode === 'nearest') {
          out = read(pixelAt(Math.trunc(c[0]), 0), pixelAt(Math.trunc(c[1]), 1));
        } else {
          const taps = mode === 'bilinear' ? 2 : 4;
          const first = c.map((cv) => Math.floor(cv) - (taps === 4 ? 1 : 0));
          const w = c.map((cv) => {
            const t = cv - Math.floor(cv);
            return taps === 2 ? [1 - t, t] : gsCubic(t);
          });
          out = 0;
          for (let i = 0; i < taps; i++) {
            const r = pixelAt(first[0] + i, 0);
            let row = 0;
            for (let j = 0; j < taps; j++) row += w[1][j] * read(r, pixelAt(first[1] + j, 1));
            out += w[0][i] * row;
          }
        }
        y[(n * C + ch) * OH * OW + p] = out;
      }
    }
  }
  return y;
}

// ---- RoiAlign (op_roi_align.py) -------------------------------------------------------------------

export interface RoiAlignOptions {
  OH: number;
  OW: number;
  samplingRatio: number;
  spatialScale: number;
  halfPixel: boolean;
  mode: 'avg' | 'max';
}

/** RoiAlign of x [N, C, H, W] over rois [R, 4] (x1, y1, x2, y2) of batches `batch` → [R, C, OH, OW]. */
export function roiAlignRef(
  x: ArrayLike<number>,
  [N, C, H, W]: number[],
  rois: ArrayLike<number>,
  batch: ArrayLike<number>,
  o: RoiAlignOptions,
): Float64Array {
  const R = batch.length;
  const y = new Float64Array(R * C * o.OH * o.OW);
  for (let r = 0; r < R; r++) {
    const b = batch[r];
    if (b < 0 || b >= N) continue; // the kernel's documented choice: zeros (the reference would fail)
    const offset = o.halfPixel ? 0.5 : 0;
    const [startW, startH, endW, endH] = [0, 1, 2, 3].map((i) => rois[r * 4 + i] * o.spatialScale - offset);
    let roiW = endW - startW,
      roiH = endH - startH;
    if (!o.halfPixel) {
      roiW = Math.max(roiW, 1);
      roiH = Math.max(roiH, 1);
    }
    const binH = roiH / o.OH,
      binW = roiW / o.OW;
    const gridH = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(roiH / o.OH);
    const gridW = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(roiW / o.OW);
    const count = Math.max(gridH * gridW, 1);
    for (let ph = 0; ph < o.OH; ph++) {
      for (let pw = 0; pw < o.OW; pw++) {
        // The bilinear samples of this bin: (positions, weights), or null for one outside the map.
        const samples: ({ pos: number[]; w: number[] } | null)[] = [];
        for (let iy = 0; iy < gridH; iy++) {
          for (let ix = 0; ix < gridW; ix++) {
            let yy = startH + ph * binH + ((iy + 0.5) * binH) / gridH;
            let xx = startW + pw * binW + ((ix + 0.5) * binW) / gridW;
            if (yy < -1 || yy > H || xx < -1 || xx > W) {
              samples.push(null);
              continue;
            }
            yy = Math.max(yy, 0);
            xx = Math.max(xx, 0);
            let yLow = Math.trunc(yy),
              xLow = Math.trunc(xx),
              yHigh: number,
              xHigh: number;
            if (yLow >= H - 1) {
              yHigh = yLow = H - 1;
              yy = yLow;
            } else yHigh = yLow + 1;
            if (xLow >= W - 1) {
              xHigh = xLow = W - 1;
              xx = xLow;
            } else xHigh = xLow + 1;
            const ly = yy - yLow,
              lx = xx - xLow,
              hy = 1 - ly,
              hx = 1 - lx;
            samples.push({
              pos: [yLow * W + xLow, yLow * W + xHigh, yHigh * W + xLow, yHigh * W + xHigh],
              w: [hy * hx, hy * lx, ly * hx, ly * lx],
            });
          }
        }
        for (let c = 0; c < C; c++) {
          const plane = (b * C + c) * H * W;
          const values = samples.map((s) => (s ? s.w.map((w, k) => w * x[plane + s.pos[k]]) : [0, 0, 0, 0]));
          const v =
            o.mode === 'avg'
              ? values.reduce((acc, vs) => acc + (vs[0] + vs[1] + vs[2] + vs[3]), 0) / count
              : values.length
                ? Math.max(...values.map((vs) => Math.max(...vs)))
                : 0;
          y[((r * C + c) * o.OH + ph) * o.OW + pw] = v;
        }
      }
    }
  }
  return y;
}

// ---- MaxUnpool (op_max_unpool.py) -----------------------------------------------------------------

/** Scatter x at `indices` into the inferred shape, then place that at the start of each axis of `output`. */
export function maxUnpoolRef(
  x: ArrayLike<number>,
  indices: ArrayLike<number>,
  inferred: number[],
  output: number[],
): Float64Array {
  const total = inferred.reduce((a, b) => a * b, 1);
  const unpooled = new Float64Array(total);
  for (let i = 0; i < x.length; i++) if (indices[i] >= 0 && indices[i] < total) unpooled[indices[i]] = x[i];
  const y = new Float64Array(output.reduce((a, b) => a * b, 1));
  for (let i = 0; i < total; i++) {
    let rem = i,
      off = 0,
      stride = 1,
      inside = true;
    for (let d = inferred.length - 1; d >= 0; d--) {
      const c = rem % inferred[d];
      rem = Math.floor(rem / inferred[d]);
      if (c >= output[d]) inside = false;
      off += c * stride;
      stride *= output[d];
    }
    if (inside) y[off] = unpooled[i];
  }
  return y;
}
