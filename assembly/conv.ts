// Convolution kernels over NHWC images (channels innermost).
//   im2col          rows of the patch matrix for a (grouped) conv, then `gemm` does the arithmetic
//   conv_depthwise  group == C, weights [KH·KW][Cp] (Cp = ceil(C/4)·4, zero padded), bias [Cp]
// Output sizes and pads come from the compiler; a tap outside the input reads as zero.

import {
  vsplat, loadPartial, storePartial, vgelu, vhardSigmoid, vhardSwish, vleakyRelu, vsigmoid, vtanh,
} from "./vmath";
import {
  ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_CLIP, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_GELU,
} from "./generated/abi";
import { copyFloats, zeroFloats } from "./layout";

/** Same codes as the GEMM epilogue. Out of line: the transcendental cases are large. */
function vactivate(v: v128, act: i32, p0: v128, p1: v128): v128 {
  switch (act) {
    case ACT_RELU: return f32x4.max(v, vsplat(0.0));
    case ACT_LEAKY_RELU: return vleakyRelu(v, p0);
    case ACT_SIGMOID: return vsigmoid(v);
    case ACT_TANH: return vtanh(v);
    case ACT_CLIP: return f32x4.max(p0, f32x4.min(p1, v));
    case ACT_HARD_SIGMOID: return vhardSigmoid(v, p0, p1);
    case ACT_HARD_SWISH: return vhardSwish(v);
    case ACT_GELU: return vgelu(v);
    default: return v;
  }
}

/** Activation with the common cheap cases inline (MobileNet's relu6 is clip). */
// @ts-ignore: decorator
@inline export function epilogue(v: v128, act: i32, p0: v128, p1: v128): v128 {
  if (act == ACT_NONE) return v;
  if (act == ACT_RELU) return f32x4.max(v, vsplat(0.0));
  if (act == ACT_CLIP) return f32x4.max(p0, f32x4.min(p1, v));
  return vactivate(v, act, p0, p1);
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** First tap k (0-based) with start + k·D >= 0. */
// @ts-ignore: decorator
@inline export function tapLo(start: i32, D: i32): i32 {
  return start >= 0 ? 0 : (D - 1 - start) / D;
}

/** One past the last tap k < K with start + k·D < N. */
// @ts-ignore: decorator
@inline export function tapHi(start: i32, K: i32, D: i32, N: i32): i32 {
  if (start >= N) return 0;
  return min(K, (N - start + D - 1) / D);
}

/**
 * Patch matrix of an NHWC conv for input channels [c0, c0+cn): one row per output pixel
 * (images·OH·OW rows), KH·KW·cn columns, column = (kh·KW + kw)·cn + c, zeros for padding taps.
 */
export function im2col(
  x: usize, col: usize, images: i32, H: i32, W: i32, C: i32, c0: i32, cn: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, OH: i32, OW: i32,
): void {
  if (images <= 0 || OH <= 0 || OW <= 0 || cn <= 0 || KH <= 0 || KW <= 0) return;
  const tapBytes = <usize>cn << 2;
  const pix = <usize>C << 2;
  const rowTaps = KW * cn;
  // Without groups and dilation the in-bounds taps of one kernel row are adjacent in x: one copy.
  const contiguous = cn == C && DW == 1;
  let dst = col;
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * pix + (<usize>c0 << 2);
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PT;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - PL;
        const kwLo = tapLo(iw0, DW);
        const kwHi = tapHi(iw0, KW, DW, W);
        for (let kh = 0; kh < KH; kh++) {
          const ih = ih0 + kh * DH;
          if (ih < 0 || ih >= H || kwLo >= kwHi) {
            zeroFloats(dst, rowTaps);
          } else {
            if (kwLo > 0) zeroFloats(dst, kwLo * cn);
            let src = xn + (<usize>ih * <usize>W + <usize>(iw0 + kwLo * DW)) * pix;
            if (contiguous) {
              copyFloats(dst + <usize>kwLo * tapBytes, src, (kwHi - kwLo) * cn);
            } else {
              const step = <usize>DW * pix;
              for (let kw = kwLo; kw < kwHi; kw++) {
                copyFloats(dst + <usize>kw * tapBytes, src, cn);
                src += step;
              }
            }
            if (kwHi < KW) zeroFloats(dst + <usize>kwHi * tapBytes, (KW - kwHi) * cn);
          }
          dst += <usize>rowTaps << 2;
        }
      }
    }
  }
}

/**
 * One depthwise output pixel, channels [cStart, C), taps kh in [khLo, khHi) × kw in [kwLo, kwHi).
 * `src` points at input pixel (ih0 + khLo·DH, iw0 + kwLo·DW), channel 0; `wp` at tap (khLo, kwLo).
 */
function dwPixel(
  src: usize, wp: usize, bias: usize, yp: usize, C: i32, Cp: i32, cStart: i32,
  nkh: i32, nkw: i32, rowStep: usize, colStep: usize, KW: i32,
  act: i32, p0: v128, p1: v128,
): void {
  const wTap = <usize>Cp << 2;
  const wRow = <usize>KW * wTap;
  let c = cStart;
  // 16 channels at a time: four independent accumulator chains.
  for (; c + 16 <= C; c += 16) {
    const cb = <usize>c << 2;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    if (bias != 0) {
      a0 = v128.load(bias + cb); a1 = v128.load(bias + cb, 16);
      a2 = v128.load(bias + cb, 32); a3 = v128.load(bias + cb, 48);
    }
    let xr = src + cb;
    let wr = wp + cb;
    for (let kh = 0; kh < nkh; kh++) {
      let xq = xr;
      let wq = wr;
      for (let kw = 0; kw < nkw; kw++) {
        a0 = madd(v128.load(xq), v128.load(wq), a0);
        a1 = madd(v128.load(xq, 16), v128.load(wq, 16), a1);
        a2 = madd(v128.load(xq, 32), v128.load(wq, 32), a2);
        a3 = madd(v128.load(xq, 48), v128.load(wq, 48), a3);
        xq += colStep;
        wq += wTap;
      }
      xr += rowStep;
      wr += wRow;
    }
    v128.store(yp + cb, epilogue(a0, act, p0, p1));
    v128.store(yp + cb, epilogue(a1, act, p0, p1), 16);
    v128.store(yp + cb, epilogue(a2, act, p0, p1), 32);
    v128.store(yp + cb, epilogue(a3, act, p0, p1), 48);
  }
  for (; c < C; c += 4) {
    const cb = <usize>c << 2;
    const lanes = C - c; // < 4 only for the tail: partial loads, never past the pixel's channels
    let a = bias != 0 ? v128.load(bias + cb) : i32x4.splat(0);
    let xr = src + cb;
    let wr = wp + cb;
    for (let kh = 0; kh < nkh; kh++) {
      let xq = xr;
      let wq = wr;
      for (let kw = 0; kw < nkw; kw++) {
        a = madd(loadPartial(xq, lanes), v128.load(wq), a);
        xq += colStep;
        wq += wTap;
      }
      xr += rowStep;
      wr += wRow;
    }
    storePartial(yp + cb, epilogue(a, act, p0, p1), lanes);
  }
}

/**
 * 3×3 taps for output columns [owLo, owHi) of one row, all inside the input (no bounds checks),
 * channels [0, C4). Channel-block outer so the 9 weights and the bias stay in registers.
 */
function dw3x3Interior(
  r0: usize, rowStep: usize, colStep: usize, step: usize, w: usize, Cp: i32, bias: usize,
  yp: usize, pix: usize, count: i32, C4: i32, act: i32, p0: v128, p1: v128,
): void {
  const wTap = <usize>Cp << 2;
  const d2 = colStep << 1;
  for (let c = 0; c < C4; c += 4) {
    const cb = <usize>c << 2;
    const wc = w + cb;
    const w0 = v128.load(wc), w1 = v128.load(wc + wTap), w2 = v128.load(wc + 2 * wTap);
    const w3 = v128.load(wc + 3 * wTap), w4 = v128.load(wc + 4 * wTap), w5 = v128.load(wc + 5 * wTap);
    const w6 = v128.load(wc + 6 * wTap), w7 = v128.load(wc + 7 * wTap), w8 = v128.load(wc + 8 * wTap);
    const b = bias != 0 ? v128.load(bias + cb) : i32x4.splat(0);
    let x0 = r0 + cb;
    let x1 = x0 + rowStep;
    let x2 = x1 + rowStep;
    let yq = yp + cb;
    for (let i = 0; i < count; i++) {
      // Three partial sums (one per kernel row) shorten the dependency chain.
      let s0 = madd(v128.load(x0), w0, b);
      let s1 = f32x4.mul(v128.load(x1), w3);
      let s2 = f32x4.mul(v128.load(x2), w6);
      s0 = madd(v128.load(x0 + colStep), w1, s0);
      s1 = madd(v128.load(x1 + colStep), w4, s1);
      s2 = madd(v128.load(x2 + colStep), w7, s2);
      s0 = madd(v128.load(x0 + d2), w2, s0);
      s1 = madd(v128.load(x1 + d2), w5, s1);
      s2 = madd(v128.load(x2 + d2), w8, s2);
      v128.store(yq, epilogue(f32x4.add(f32x4.add(s0, s1), s2), act, p0, p1));
      x0 += step;
      x1 += step;
      x2 += step;
      yq += pix;
    }
  }
}

/**
 * Depthwise conv (one output channel per input channel), NHWC, fused bias + activation (gemm codes).
 * w: [KH·KW][Cp] f32, tap-major, Cp = ceil(C/4)·4 zero padded, 16-byte aligned; bias: [Cp] or 0.
 */
export function conv_depthwise(
  x: usize, w: usize, bias: usize, y: usize, images: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, OH: i32, OW: i32,
  act: i32, p0: f32, p1: f32,
): void {
  if (images <= 0 || OH <= 0 || OW <= 0 || C <= 0) return;
  const vp0 = vsplat(p0);
  const vp1 = vsplat(p1);
  const Cp = (C + 3) & ~3;
  const C4 = C & ~3;
  const pix = <usize>C << 2;
  const rowStep = <usize>DH * <usize>W * pix;
  const colStep = <usize>DW * pix;
  const wTap = <usize>Cp << 2;
  const fast = KH == 3 && KW == 3 && C4 > 0;
  // Output columns whose whole window is inside the input.
  let owLo = (PL + SW - 1) / SW;
  if (owLo > OW) owLo = OW;
  const lastStart = W - 1 - (KW - 1) * DW + PL;
  let owHi = lastStart >= 0 ? lastStart / SW + 1 : 0;
  if (owHi > OW) owHi = OW;
  if (owHi < owLo) owHi = owLo;
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * pix;
    const yn = y + <usize>n * <usize>OH * <usize>OW * pix;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PT;
      const khLo = tapLo(ih0, DH);
      const khHi = tapHi(ih0, KH, DH, H);
      const nkh = max(0, khHi - khLo);
      const yrow = yn + <usize>oh * <usize>OW * pix;
      const xrow = xn + <usize>max(0, ih0 + khLo * DH) * <usize>W * pix;
      const wrow = w + <usize>(khLo * KW) * wTap;
      const interiorRow = fast && khLo == 0 && khHi == KH && owLo < owHi;
      for (let ow = 0; ow < OW; ow++) {
        if (interiorRow && ow == owLo) {
          dw3x3Interior(
            xrow + <usize>(owLo * SW - PL) * pix, rowStep, colStep, <usize>SW * pix, w, Cp, bias,
            yrow + <usize>owLo * pix, pix, owHi - owLo, C4, act, vp0, vp1,
          );
          if (C4 < C) {
            for (; ow < owHi; ow++) {
              dwPixel(
                xrow + <usize>(ow * SW - PL) * pix, w, bias, yrow + <usize>ow * pix, C, Cp, C4,
                KH, KW, rowStep, colStep, KW, act, vp0, vp1,
              );
            }
          }
          ow = owHi - 1;
          continue;
        }
        const iw0 = ow * SW - PL;
        const kwLo = tapLo(iw0, DW);
        const kwHi = tapHi(iw0, KW, DW, W);
        const nkw = max(0, kwHi - kwLo);
        dwPixel(
          xrow + <usize>max(0, iw0 + kwLo * DW) * pix, wrow + <usize>kwLo * wTap, bias, yrow + <usize>ow * pix,
          C, Cp, 0, nkh, nkw, rowStep, colStep, KW, act, vp0, vp1,
        );
      }
    }
  }
}
