// Pooling over NHWC images (SIMD over channels) and normalisations: LRN across channels, layer norm.
// ONNX semantics: the compiler gives OH/OW (ceil_mode included); padding never wins a max, and only
// taps inside the real input are read.

import { vsplat, loadPartial, storePartial, vexp, vlog } from "./vmath";
import { tapLo, tapHi } from "./conv";

/**
 * Max or average over the taps of one output pixel, all channels. `src` = first valid tap, channel 0.
 * isMax: max, else sum · scale.
 */
// @ts-ignore: decorator
@inline function poolPixel(
  src: usize, yp: usize, C: i32, nkh: i32, nkw: i32, rowStep: usize, colStep: usize, isMax: bool, scale: v128,
): void {
  const init = isMax ? vsplat(-Infinity) : vsplat(0.0);
  let c = 0;
  for (; c + 16 <= C; c += 16) {
    const cb = <usize>c << 2;
    let a0 = init, a1 = init, a2 = init, a3 = init;
    let xr = src + cb;
    for (let kh = 0; kh < nkh; kh++) {
      let xq = xr;
      for (let kw = 0; kw < nkw; kw++) {
        if (isMax) {
          a0 = f32x4.max(a0, v128.load(xq));
          a1 = f32x4.max(a1, v128.load(xq, 16));
          a2 = f32x4.max(a2, v128.load(xq, 32));
          a3 = f32x4.max(a3, v128.load(xq, 48));
        } else {
          a0 = f32x4.add(a0, v128.load(xq));
          a1 = f32x4.add(a1, v128.load(xq, 16));
          a2 = f32x4.add(a2, v128.load(xq, 32));
          a3 = f32x4.add(a3, v128.load(xq, 48));
        }
        xq += colStep;
      }
      xr += rowStep;
    }
    if (!isMax) {
      a0 = f32x4.mul(a0, scale); a1 = f32x4.mul(a1, scale);
      a2 = f32x4.mul(a2, scale); a3 = f32x4.mul(a3, scale);
    }
    v128.store(yp + cb, a0);
    v128.store(yp + cb, a1, 16);
    v128.store(yp + cb, a2, 32);
    v128.store(yp + cb, a3, 48);
  }
  for (; c < C; c += 4) {
    const cb = <usize>c << 2;
    const lanes = C - c;
    let a = init;
    let xr = src + cb;
    for (let kh = 0; kh < nkh; kh++) {
      let xq = xr;
      for (let kw = 0; kw < nkw; kw++) {
        a = isMax ? f32x4.max(a, loadPartial(xq, lanes)) : f32x4.add(a, loadPartial(xq, lanes));
        xq += colStep;
      }
      xr += rowStep;
    }
    if (!isMax) a = f32x4.mul(a, scale);
    storePartial(yp + cb, a, lanes);
  }
}

/** MaxPool, NHWC. A window with no tap inside the input gives -Infinity. */
export function maxpool(
  x: usize, y: usize, images: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, OH: i32, OW: i32,
): void {
  if (images <= 0 || OH <= 0 || OW <= 0 || C <= 0) return;
  const pix = <usize>C << 2;
  const rowStep = <usize>DH * <usize>W * pix;
  const colStep = <usize>DW * pix;
  const one = vsplat(1.0);
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * pix;
    let yp = y + <usize>n * <usize>OH * <usize>OW * pix;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PT;
      const khLo = tapLo(ih0, DH);
      const nkh = max(0, tapHi(ih0, KH, DH, H) - khLo);
      const xrow = xn + <usize>max(0, ih0 + khLo * DH) * <usize>W * pix;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - PL;
        const kwLo = tapLo(iw0, DW);
        const nkw = max(0, tapHi(iw0, KW, DW, W) - kwLo);
        poolPixel(xrow + <usize>max(0, iw0 + kwLo * DW) * pix, yp, C, nkh, nkw, rowStep, colStep, true, one);
        yp += pix;
      }
    }
  }
}

/**
 * AveragePool, NHWC. countIncludePad = 1: the divisor counts taps inside the padded input
 * (H+PT+PB by W+PL+PR), never taps past it (ceil_mode windows); 0: only taps inside the input.
 * A window with nothing to count gives 0.
 */
export function avgpool(
  x: usize, y: usize, images: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, PB: i32, PR: i32, OH: i32, OW: i32,
  countIncludePad: i32,
): void {
  if (images <= 0 || OH <= 0 || OW <= 0 || C <= 0) return;
  const pix = <usize>C << 2;
  const rowStep = <usize>W * pix;
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * pix;
    let yp = y + <usize>n * <usize>OH * <usize>OW * pix;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PT;
      const khLo = tapLo(ih0, 1);
      const nkh = max(0, tapHi(ih0, KH, 1, H) - khLo);
      // Taps inside the padded extent [-PT, H+PB): windows start at >= -PT, so only the end clips.
      const padH = max(0, min(KH, H + PB - ih0));
      const xrow = xn + <usize>max(0, ih0 + khLo) * <usize>W * pix;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - PL;
        const kwLo = tapLo(iw0, 1);
        const nkw = max(0, tapHi(iw0, KW, 1, W) - kwLo);
        const count = countIncludePad != 0 ? padH * max(0, min(KW, W + PR - iw0)) : nkh * nkw;
        const scale = vsplat(count > 0 ? <f32>(1.0 / <f64>count) : 0);
        poolPixel(xrow + <usize>max(0, iw0 + kwLo) * pix, yp, C, nkh, nkw, rowStep, pix, false, scale);
        yp += pix;
      }
    }
  }
}

/** [images, HW, C] → [images, C]: mean (isMax false) or max over HW, 16 channels in registers. */
// @ts-ignore: decorator
@inline function globalPool(x: usize, y: usize, images: i32, HW: i32, C: i32, isMax: bool): void {
  if (images <= 0 || C <= 0) return;
  const pix = <usize>C << 2;
  const scale = vsplat(HW > 0 ? <f32>(1.0 / <f64>HW) : 0);
  for (let n = 0; n < images; n++) {
    poolPixel(x + <usize>n * <usize>HW * pix, y + <usize>n * pix, C, 1, HW, 0, pix, isMax, scale);
  }
}

export function global_avgpool(x: usize, y: usize, images: i32, HW: i32, C: i32): void {
  globalPool(x, y, images, HW, C, false);
}

export function global_maxpool(x: usize, y: usize, images: i32, HW: i32, C: i32): void {
  globalPool(x, y, images, HW, C, true);
}

/**
 * ONNX LRN across channels, NHWC (channels contiguous per pixel), x and y must not overlap:
 * y[c] = x[c] / (bias + alpha/size · Σ x[c']²)^beta, c' in [c - ⌊(size-1)/2⌋, c + ⌈(size-1)/2⌉] ∩ [0, C).
 * Window sums are scalar (size is small); the power is vectorised as exp(-beta·log(d)).
 */
export function lrn(x: usize, y: usize, images: i32, HW: i32, C: i32, size: i32, alpha: f32, beta: f32, bias: f32): void {
  if (images <= 0 || HW <= 0 || C <= 0) return;
  const before = (size - 1) >> 1;
  const after = size - 1 - before;
  const k = alpha / <f32>size;
  const nb = vsplat(-beta);
  const pixels = images * HW;
  const pix = <usize>C << 2;
  for (let p = 0; p < pixels; p++) {
    const xp = x + <usize>p * pix;
    const yp = y + <usize>p * pix;
    for (let c = 0; c < C; c++) {
      const lo = max(0, c - before);
      const hi = min(C - 1, c + after);
      let s: f32 = 0;
      for (let j = lo; j <= hi; j++) {
        const v = load<f32>(xp + (<usize>j << 2));
        s += v * v;
      }
      store<f32>(yp + (<usize>c << 2), bias + k * s);
    }
    for (let c = 0; c < C; c += 4) {
      const lanes = C - c;
      const cb = <usize>c << 2;
      const d = loadPartial(yp + cb, lanes);
      storePartial(yp + cb, f32x4.mul(loadPartial(xp + cb, lanes), vexp(f32x4.mul(nb, vlog(d)))), lanes);
    }
  }
}

/** Σ over n floats with 16 partial sums; of (v - m)² when squares (m splatted). */
// @ts-ignore: decorator
@inline function rowSum(p: usize, n: i32, m: v128, squares: bool): f64 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
    if (squares) {
      v0 = f32x4.sub(v0, m); v1 = f32x4.sub(v1, m); v2 = f32x4.sub(v2, m); v3 = f32x4.sub(v3, m);
      v0 = f32x4.mul(v0, v0); v1 = f32x4.mul(v1, v1); v2 = f32x4.mul(v2, v2); v3 = f32x4.mul(v3, v3);
    }
    a0 = f32x4.add(a0, v0); a1 = f32x4.add(a1, v1); a2 = f32x4.add(a2, v2); a3 = f32x4.add(a3, v3);
    p += 64;
  }
  for (; i + 4 <= n; i += 4) {
    let v = v128.load(p);
    if (squares) {
      v = f32x4.sub(v, m);
      v = f32x4.mul(v, v);
    }
    a0 = f32x4.add(a0, v);
    p += 16;
  }
  const t = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s: f64 = <f64>f32x4.extract_lane(t, 0) + <f64>f32x4.extract_lane(t, 1) +
    <f64>f32x4.extract_lane(t, 2) + <f64>f32x4.extract_lane(t, 3);
  const ms = f32x4.extract_lane(m, 0);
  for (; i < n; i++) {
    let v = load<f32>(p);
    if (squares) {
      v -= ms;
      v *= v;
    }
    s += <f64>v;
    p += 4;
  }
  return s;
}

/**
 * Layer normalisation of each contiguous row of D floats (two-pass mean / variance), then
 * · scale[D] + bias[D] (bias 0 = none). In place (x == y) is fine.
 */
export function layer_norm(x: usize, scale: usize, bias: usize, y: usize, rows: i32, D: i32, epsilon: f32): void {
  if (rows <= 0 || D <= 0) return;
  const rowBytes = <usize>D << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowBytes;
    const yp = y + <usize>r * rowBytes;
    const mean = <f32>(rowSum(xp, D, i32x4.splat(0), false) / <f64>D);
    const vm = vsplat(mean);
    const variance = rowSum(xp, D, vm, true) / <f64>D;
    const rs = <f32>(1.0 / Math.sqrt(variance + <f64>epsilon));
    const vr = vsplat(rs);
    let i = 0;
    for (; i + 4 <= D; i += 4) {
      const o = <usize>i << 2;
      let v = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vr), v128.load(scale + o));
      if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
      v128.store(yp + o, v);
    }
    for (; i < D; i++) {
      const o = <usize>i << 2;
      let v = (load<f32>(xp + o) - mean) * rs * load<f32>(scale + o);
      if (bias != 0) v += load<f32>(bias + o);
      store<f32>(yp + o, v);
    }
  }
}

/**
 * LayerNormalization's optional outputs, per row r of x [rows, D] (D contiguous f32, any alignment): the
 * mean of the row and 1 / sqrt(variance + epsilon) (biased variance), computed exactly as layer_norm
 * computes them. mean / invStd: [rows] f32, or 0 for not written. rows, D ≤ 0 write nothing.
 */
export function layer_norm_stats(x: usize, mean: usize, invStd: usize, rows: i32, D: i32, epsilon: f32): void {
  if (rows <= 0 || D <= 0) return;
  const rowBytes = <usize>D << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowBytes;
    const m = <f32>(rowSum(xp, D, i32x4.splat(0), false) / <f64>D);
    const variance = rowSum(xp, D, vsplat(m), true) / <f64>D;
    const rs = <f32>(1.0 / Math.sqrt(variance + <f64>epsilon));
    if (mean != 0) store<f32>(mean + (<usize>r << 2), m);
    if (invStd != 0) store<f32>(invStd + (<usize>r << 2), rs);
  }
}

/**
 * MaxPool's Indices output for x NHWC [images, H, W, C] (f32): per image n, channel c and output pixel
 * (oh, ow), the flattened index into the NCHW input of the window's largest value, the first one scanning
 * kh then kw (a later tap replaces it only when strictly greater; NaN never): (n·C + c)·H·W + h·W + w, or
 * with storageOrder = 1 (column-major) (n·C + c)·H·W + w·H + h. Taps outside the input are skipped; a
 * window with none inside, or only NaN, writes −1. y: [images, C, OH, OW] i64, NCHW (the Indices tensor).
 */
export function maxpool_indices(
  x: usize, y: usize, images: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, OH: i32, OW: i32,
  storageOrder: i32,
): void {
  if (images <= 0 || OH <= 0 || OW <= 0 || C <= 0) return;
  const HW = <i64>H * <i64>W;
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * (<usize>C << 2);
    for (let c = 0; c < C; c++) {
      const base = (<i64>n * <i64>C + <i64>c) * HW;
      let yp = y + ((<usize>n * <usize>C + <usize>c) * <usize>OH * <usize>OW << 3);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let best: f32 = -Infinity;
          let at: i64 = -1;
          for (let kh = 0; kh < KH; kh++) {
            const h = oh * SH - PT + kh * DH;
            if (h < 0 || h >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const w = ow * SW - PL + kw * DW;
              if (w < 0 || w >= W) continue;
              const v = load<f32>(xn + ((<usize>h * <usize>W + <usize>w) * <usize>C + <usize>c << 2));
              if (v > best || (at < 0 && v == best)) {
                best = v;
                at = storageOrder != 0 ? <i64>w * <i64>H + <i64>h : <i64>h * <i64>W + <i64>w;
              }
            }
          }
          store<i64>(yp, at < 0 ? -1 : base + at);
          yp += 8;
        }
      }
    }
  }
}
