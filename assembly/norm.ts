// Normalisations over groups of values that are not contiguous rows: per image and channel of a
// channels-last tensor (InstanceNormalization, MeanVarianceNormalization). Statistics in f64.

import { loadPartial, storePartial } from "./vmath";

/**
 * Per image n and channel c of x [images, HW, C] (channels innermost): mean m and variance v (biased)
 * of the HW values x[n, :, c], then
 *   y = (x − m) · a + bias[c],  a = scale[c] / sqrt(v + epsilon)       (epsOutside = 0: InstanceNormalization)
 *   y = (x − m) · a + bias[c],  a = scale[c] / (sqrt(v) + epsilon)     (epsOutside = 1: MeanVarianceNormalization)
 * scale / bias: [C] f32 (any alignment), or 0 for 1 / 0. scratch: ≥ 4·C floats (16·C bytes), any alignment:
 * f64 sums and sums of squares [2·C], then overwritten by the f32 means and factors. x == y is allowed.
 * HW = 0 writes nothing; C, images ≤ 0 write nothing.
 */
export function instance_norm(
  x: usize, scale: usize, bias: usize, y: usize, scratch: usize, images: i32, HW: i32, C: i32,
  epsilon: f32, epsOutside: i32,
): void {
  if (images <= 0 || HW <= 0 || C <= 0) return;
  const pix = <usize>C << 2;
  const sums = scratch;
  const squares = scratch + (<usize>C << 3);
  // After the statistics: means over the sums, factors over the squares (each read before it is overwritten).
  const means = sums;
  const factors = squares;
  const n = <f64>HW;
  for (let img = 0; img < images; img++) {
    const xi = x + <usize>img * <usize>HW * pix;
    const yi = y + <usize>img * <usize>HW * pix;
    memory.fill(sums, 0, <usize>C << 4);
    // One pass: sums and sums of squares, 4 channels at a time, in f64 (exact enough for any HW here).
    for (let p = 0; p < HW; p++) {
      const xp = xi + <usize>p * pix;
      for (let c = 0; c < C; c += 4) {
        const lanes = C - c;
        const v = loadPartial(xp + (<usize>c << 2), lanes);
        const lo = f64x2.promote_low_f32x4(v);
        const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
        const s = sums + (<usize>c << 3);
        const q = squares + (<usize>c << 3);
        if (lanes >= 4) {
          v128.store(s, f64x2.add(v128.load(s), lo));
          v128.store(s, f64x2.add(v128.load(s, 16), hi), 16);
          v128.store(q, f64x2.add(v128.load(q), f64x2.mul(lo, lo)));
          v128.store(q, f64x2.add(v128.load(q, 16), f64x2.mul(hi, hi)), 16);
        } else {
          for (let l = 0; l < lanes; l++) {
            const e = <f64>load<f32>(xp + (<usize>(c + l) << 2));
            store<f64>(s + (<usize>l << 3), load<f64>(s + (<usize>l << 3)) + e);
            store<f64>(q + (<usize>l << 3), load<f64>(q + (<usize>l << 3)) + e * e);
          }
        }
      }
    }
    for (let c = 0; c < C; c++) {
      const mean = load<f64>(sums + (<usize>c << 3)) / n;
      const variance = max(0.0, load<f64>(squares + (<usize>c << 3)) / n - mean * mean);
      const g = scale != 0 ? <f64>load<f32>(scale + (<usize>c << 2)) : 1.0;
      const a = epsOutside != 0 ? g / (Math.sqrt(variance) + <f64>epsilon) : g / Math.sqrt(variance + <f64>epsilon);
      store<f32>(means + (<usize>c << 2), <f32>mean);
      store<f32>(factors + (<usize>c << 2), <f32>a);
    }
    const zero = f32x4.splat(0);
    for (let p = 0; p < HW; p++) {
      const xp = xi + <usize>p * pix;
      const yp = yi + <usize>p * pix;
      for (let c = 0; c < C; c += 4) {
        const lanes = C - c;
        const cb = <usize>c << 2;
        const d = f32x4.sub(loadPartial(xp + cb, lanes), loadPartial(means + cb, lanes));
        const b = bias != 0 ? loadPartial(bias + cb, lanes) : zero;
        const v = f32x4.add(f32x4.mul(d, loadPartial(factors + cb, lanes)), b);
        storePartial(yp + cb, v, lanes);
      }
    }
  }
}
