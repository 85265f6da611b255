// The operands of the integer matrix products (assembly/qgemm.ts has the layouts): u8/i8 values widened to
// i16 with their zero points subtracted, as A rows, as packed B, or as a convolution's packed im2col.

import { packedBytes, packedIndex } from "./qgemm";

/** Element `i` of a u8 (signed 0) or i8 (signed 1) tensor as i32. */
// @ts-ignore: decorator
@inline function q8(p: usize, i: usize, signed: i32): i32 {
  return signed ? <i32>load<i8>(p + i) : <i32>load<u8>(p + i);
}

/**
 * A16 from rows of K u8/i8 values (x [rows, K], signed 0/1): y[r, k] = x[r, k] − zp[r mod zpPeriod]
 * (zpPeriod 0: zp[0]; zp 0: no zero point), rows Kp = K rounded up to even i16 apart, the pad column 0.
 */
export function q_widen(x: usize, signed: i32, zp: usize, zpPeriod: i32, y: usize, rows: i32, K: i32): void {
  const Kp = (K + 1) & ~1;
  for (let r = 0; r < rows; r++) {
    const z = zp ? q8(zp, zpPeriod ? <usize>(r % zpPeriod) : 0, signed) : 0;
    const xr = x + <usize>r * <usize>K;
    const yr = y + (<usize>r * <usize>Kp << 1);
    let k = 0;
    if (signed) {
      const vz = i16x8.splat(<i16>z);
      for (; k + 8 <= K; k += 8) v128.store(yr + (<usize>k << 1), i16x8.sub(v128.load8x8_s(xr + <usize>k), vz));
    } else {
      const vz = i16x8.splat(<i16>z);
      for (; k + 8 <= K; k += 8) v128.store(yr + (<usize>k << 1), i16x8.sub(v128.load8x8_u(xr + <usize>k), vz));
    }
    for (; k < K; k++) store<i16>(yr + (<usize>k << 1), <i16>(q8(xr, <usize>k, signed) - z));
    if (K & 1) store<i16>(yr + (<usize>K << 1), 0);
  }
}

/**
 * Bp from batches of B [K, N] u8/i8 (signed 0/1; batches K·N apart): B[k, n] − zp[zpPerColumn ? n : 0]
 * (zp 0: none), packed as the layout above, one packed B per batch.
 */
export function q_pack_b(b: usize, signed: i32, zp: usize, zpPerColumn: i32, packed: usize, batches: i32, K: i32, N: i32): void {
  const Kp = (K + 1) & ~1;
  const K2 = Kp >> 1;
  const bytes = packedBytes(N, Kp);
  for (let t = 0; t < batches; t++) {
    const bt = b + <usize>t * <usize>K * <usize>N;
    const pt = packed + <usize>t * bytes;
    memory.fill(pt, 0, bytes);
    for (let n = 0; n < N; n++) {
      const z = zp ? q8(zp, zpPerColumn ? <usize>n : 0, signed) : 0;
      for (let k = 0; k < K; k++)
        store<i16>(pt + (packedIndex(k, n, K2) << 1), <i16>(q8(bt, <usize>k * <usize>N + <usize>n, signed) - z));
    }
  }
}

/**
 * The convolution's B for each image, packed: B[k, n] = x[i, c0 + c, ih, iw] − zp (0 outside the image,
 * which is where a zero-point pad lands), k = (c · KH + kh) · KW + kw over the group's cn channels,
 * n = oh · OW + ow, ih = oh·SH − PT + kh·DH, iw = ow·SW − PL + kw·DW. x u8/i8 [images, C, H, W] (signed
 * 0/1), zp one value (0: none); one packed B of K = cn·KH·KW rows and N = OH·OW columns per image.
 */
export function q_im2col(
  x: usize,
  signed: i32,
  zp: usize,
  col: usize,
  images: i32,
  C: i32,
  H: i32,
  W: i32,
  c0: i32,
  cn: i32,
  KH: i32,
  KW: i32,
  SH: i32,
  SW: i32,
  DH: i32,
  DW: i32,
  PT: i32,
  PL: i32,
  OH: i32,
  OW: i32,
): void {
  const K = cn * KH * KW;
  const N = OH * OW;
  const Kp = (K + 1) & ~1;
  const K2 = Kp >> 1;
  const bytes = packedBytes(N, Kp);
  const z = zp ? q8(zp, 0, signed) : 0;
  const plane = <usize>H * <usize>W;
  for (let i = 0; i < images; i++) {
    const pt = col + <usize>i * bytes;
    memory.fill(pt, 0, bytes);
    for (let c = 0; c < cn; c++) {
      const xc = x + (<usize>i * <usize>C + <usize>(c0 + c)) * plane;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const k = (c * KH + kh) * KW + kw;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const xrow = xc + <usize>ih * <usize>W;
            for (let ow = 0; ow < OW; ow++) {
              const iw = ow * SW - PL + kw * DW;
              if (iw < 0 || iw >= W) continue;
              store<i16>(pt + (packedIndex(k, oh * OW + ow, K2) << 1), <i16>(q8(xrow, <usize>iw, signed) - z));
            }
          }
        }
      }
    }
  }
}
