// softmax / log_softmax over a tensor viewed as [outer, axis, inner], normalised along `axis`.
// Numerically stable: the max along the axis is subtracted before exp. x == y is allowed.
// inner == 1 (the usual last-axis case) runs SIMD along the axis; inner > 1 runs SIMD across 4
// neighbouring inner positions at once, striding along the axis.

import { loadPartial, storePartial, vexp, vlog, vsplat } from "./vmath";

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  const m = f32x4.max(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  return max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Contiguous rows of length n (inner == 1). */
// @ts-ignore: decorator
@inline function softmaxRows(x: usize, y: usize, outer: i32, n: i32, logOut: bool): void {
  const rowBytes = <usize>n << 2;
  const end4 = <usize>(n & ~3) << 2;
  const rest = n & 3;
  for (let o = 0; o < outer; o++) {
    // Max: the partial load repeats lane 0, which cannot change the max.
    let mv = loadPartial(x, min(n, 4));
    let off: usize = 0;
    for (; off < end4; off += 16) mv = f32x4.max(mv, v128.load(x + off));
    if (rest != 0) mv = f32x4.max(mv, loadPartial(x + off, rest));
    const vmax = vsplat(hmax(mv));
    // Sum of exp(x - max); softmax keeps the exps in y.
    let sv = f32x4.splat(0);
    for (off = 0; off < end4; off += 16) {
      const e = vexp(f32x4.sub(v128.load(x + off), vmax));
      if (!logOut) v128.store(y + off, e);
      sv = f32x4.add(sv, e);
    }
    let sum = hsum(sv);
    if (rest != 0) {
      const e = vexp(f32x4.sub(loadPartial(x + off, rest), vmax));
      if (!logOut) storePartial(y + off, e, rest);
      sum += f32x4.extract_lane(e, 0);
      if (rest > 1) sum += f32x4.extract_lane(e, 1);
      if (rest > 2) sum += f32x4.extract_lane(e, 2);
    }
    if (logOut) {
      // y = x - (max + log(sum))
      const shift = f32x4.add(vmax, vlog(vsplat(sum)));
      for (off = 0; off < end4; off += 16) v128.store(y + off, f32x4.sub(v128.load(x + off), shift));
      if (rest != 0) storePartial(y + off, f32x4.sub(loadPartial(x + off, rest), shift), rest);
    } else {
      const scale = vsplat(1.0 / sum);
      for (off = 0; off < end4; off += 16) v128.store(y + off, f32x4.mul(v128.load(y + off), scale));
      if (rest != 0) storePartial(y + off, f32x4.mul(loadPartial(y + off, rest), scale), rest);
    }
    x += rowBytes;
    y += rowBytes;
  }
}

/** General inner > 1: lanes are 1..4 adjacent inner positions, the loop walks the axis. */
// @ts-ignore: decorator
@inline function softmaxStrided(x: usize, y: usize, outer: i32, axis: i32, inner: i32, logOut: bool): void {
  const stride = <usize>inner << 2;
  const sliceBytes = stride * <usize>axis;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j += 4) {
      const lanes = min(4, inner - j);
      const xs = x + (<usize>j << 2);
      const ys = y + (<usize>j << 2);
      const xEnd = xs + sliceBytes;
      let mv = loadPartial(xs, lanes);
      for (let p = xs + stride; p < xEnd; p += stride) mv = f32x4.max(mv, loadPartial(p, lanes));
      let sv = f32x4.splat(0);
      let q = ys;
      for (let p = xs; p < xEnd; p += stride) {
        const e = vexp(f32x4.sub(loadPartial(p, lanes), mv));
        if (!logOut) storePartial(q, e, lanes);
        sv = f32x4.add(sv, e);
        q += stride;
      }
      if (logOut) {
        const shift = f32x4.add(mv, vlog(sv));
        q = ys;
        for (let p = xs; p < xEnd; p += stride) {
          storePartial(q, f32x4.sub(loadPartial(p, lanes), shift), lanes);
          q += stride;
        }
      } else {
        const scale = f32x4.div(vsplat(1.0), sv);
        const yEnd = ys + sliceBytes;
        for (q = ys; q < yEnd; q += stride) storePartial(q, f32x4.mul(loadPartial(q, lanes), scale), lanes);
      }
    }
    x += sliceBytes;
    y += sliceBytes;
  }
}

export function softmax(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  if (outer <= 0 || axis <= 0 || inner <= 0) return;
  if (inner == 1) softmaxRows(x, y, outer, axis, false);
  else softmaxStrided(x, y, outer, axis, inner, false);
}

export function log_softmax(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  if (outer <= 0 || axis <= 0 || inner <= 0) return;
  if (inner == 1) softmaxRows(x, y, outer, axis, true);
  else softmaxStrided(x, y, outer, axis, inner, true);
}

/**
 * Hardmax over [outer, axis, inner] along `axis`: y = 1 at the first largest element of each line, 0
 * elsewhere (std::max_element's choice, which onnxruntime uses: an element is taken only when the one
 * kept so far is less than it, so a leading NaN stays). axis = 0 writes nothing. x and y must not overlap.
 */
export function hardmax(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  if (axis <= 0) return;
  const line = <usize>axis * <usize>inner;
  memory.fill(y, 0, (<usize>outer * line) << 2);
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * line;
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bestValue = load<f32>(x + ((base + <usize>i) << 2));
      for (let k = 1; k < axis; k++) {
        const v = load<f32>(x + ((base + <usize>k * <usize>inner + <usize>i) << 2));
        if (bestValue < v) {
          best = k;
          bestValue = v;
        }
      }
      store<f32>(y + ((base + <usize>best * <usize>inner + <usize>i) << 2), 1.0);
    }
  }
}
