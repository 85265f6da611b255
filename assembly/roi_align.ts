// RoiAlign (ONNX opsets 10 and 16) over NCHW feature maps, as ONNX's reference and onnxruntime compute it:
// each output bin averages (or takes the max of) a regular grid of bilinear samples; in float32.

/**
 * ONNX RoiAlign. x: f32 [N, C, H, W]; rois: f32 [R, 4] (x1, y1, x2, y2 in input-image coordinates);
 * batchIndices: i64 [R]; y: f32 [R, C, OH, OW] (OH, OW: output_height, output_width).
 * samplingRatio: sampling_ratio (0: ceil(roi size / bins) samples per bin and axis, capped at 65 536);
 * spatialScale: spatial_scale; halfPixel: 1 for coordinate_transformation_mode "half_pixel" (opset 16's
 * default), 0 for "output_half_pixel" (opset 10's behaviour: no half-pixel shift, ROIs at least 1×1);
 * maxMode: 1 for mode "max" — the max over samples of max(w1·p1, …, w4·p4), each sample's largest weighted
 * corner, which is what the reference and onnxruntime compute — 0 for "avg".
 * A batch index outside [0, N) gives zeros for that ROI (the op handler refuses such data first, with
 * first_index_outside). N, C, H, W ≥ 1. y overlaps none of the inputs.
 */
export function roi_align(
  x: usize,
  rois: usize,
  batchIndices: usize,
  y: usize,
  N: i32,
  C: i32,
  H: i32,
  W: i32,
  R: i32,
  OH: i32,
  OW: i32,
  samplingRatio: i32,
  spatialScale: f32,
  halfPixel: i32,
  maxMode: i32,
): void {
  if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || R <= 0 || OH <= 0 || OW <= 0) return;
  const planeIn = <usize>(H * W) << 2;
  const planeOut = <usize>(OH * OW) << 2;
  const offset: f32 = halfPixel != 0 ? 0.5 : 0;
  for (let r = 0; r < R; r++) {
    const out = y + <usize>r * <usize>C * planeOut;
    const b = load<i64>(batchIndices + (<usize>r << 3));
    if (b < 0 || b >= <i64>N) {
      memory.fill(out, 0, <usize>C * planeOut);
      continue;
    }
    const xb = x + <usize>b * <usize>C * planeIn;
    const box = rois + (<usize>r << 4);
    const startW = load<f32>(box) * spatialScale - offset;
    const startH = load<f32>(box, 4) * spatialScale - offset;
    const endW = load<f32>(box, 8) * spatialScale - offset;
    const endH = load<f32>(box, 12) * spatialScale - offset;
    let roiW = endW - startW;
    let roiH = endH - startH;
    if (halfPixel == 0) {
      roiW = max<f32>(roiW, 1);
      roiH = max<f32>(roiH, 1);
    }
    const binH = roiH / <f32>OH;
    const binW = roiW / <f32>OW;
    const gridH = samplingRatio > 0 ? samplingRatio : samplesPerBin(roiH / <f32>OH);
    const gridW = samplingRatio > 0 ? samplingRatio : samplesPerBin(roiW / <f32>OW);
    const count = <f32>max(gridH * gridW, 1);
    for (let ph = 0; ph < OH; ph++) {
      for (let pw = 0; pw < OW; pw++) {
        const bin = out + (<usize>(ph * OW + pw) << 2);
        for (let c = 0; c < C; c++) store<f32>(bin + <usize>c * planeOut, 0);
        let first = true;
        for (let iy = 0; iy < gridH; iy++) {
          const sy = startH + <f32>ph * binH + ((<f32>iy + 0.5) * binH) / <f32>gridH;
          for (let ix = 0; ix < gridW; ix++) {
            let sx = startW + <f32>pw * binW + ((<f32>ix + 0.5) * binW) / <f32>gridW;
            let yy = sy;
            // A sample more than a pixel outside the map contributes 0 (all weights 0).
            if (yy < -1 || yy > <f32>H || sx < -1 || sx > <f32>W) {
              for (let c = 0; c < C; c++) {
                const p = bin + <usize>c * planeOut;
                if (maxMode != 0) store<f32>(p, first ? 0 : max<f32>(load<f32>(p), 0));
              }
              first = false;
              continue;
            }
            if (yy < 0) yy = 0;
            if (sx < 0) sx = 0;
            let yLow = <i32>yy;
            let xLow = <i32>sx;
            let yHigh = yLow + 1;
            let xHigh = xLow + 1;
            if (yLow >= H - 1) {
              yLow = yHigh = H - 1;
              yy = <f32>yLow;
            }
            if (xLow >= W - 1) {
              xLow = xHigh = W - 1;
              sx = <f32>xLow;
            }
            const ly = yy - <f32>yLow;
            const lx = sx - <f32>xLow;
            const hy: f32 = 1 - ly;
            const hx: f32 = 1 - lx;
            const w1 = hy * hx,
              w2 = hy * lx,
              w3 = ly * hx,
              w4 = ly * lx;
            const p1 = <usize>(yLow * W + xLow) << 2;
            const p2 = <usize>(yLow * W + xHigh) << 2;
            const p3 = <usize>(yHigh * W + xLow) << 2;
            const p4 = <usize>(yHigh * W + xHigh) << 2;
            for (let c = 0; c < C; c++) {
              const plane = xb + <usize>c * planeIn;
              const p = bin + <usize>c * planeOut;
              const v1 = w1 * load<f32>(plane + p1),
                v2 = w2 * load<f32>(plane + p2),
                v3 = w3 * load<f32>(plane + p3),
                v4 = w4 * load<f32>(plane + p4);
              if (maxMode != 0) {
                const v = max<f32>(max<f32>(v1, v2), max<f32>(v3, v4));
                store<f32>(p, first ? v : max<f32>(load<f32>(p), v));
              } else {
                store<f32>(p, load<f32>(p) + (v1 + v2 + v3 + v4));
              }
            }
            first = false;
          }
        }
        if (maxMode == 0) {
          for (let c = 0; c < C; c++) store<f32>(bin + <usize>c * planeOut, load<f32>(bin + <usize>c * planeOut) / count);
        }
      }
    }
  }
}

/** ceil(v) samples, ≥ 0, capped so that a huge or NaN ROI cannot loop for ever. */
// @ts-ignore: decorator
@inline function samplesPerBin(v: f32): i32 {
  const n = Mathf.ceil(v);
  return n >= 1 ? (n < 65536 ? <i32>n : 65536) : 0;
}
