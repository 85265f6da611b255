// Pad (constant / reflect / edge) and ConvTranspose's col2im.

import { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE } from "./generated/abi";

/**
 * y = pad(x) over rank R ≤ 6. table (i32): [R, out d0..d(R-1), in d0..d(R-1), begin pads b0..b(R-1)];
 * out/in dim 0 are replaced by `rows` (the batch is never padded). Output contiguous; for every
 * output index the source index is i - begin, mapped into [0, in) by the mode (constant: `value`).
 */
export function pad(x: usize, y: usize, rows: i32, table: usize, mode: i32, value: f32): void {
  const R = load<i32>(table);
  let total = rows;
  for (let d = 1; d < R; d++) total *= load<i32>(table + 4 + <usize>(d << 2));
  const inner = load<i32>(table + 4 + <usize>((R - 1) << 2));
  // Walk the output row by row (innermost dim contiguous), decomposing the row index each time.
  const nRows = inner > 0 ? total / inner : 0;
  for (let r = 0; r < nRows; r++) {
    let rem = r;
    let src: i32 = 0;
    let inStride = 1;
    let outside = false;
    // Source offset of the row for dims R-2 .. 0.
    let stride = load<i32>(table + 4 + <usize>((2 * R - 1) << 2)); // in dim R-1
    for (let d = R - 2; d >= 0; d--) {
      const od = d == 0 ? rows : load<i32>(table + 4 + <usize>(d << 2));
      const id = d == 0 ? rows : load<i32>(table + 4 + <usize>((R + d) << 2));
      const b = load<i32>(table + 4 + <usize>((2 * R + d) << 2));
      let i = (rem % od) - b;
      rem /= od;
      if (i < 0 || i >= id) {
        if (mode == PAD_CONSTANT) outside = true;
        else i = mapIndex(i, id, mode);
      }
      src += i * stride;
      stride *= id;
    }
    inStride = 1;
    const inInner = load<i32>(table + 4 + <usize>((2 * R - 1) << 2));
    const b = load<i32>(table + 4 + <usize>((3 * R - 1) << 2));
    const out = y + (<usize>(r * inner) << 2);
    for (let j = 0; j < inner; j++) {
      let v: f32 = value;
      if (!outside) {
        let i = j - b;
        if (i >= 0 && i < inInner) v = load<f32>(x + (<usize>(src + i * inStride) << 2));
        else if (mode != PAD_CONSTANT) v = load<f32>(x + (<usize>(src + mapIndex(i, inInner, mode)) << 2));
      }
      store<f32>(out + (<usize>j << 2), v);
    }
  }
}

// @ts-ignore: decorator
@inline function mapIndex(i: i32, n: i32, mode: i32): i32 {
  if (mode == PAD_EDGE) return i < 0 ? 0 : n - 1;
  // reflect (without repeating the edge), folding as often as needed
  if (n == 1) return 0;
  const period = 2 * (n - 1);
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

/**
 * ConvTranspose's scatter: col holds, for every input pixel (images·H·W rows), KH·KW·Co values
 * (column = (kh·KW + kw)·Co + co) from one GEMM; each is added into the NHWC output pixel it lands
 * on. y starts as the bias (or zero).
 */
export function col2im(
  col: usize, y: usize, images: i32, H: i32, W: i32, Co: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, OH: i32, OW: i32, bias: usize,
): void {
  const pix = <usize>Co << 2;
  const outImage = <usize>OH * <usize>OW * pix;
  for (let n = 0; n < images; n++) {
    const yn = y + <usize>n * outImage;
    for (let p: usize = 0; p < <usize>(OH * OW); p++) {
      if (bias != 0) memory.copy(yn + p * pix, bias, pix);
      else memory.fill(yn + p * pix, 0, pix);
    }
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const src = col + (<usize>((n * H + h) * W + w) * <usize>(KH * KW)) * pix;
        for (let kh = 0; kh < KH; kh++) {
          const oh = h * SH - PT + kh * DH;
          if (oh < 0 || oh >= OH) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ow = w * SW - PL + kw * DW;
            if (ow < 0 || ow >= OW) continue;
            const s = src + <usize>(kh * KW + kw) * pix;
            const d = yn + <usize>(oh * OW + ow) * pix;
            let c = 0;
            for (; c + 4 <= Co; c += 4) {
              const at = <usize>c << 2;
              v128.store(d + at, f32x4.add(v128.load(d + at), v128.load(s + at)));
            }
            for (; c < Co; c++) {
              const at = <usize>c << 2;
              store<f32>(d + at, load<f32>(d + at) + load<f32>(s + at));
            }
          }
        }
      }
    }
  }
}

/**
 * pad with the constant read from memory: 4 bytes at value (an f32, or an int32's bits: loads and stores
 * keep them exactly), for a constant_value given at run time or an integer tensor of 4-byte elements.
 */
export function pad_at(x: usize, y: usize, rows: i32, table: usize, mode: i32, value: usize): void {
  pad(x, y, rows, table, mode, load<f32>(value));
}
