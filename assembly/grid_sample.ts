// GridSample over NCHW images (ONNX opset 16, the 4-D case), as PyTorch and onnxruntime compute it: the
// grid point is denormalised, the coordinate padded (clamped or reflected into the image; not for bicubic),
// then the interpolation reads its neighbours with the same padding per pixel. All in float32, as there.

import {
  GRID_NEAREST,
  GRID_BICUBIC,
  GRID_PAD_ZEROS,
  GRID_PAD_BORDER,
  GRID_PAD_REFLECTION,
} from "./generated/abi";

/** [-1, 1] to pixel coordinates: to the corner pixels' centres (alignCorners) or their outer edges. */
// @ts-ignore: decorator
@inline function denormalize(g: f32, n: i32, alignCorners: bool): f32 {
  return alignCorners ? ((g + 1) / 2) * <f32>(n - 1) : ((g + 1) * <f32>n - 1) / 2;
}

/** Reflects x by the borders until it lies between them (ONNX reference _gs_reflect). */
function reflect(x: f32, lo: f32, hi: f32): f32 {
  const range = hi - lo;
  if (!(range > 0)) return lo;
  if (x < lo) {
    const dx = lo - x;
    const n = <i32>(dx / range);
    const r = dx - <f32>n * range;
    return (n & 1) == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = <i32>(dx / range);
    const r = dx - <f32>n * range;
    return (n & 1) == 0 ? hi - r : lo + r;
  }
  return x;
}

/** The coordinate padding applied before interpolation (border: clamp into the image; reflection). */
// @ts-ignore: decorator
@inline function padCoordinate(v: f32, n: i32, lo: f32, hi: f32, padding: i32): f32 {
  if (v >= lo && v <= hi) return v;
  if (padding == GRID_PAD_BORDER) return v < 0 ? 0 : v > <f32>(n - 1) ? <f32>(n - 1) : v;
  if (padding == GRID_PAD_REFLECTION) return reflect(v, lo, hi);
  return v;
}

/** The pixel a neighbour index reads along one axis, or -1 for zero padding outside the image. */
// @ts-ignore: decorator
@inline function pixel(i: i32, n: i32, lo: f32, hi: f32, padding: i32): i32 {
  if (i >= 0 && i < n) return i;
  if (padding == GRID_PAD_ZEROS) return -1;
  if (padding == GRID_PAD_REFLECTION) i = <i32>reflect(<f32>i, lo, hi);
  // Border, and any reflection that rounding left outside: the nearest edge (never a read out of range).
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

// @ts-ignore: decorator
@inline function at(plane: usize, row: i32, col: i32, W: i32): f32 {
  return row < 0 || col < 0 ? 0 : load<f32>(plane + (<usize>(row * W + col) << 2));
}

/** Σ_j w_j·plane[row, c_j] over 4 columns (a column or the row < 0: zero padding). */
// @ts-ignore: decorator
@inline function row4(
  plane: usize,
  rowStart: i32,
  outside: bool,
  c0: i32,
  c1: i32,
  c2: i32,
  c3: i32,
  w0: f32,
  w1: f32,
  w2: f32,
  w3: f32,
): f32 {
  if (outside) return w0 * 0 + w1 * 0 + w2 * 0 + w3 * 0;
  return (
    w0 * column(plane, rowStart, c0) +
    w1 * column(plane, rowStart, c1) +
    w2 * column(plane, rowStart, c2) +
    w3 * column(plane, rowStart, c3)
  );
}

// @ts-ignore: decorator
@inline function column(plane: usize, rowStart: i32, c: i32): f32 {
  return c < 0 ? 0 : load<f32>(plane + (<usize>(rowStart + c) << 2));
}

/** Keys' cubic convolution weights (A = -0.75) of the taps floor(x) - 1 … floor(x) + 2, t = x - floor(x). */
// @ts-ignore: decorator
@inline function cubic(t: f32, k: i32): f32 {
  const A: f32 = -0.75;
  if (k == 0) return ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  if (k == 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
  if (k == 2) return ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  return ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
}

/**
 * ONNX GridSample (opset 16; opset 20's 4-D case with linear = BILINEAR, cubic = BICUBIC). x: f32 [N, C,
 * H, W]; grid: f32 [N, OH, OW, 2], each point (x, y) normalised to [-1, 1] (outside is allowed); y: f32
 * [N, C, OH, OW]. mode: CODES.GRID; padding: CODES.GRID_PAD (padding_mode); alignCorners: 0/1. Nearest
 * rounds half to even (as PyTorch). A NaN grid coordinate gives NaN (bilinear, bicubic); for nearest it
 * reads as a point far outside the image.
 * N, C, H, W ≥ 1, OH, OW ≥ 0. No overlap of y with x or grid.
 */
export function grid_sample(
  x: usize,
  grid: usize,
  y: usize,
  N: i32,
  C: i32,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  mode: i32,
  padding: i32,
  alignCorners: i32,
): void {
  if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || OH <= 0 || OW <= 0) return;
  const align = alignCorners != 0;
  const xMin: f32 = align ? 0 : -0.5;
  const xMax: f32 = align ? <f32>(W - 1) : <f32>W - 0.5;
  const yMin: f32 = align ? 0 : -0.5;
  const yMax: f32 = align ? <f32>(H - 1) : <f32>H - 0.5;
  const P = OH * OW;
  const planeIn = <usize>(H * W) << 2;
  const planeOut = <usize>P << 2;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>C * planeIn;
    const yn = y + <usize>n * <usize>C * planeOut;
    const gn = grid + (<usize>n * <usize>P << 3);
    for (let p = 0; p < P; p++) {
      let fx = denormalize(load<f32>(gn + (<usize>p << 3)), W, align);
      let fy = denormalize(load<f32>(gn + (<usize>p << 3) + 4), H, align);
      if (mode == GRID_NEAREST) {
        fx = nearest<f32>(fx);
        fy = nearest<f32>(fy);
      }
      // Bicubic pads only its 16 taps (as PyTorch and onnxruntime; ONNX's reference also clamps or reflects
      // the point itself, which differs for border padding): the other modes pad the point first.
      if (mode != GRID_BICUBIC) {
        fx = padCoordinate(fx, W, xMin, xMax, padding);
        fy = padCoordinate(fy, H, yMin, yMax, padding);
      }
      const out = yn + (<usize>p << 2);
      if (mode == GRID_NEAREST) {
        const col = pixel(clampToI32(fx), W, xMin, xMax, padding);
        const row = pixel(clampToI32(fy), H, yMin, yMax, padding);
        for (let c = 0; c < C; c++) store<f32>(out + <usize>c * planeOut, at(xn + <usize>c * planeIn, row, col, W));
      } else if (mode == GRID_BICUBIC) {
        const x0 = Mathf.floor(fx);
        const y0 = Mathf.floor(fy);
        const tx = fx - x0;
        const ty = fy - y0;
        const cx = clampToI32(x0) - 1;
        const cy = clampToI32(y0) - 1;
        const c0 = pixel(cx, W, xMin, xMax, padding);
        const c1 = pixel(cx + 1, W, xMin, xMax, padding);
        const c2 = pixel(cx + 2, W, xMin, xMax, padding);
        const c3 = pixel(cx + 3, W, xMin, xMax, padding);
        const wx0 = cubic(tx, 0),
          wx1 = cubic(tx, 1),
          wx2 = cubic(tx, 2),
          wx3 = cubic(tx, 3);
        const wy0 = cubic(ty, 0),
          wy1 = cubic(ty, 1),
          wy2 = cubic(ty, 2),
          wy3 = cubic(ty, 3);
        const r0 = pixel(cy, H, yMin, yMax, padding);
        const r1 = pixel(cy + 1, H, yMin, yMax, padding);
        const r2 = pixel(cy + 2, H, yMin, yMax, padding);
        const r3 = pixel(cy + 3, H, yMin, yMax, padding);
        for (let c = 0; c < C; c++) {
          const plane = xn + <usize>c * planeIn;
          // Along x in each of the 4 rows, then along y (the reference's order).
          const v0 = row4(plane, r0 * W, r0 < 0, c0, c1, c2, c3, wx0, wx1, wx2, wx3);
          const v1 = row4(plane, r1 * W, r1 < 0, c0, c1, c2, c3, wx0, wx1, wx2, wx3);
          const v2 = row4(plane, r2 * W, r2 < 0, c0, c1, c2, c3, wx0, wx1, wx2, wx3);
          const v3 = row4(plane, r3 * W, r3 < 0, c0, c1, c2, c3, wx0, wx1, wx2, wx3);
          store<f32>(out + <usize>c * planeOut, wy0 * v0 + wy1 * v1 + wy2 * v2 + wy3 * v3);
        }
      } else {
        const x0 = Mathf.floor(fx);
        const y0 = Mathf.floor(fy);
        const wx1 = fx - x0;
        const wy1 = fy - y0;
        const wx0: f32 = 1 - wx1;
        const wy0: f32 = 1 - wy1;
        const ix = clampToI32(x0);
        const iy = clampToI32(y0);
        const c0 = pixel(ix, W, xMin, xMax, padding);
        const c1 = pixel(ix + 1, W, xMin, xMax, padding);
        const r0 = pixel(iy, H, yMin, yMax, padding);
        const r1 = pixel(iy + 1, H, yMin, yMax, padding);
        for (let c = 0; c < C; c++) {
          const plane = xn + <usize>c * planeIn;
          const top = wx0 * at(plane, r0, c0, W) + wx1 * at(plane, r0, c1, W);
          const bottom = wx0 * at(plane, r1, c0, W) + wx1 * at(plane, r1, c1, W);
          store<f32>(out + <usize>c * planeOut, wy0 * top + wy1 * bottom);
        }
      }
    }
  }
}

/** A float coordinate as an i32 index, kept far from overflow (huge coordinates are outside anyway); NaN is far out. */
// @ts-ignore: decorator
@inline function clampToI32(v: f32): i32 {
  return <i32>(v >= -1e8 ? (v > 1e8 ? 1e8 : v) : -1e8);
}
