// Data movement for image layouts: NCHW <-> NHWC at the graph edges, general transposes, strided chunk
// copies (Concat/Split/Slice along any axis). Also the small float copy/fill helpers the conv kernels use.

/** Copies n floats (no overlap). Short runs inline: a memory.copy call costs more than a few v128 moves. */
// @ts-ignore: decorator
@inline export function copyFloats(dst: usize, src: usize, n: i32): void {
  if (n >= 32) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  while (n >= 4) {
    v128.store(dst, v128.load(src));
    dst += 16;
    src += 16;
    n -= 4;
  }
  while (n > 0) {
    store<f32>(dst, load<f32>(src));
    dst += 4;
    src += 4;
    n--;
  }
}

/** Writes n zero floats. */
// @ts-ignore: decorator
@inline export function zeroFloats(dst: usize, n: i32): void {
  if (n >= 32) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  const z = i32x4.splat(0);
  while (n >= 4) {
    v128.store(dst, z);
    dst += 16;
    n -= 4;
  }
  while (n > 0) {
    store<f32>(dst, 0);
    dst += 4;
    n--;
  }
}

/** x[R][Cc] → y[Cc][R]: 4×4 register transposes, in 16×16 tiles so the scattered stores stay in cache. */
function transpose2d(x: usize, y: usize, R: i32, Cc: i32): void {
  const R4 = R & ~3;
  const C4 = Cc & ~3;
  const xs = <usize>Cc << 2;
  const ys = <usize>R << 2;
  for (let r0 = 0; r0 < R4; r0 += 16) {
    const rEnd = min(r0 + 16, R4);
    for (let c0 = 0; c0 < C4; c0 += 16) {
      const cEnd = min(c0 + 16, C4);
      for (let r = r0; r < rEnd; r += 4) {
        let src = x + <usize>r * xs + (<usize>c0 << 2);
        let dst = y + <usize>c0 * ys + (<usize>r << 2);
        for (let c = c0; c < cEnd; c += 4) {
          const a = v128.load(src);
          const b = v128.load(src + xs);
          const cc = v128.load(src + 2 * xs);
          const d = v128.load(src + 3 * xs);
          const t0 = f32x4.shuffle(a, b, 0, 4, 1, 5);
          const t1 = f32x4.shuffle(a, b, 2, 6, 3, 7);
          const t2 = f32x4.shuffle(cc, d, 0, 4, 1, 5);
          const t3 = f32x4.shuffle(cc, d, 2, 6, 3, 7);
          v128.store(dst, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
          v128.store(dst + ys, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
          v128.store(dst + 2 * ys, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
          v128.store(dst + 3 * ys, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
          src += 16;
          dst += 4 * ys;
        }
      }
    }
  }
  // Edges: the last R % 4 rows (all columns) and the last Cc % 4 columns of the other rows.
  for (let r = 0; r < R; r++) {
    const cStart = r < R4 ? C4 : 0;
    for (let c = cStart; c < Cc; c++) {
      store<f32>(y + <usize>c * ys + (<usize>r << 2), load<f32>(x + <usize>r * xs + (<usize>c << 2)));
    }
  }
}

/** NCHW [images, C, HW] → NHWC [images, HW, C]. */
export function nchw_to_nhwc(x: usize, y: usize, images: i32, C: i32, HW: i32): void {
  if (images <= 0 || C <= 0 || HW <= 0) return;
  const bytes = <usize>C * <usize>HW << 2;
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * bytes;
    const yn = y + <usize>n * bytes;
    if (C == 1 || HW == 1) {
      memory.copy(yn, xn, bytes);
    } else if (C == 3) {
      // RGB planes → interleaved pixels, 4 pixels (3 vectors) per step.
      const plane = <usize>HW << 2;
      let p = 0;
      let src = xn;
      let dst = yn;
      for (; p + 4 <= HW; p += 4) {
        const a = v128.load(src);
        const b = v128.load(src + plane);
        const c = v128.load(src + 2 * plane);
        const t = f32x4.shuffle(a, b, 0, 4, 1, 5);
        v128.store(dst, f32x4.shuffle(t, c, 0, 1, 4, 2));
        v128.store(dst, f32x4.shuffle(f32x4.shuffle(b, c, 1, 5, 2, 6), a, 0, 1, 6, 2), 16);
        v128.store(dst, f32x4.shuffle(f32x4.shuffle(a, b, 3, 7, 3, 7), c, 6, 0, 1, 7), 32);
        src += 16;
        dst += 48;
      }
      for (; p < HW; p++) {
        store<f32>(dst, load<f32>(src));
        store<f32>(dst, load<f32>(src + plane), 4);
        store<f32>(dst, load<f32>(src + 2 * plane), 8);
        src += 4;
        dst += 12;
      }
    } else {
      transpose2d(xn, yn, C, HW);
    }
  }
}

/** NHWC [images, HW, C] → NCHW [images, C, HW]. */
export function nhwc_to_nchw(x: usize, y: usize, images: i32, C: i32, HW: i32): void {
  if (images <= 0 || C <= 0 || HW <= 0) return;
  const bytes = <usize>C * <usize>HW << 2;
  for (let n = 0; n < images; n++) {
    const xn = x + <usize>n * bytes;
    const yn = y + <usize>n * bytes;
    if (C == 1 || HW == 1) {
      memory.copy(yn, xn, bytes);
    } else if (C == 3) {
      const plane = <usize>HW << 2;
      let p = 0;
      let src = xn;
      let dst = yn;
      for (; p + 4 <= HW; p += 4) {
        const v0 = v128.load(src);      // r0 g0 b0 r1
        const v1 = v128.load(src, 16);  // g1 b1 r2 g2
        const v2 = v128.load(src, 32);  // b2 r3 g3 b3
        v128.store(dst, f32x4.shuffle(f32x4.shuffle(v0, v1, 0, 3, 6, 7), v2, 0, 1, 2, 5));
        v128.store(dst + plane, f32x4.shuffle(f32x4.shuffle(v0, v1, 1, 4, 7, 7), v2, 0, 1, 2, 6));
        v128.store(dst + 2 * plane, f32x4.shuffle(f32x4.shuffle(v0, v1, 2, 5, 5, 5), v2, 0, 1, 4, 7));
        src += 48;
        dst += 16;
      }
      for (; p < HW; p++) {
        store<f32>(dst, load<f32>(src));
        store<f32>(dst + plane, load<f32>(src, 4));
        store<f32>(dst + 2 * plane, load<f32>(src, 8));
        src += 12;
        dst += 4;
      }
    } else {
      transpose2d(xn, yn, HW, C);
    }
  }
}

/** One output run: n floats from src with element stride `stride` (1 = contiguous). */
// @ts-ignore: decorator
@inline function gatherRun(dst: usize, src: usize, n: i32, stride: i32): void {
  if (stride == 1) {
    copyFloats(dst, src, n);
    return;
  }
  const step = <usize>stride << 2;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let v = v128.load32_splat(src);
    v = f32x4.replace_lane(v, 1, load<f32>(src + step));
    v = f32x4.replace_lane(v, 2, load<f32>(src + 2 * step));
    v = f32x4.replace_lane(v, 3, load<f32>(src + 3 * step));
    v128.store(dst, v);
    src += 4 * step;
    dst += 16;
  }
  for (; i < n; i++) {
    store<f32>(dst, load<f32>(src));
    src += step;
    dst += 4;
  }
}

/** One run of n elements of T read every `step` bytes (step = sizeof<T>() is contiguous). */
// @ts-ignore: decorator
@inline function gatherRunOf<T>(dst: usize, src: usize, n: i32, step: usize): void {
  if (step == sizeof<T>()) {
    memory.copy(dst, src, <usize>n * sizeof<T>());
    return;
  }
  for (let i = 0; i < n; i++) {
    store<T>(dst, load<T>(src));
    src += step;
    dst += sizeof<T>();
  }
}

/** One run of n elements of `size` bytes (1, 2, 4 or 8) read every `stride` elements. */
// @ts-ignore: decorator
@inline function gatherRunSized(dst: usize, src: usize, n: i32, stride: i32, size: i32): void {
  if (size == 4) gatherRun(dst, src, n, stride);
  else if (size == 8) gatherRunOf<u64>(dst, src, n, <usize>stride << 3);
  else if (size == 2) gatherRunOf<u16>(dst, src, n, <usize>stride << 1);
  else gatherRunOf<u8>(dst, src, n, <usize>stride);
}

// @ts-ignore: decorator
@inline function tDim(table: usize, rows: i32, i: i32): i32 {
  return i == 0 ? rows : load<i32>(table + 4 + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function tStride(table: usize, R: i32, i: i32): i32 {
  return load<i32>(table + 4 + (<usize>(R + i) << 2));
}

/**
 * General permutation / strided view copy. table = i32 [R, d0..d(R-1), s0..s(R-1)]: output dims (d0 is
 * replaced by `rows`) and, per output dim, the input element stride. Output is contiguous.
 * Trailing dims that are contiguous in the input are merged into one run first; up to 7 outer dims
 * are walked by nested loops (no scratch memory), more by index decomposition.
 */
export function strided_copy(x: usize, y: usize, rows: i32, table: usize): void {
  stridedCopy(x, y, rows, table, 4);
}

/**
 * strided_copy for elements of `elemSize` bytes (1, 2, 4 or 8: bool/uint8/int8, float16, float32/int32,
 * int64/float64); dims and strides are in elements, as there. 4 bytes takes strided_copy's SIMD path.
 */
export function strided_copy_sized(x: usize, y: usize, rows: i32, table: usize, elemSize: i32): void {
  if (elemSize == 1 || elemSize == 2 || elemSize == 4 || elemSize == 8) stridedCopy(x, y, rows, table, elemSize);
}

// @ts-ignore: decorator
@inline function stridedCopy(x: usize, y: usize, rows: i32, table: usize, size: i32): void {
  const R = load<i32>(table);
  if (R <= 0 || rows <= 0) return;
  for (let i = 1; i < R; i++) if (tDim(table, rows, i) <= 0) return;
  let k = R - 1;
  let inner = tDim(table, rows, k);
  const innerStride = tStride(table, R, k);
  while (k > 0 && tStride(table, R, k - 1) == inner * innerStride) {
    k--;
    inner *= tDim(table, rows, k);
  }
  // Outer dims are 0..k-1. Byte strides: element strides times the element size.
  const runBytes = <usize>inner * <usize>size;
  if (k > 7) {
    let outer = 1;
    for (let i = 0; i < k; i++) outer *= tDim(table, rows, i);
    let dst = y;
    for (let o = 0; o < outer; o++) {
      let rem = o;
      let off: usize = 0;
      for (let i = k - 1; i >= 0; i--) {
        const d = tDim(table, rows, i);
        off += <usize>(rem % d) * <usize>tStride(table, R, i);
        rem /= d;
      }
      gatherRunSized(dst, x + off * <usize>size, inner, innerStride, size);
      dst += runBytes;
    }
    return;
  }
  // Right-align the k outer dims into 7 slots; missing slots have size 1.
  const pad = 7 - k;
  const n0 = pad > 0 ? 1 : tDim(table, rows, 0 - pad);
  const n1 = pad > 1 ? 1 : tDim(table, rows, 1 - pad);
  const n2 = pad > 2 ? 1 : tDim(table, rows, 2 - pad);
  const n3 = pad > 3 ? 1 : tDim(table, rows, 3 - pad);
  const n4 = pad > 4 ? 1 : tDim(table, rows, 4 - pad);
  const n5 = pad > 5 ? 1 : tDim(table, rows, 5 - pad);
  const n6 = pad > 6 ? 1 : tDim(table, rows, 6 - pad);
  const es = <usize>size;
  const t0: usize = pad > 0 ? 0 : <usize>tStride(table, R, 0 - pad) * es;
  const t1: usize = pad > 1 ? 0 : <usize>tStride(table, R, 1 - pad) * es;
  const t2: usize = pad > 2 ? 0 : <usize>tStride(table, R, 2 - pad) * es;
  const t3: usize = pad > 3 ? 0 : <usize>tStride(table, R, 3 - pad) * es;
  const t4: usize = pad > 4 ? 0 : <usize>tStride(table, R, 4 - pad) * es;
  const t5: usize = pad > 5 ? 0 : <usize>tStride(table, R, 5 - pad) * es;
  const t6: usize = pad > 6 ? 0 : <usize>tStride(table, R, 6 - pad) * es;
  let dst = y;
  for (let i0 = 0; i0 < n0; i0++) {
    const s0 = x + <usize>i0 * t0;
    for (let i1 = 0; i1 < n1; i1++) {
      const s1 = s0 + <usize>i1 * t1;
      for (let i2 = 0; i2 < n2; i2++) {
        const s2 = s1 + <usize>i2 * t2;
        for (let i3 = 0; i3 < n3; i3++) {
          const s3 = s2 + <usize>i3 * t3;
          for (let i4 = 0; i4 < n4; i4++) {
            const s4 = s3 + <usize>i4 * t4;
            for (let i5 = 0; i5 < n5; i5++) {
              let s6 = s4 + <usize>i5 * t5;
              for (let i6 = 0; i6 < n6; i6++) {
                gatherRunSized(dst, s6, inner, innerStride, size);
                dst += runBytes;
                s6 += t6;
              }
            }
          }
        }
      }
    }
  }
}

/** Copies `count` chunks of `chunk` floats: chunk i from x + i·srcStride to y + i·dstStride (floats). */
export function copy_blocks(x: usize, y: usize, count: i32, chunk: i32, srcStride: i32, dstStride: i32): void {
  copyBlocks(x, y, count, chunk, srcStride, dstStride, 4);
}

/** copy_blocks for elements of `elemSize` bytes (1, 2, 4 or 8); chunk and strides in elements. */
export function copy_blocks_sized(
  x: usize,
  y: usize,
  count: i32,
  chunk: i32,
  srcStride: i32,
  dstStride: i32,
  elemSize: i32,
): void {
  if (elemSize == 1 || elemSize == 2 || elemSize == 4 || elemSize == 8)
    copyBlocks(x, y, count, chunk, srcStride, dstStride, elemSize);
}

// @ts-ignore: decorator
@inline function copyBlocks(
  x: usize,
  y: usize,
  count: i32,
  chunk: i32,
  srcStride: i32,
  dstStride: i32,
  size: i32,
): void {
  if (count <= 0 || chunk <= 0) return;
  const es = <usize>size;
  if (srcStride == chunk && dstStride == chunk) {
    memory.copy(y, x, <usize>count * <usize>chunk * es);
    return;
  }
  const ss = <usize>srcStride * es;
  const ds = <usize>dstStride * es;
  const bytes = <usize>chunk * es;
  for (let i = 0; i < count; i++) {
    if (size == 4) copyFloats(y, x, chunk);
    else if (bytes >= 128) memory.copy(y, x, bytes);
    else copyBytesShort(y, x, bytes);
    x += ss;
    y += ds;
  }
}

/** A short copy (under 128 bytes) without a memory.copy call: 8-byte words, then bytes. */
// @ts-ignore: decorator
@inline function copyBytesShort(dst: usize, src: usize, n: usize): void {
  while (n >= 8) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
    n -= 8;
  }
  while (n > 0) {
    store<u8>(dst, load<u8>(src));
    dst++;
    src++;
    n--;
  }
}
