// ONNX GRU (opsets 7–14), one direction per call.
//
//   zt = f(Xt·Wzᵀ + Ht−1·Rzᵀ + Wbz + Rbz)          rt = f(Xt·Wrᵀ + Ht−1·Rrᵀ + Wbr + Rbr)
//   ht = g(Xt·Whᵀ + (rt ⊙ Ht−1)·Rhᵀ + Rbh + Wbh)      (linear_before_reset = 0)
//   ht = g(Xt·Whᵀ + rt ⊙ (Ht−1·Rhᵀ + Rbh) + Wbh)      (linear_before_reset ≠ 0)
//   Ht = (1 − zt) ⊙ ht + zt ⊙ Ht−1
// with clip applied to the inputs of f and g.

import { vsigmoid, vsplat, vtanh } from "../vmath";
import { PANEL_WIDTH, RNN_ACT_SIGMOID, RNN_ACT_TANH } from "../generated/abi";
import { rnnActivate } from "./activations";
import {
  chunkRow, chunkSteps, loadState, maxLen, padHidden, product, project, seqLen, stateBatchStride, stateDirOffset,
  storeState, storeY, vclip, xBatchStride, xTimeStride, yBatchStride, yDirOffset, yTimeStride, zeroPastEnd,
} from "./common";

/**
 * Update and reset gates of one batch entry: writes zt over the z columns of p and, for linear_before_reset
 * = 0, rt ⊙ Ht−1 into rh (the left operand of the second recurrent product).
 */
// @ts-ignore: decorator
@inline function gatesBody(
  g: usize, p: usize, h: usize, rh: usize, Hp: i32, lo: v128, hi: v128, actF: i32, aF: v128, bF: v128, fast: bool,
): void {
  const gate = <usize>Hp << 2;
  for (let j = 0; j < Hp; j += 4) {
    const o = <usize>j << 2;
    const z = vclip(f32x4.add(v128.load(g + o), v128.load(p + o)), lo, hi);
    const r = vclip(f32x4.add(v128.load(g + gate + o), v128.load(p + gate + o)), lo, hi);
    v128.store(p + o, fast ? vsigmoid(z) : rnnActivate(z, actF, aF, bF));
    const rv = fast ? vsigmoid(r) : rnnActivate(r, actF, aF, bF);
    v128.store(rh + o, f32x4.mul(rv, v128.load(h + o)));
  }
}

/**
 * The hidden gate and the new state of one batch entry. linear_before_reset = 0: p's z columns hold zt
 * (gatesBody) and its h columns (rt ⊙ Ht−1)·Rhᵀ. ≠ 0: p holds Ht−1·R[zrh]ᵀ with Rbh already added to its h
 * columns, and zt, rt are computed here.
 */
// @ts-ignore: decorator
@inline function stateBody(
  g: usize, p: usize, h: usize, yRow: usize, hidden: i32, Hp: i32, linearBeforeReset: i32, lo: v128, hi: v128,
  actF: i32, aF: v128, bF: v128, actG: i32, aG: v128, bG: v128, fast: bool,
): void {
  const gate = <usize>Hp << 2;
  for (let j = 0; j < Hp; j += 4) {
    const o = <usize>j << 2;
    const hPrev = v128.load(h + o);
    let zv: v128, pre: v128;
    if (linearBeforeReset != 0) {
      const z = vclip(f32x4.add(v128.load(g + o), v128.load(p + o)), lo, hi);
      const r = vclip(f32x4.add(v128.load(g + gate + o), v128.load(p + gate + o)), lo, hi);
      zv = fast ? vsigmoid(z) : rnnActivate(z, actF, aF, bF);
      const rv = fast ? vsigmoid(r) : rnnActivate(r, actF, aF, bF);
      pre = f32x4.add(v128.load(g + 2 * gate + o), f32x4.mul(rv, v128.load(p + 2 * gate + o)));
    } else {
      zv = v128.load(p + o);
      pre = f32x4.add(v128.load(g + 2 * gate + o), v128.load(p + 2 * gate + o));
    }
    pre = vclip(pre, lo, hi);
    const hv = fast ? vtanh(pre) : rnnActivate(pre, actG, aG, bG);
    const H = f32x4.add(f32x4.mul(f32x4.sub(vsplat(1.0), zv), hv), f32x4.mul(zv, hPrev));
    v128.store(h + o, H);
    storeY(yRow, j, hidden, H);
  }
}

function gatesFast(g: usize, p: usize, h: usize, rh: usize, Hp: i32, lo: v128, hi: v128): void {
  gatesBody(g, p, h, rh, Hp, lo, hi, 0, lo, lo, true);
}
function gatesGeneric(g: usize, p: usize, h: usize, rh: usize, Hp: i32, lo: v128, hi: v128, actF: i32, aF: v128, bF: v128): void {
  gatesBody(g, p, h, rh, Hp, lo, hi, actF, aF, bF, false);
}
function stateFast(g: usize, p: usize, h: usize, yRow: usize, hidden: i32, Hp: i32, lbr: i32, lo: v128, hi: v128): void {
  stateBody(g, p, h, yRow, hidden, Hp, lbr, lo, hi, 0, lo, lo, 0, lo, lo, true);
}
function stateGeneric(
  g: usize, p: usize, h: usize, yRow: usize, hidden: i32, Hp: i32, lbr: i32, lo: v128, hi: v128,
  actF: i32, aF: v128, bF: v128, actG: i32, aG: v128, bG: v128,
): void {
  stateBody(g, p, h, yRow, hidden, Hp, lbr, lo, hi, actF, aF, bF, actG, aG, bG, false);
}

/**
 * One direction of an ONNX GRU over a whole (padded) batch of sequences. See compiler/abi/rnn.ts for the
 * packed layouts of w, r and bias, and the scratch size.
 */
export function gru(
  x: usize, w: usize, r: usize, bias: usize, lens: usize, lensI64: i32, h0: usize, y: usize, yh: usize,
  scratch: usize, seq: i32, batch: i32, inputSize: i32, hidden: i32, layout: i32, dirs: i32, dir: i32,
  reverse: i32, linearBeforeReset: i32, clip: f32, actF: i32, alphaF: f32, betaF: f32, actG: i32, alphaG: f32,
  betaG: f32,
): void {
  if (batch <= 0 || hidden <= 0 || seq < 0) return;
  const Hp = padHidden(hidden);
  const N = 3 * Hp;
  const T = chunkSteps(seq);
  const G = scratch;
  const P = G + (<usize>T * batch * N << 2);
  const hS = P + (<usize>batch * N << 2);
  const rh = hS + (<usize>batch * Hp << 2);
  // R[zr] fill whole panels (2·Hp is a multiple of 8), so R[h]'s panels start right after them.
  const rH = r + (<usize>(2 * Hp) * hidden << 2);
  // With linear_before_reset the bias block is followed by [0 (2·Hp), Rbh (Hp)] for the recurrent product.
  const paddedN = (N + PANEL_WIDTH - 1) & ~(PANEL_WIDTH - 1);
  const rBias = linearBeforeReset != 0 && bias != 0 ? bias + (<usize>paddedN << 2) : 0;

  const xT = xTimeStride(layout, batch, inputSize), xB = xBatchStride(layout, seq, inputSize);
  const yT = yTimeStride(layout, dirs, batch, hidden), yB = yBatchStride(layout, seq, dirs, hidden);
  const yOff = yDirOffset(layout, dir, batch, hidden);
  const sB = stateBatchStride(layout, dirs, hidden), sOff = stateDirOffset(layout, dir, batch, hidden);

  loadState(h0, sB, sOff, hS, batch, hidden, Hp);
  // Entries that have ended keep their last rt ⊙ Ht−1 row; start from zeros rather than stale scratch.
  if (linearBeforeReset == 0) loadState(0, 0, 0, rh, batch, hidden, Hp);

  const fast = actF == RNN_ACT_SIGMOID && actG == RNN_ACT_TANH;
  const lo = vsplat(-clip), hi = vsplat(clip);
  const aF = vsplat(alphaF), bF = vsplat(betaF), aG = vsplat(alphaG), bG = vsplat(betaG);
  const steps = maxLen(lens, lensI64, batch, seq);
  for (let s0 = 0; s0 < steps; s0 += T) {
    project(x, xT, xB, w, bias, G, N, inputSize, lens, lensI64, batch, seq, s0, T, reverse);
    const s1 = min(s0 + T, steps);
    for (let s = s0; s < s1; s++) {
      if (linearBeforeReset != 0) {
        product(hS, Hp, r, rBias, P, N, batch, N, hidden);
      } else {
        product(hS, Hp, r, 0, P, N, batch, 2 * Hp, hidden);
        for (let b = 0; b < batch; b++) {
          const len = seqLen(lens, lensI64, b, seq);
          if (s >= len) continue;
          const g = G + ((<usize>chunkRow(s, s0, T, len, reverse) * batch + b) * N << 2);
          const p = P + (<usize>b * N << 2), h = hS + (<usize>b * Hp << 2), q = rh + (<usize>b * Hp << 2);
          if (fast) gatesFast(g, p, h, q, Hp, lo, hi);
          else gatesGeneric(g, p, h, q, Hp, lo, hi, actF, aF, bF);
        }
        product(rh, Hp, rH, 0, P + (<usize>(2 * Hp) << 2), N, batch, Hp, hidden);
      }
      for (let b = 0; b < batch; b++) {
        const len = seqLen(lens, lensI64, b, seq);
        if (s >= len) continue;
        const t = reverse != 0 ? len - 1 - s : s;
        const g = G + ((<usize>chunkRow(s, s0, T, len, reverse) * batch + b) * N << 2);
        const yRow = y != 0 ? y + ((<usize>t * yT + <usize>b * yB + yOff) << 2) : 0;
        const p = P + (<usize>b * N << 2), h = hS + (<usize>b * Hp << 2);
        if (fast) stateFast(g, p, h, yRow, hidden, Hp, linearBeforeReset, lo, hi);
        else stateGeneric(g, p, h, yRow, hidden, Hp, linearBeforeReset, lo, hi, actF, aF, bF, actG, aG, bG);
      }
    }
  }
  zeroPastEnd(y, yT, yB, yOff, lens, lensI64, batch, seq, hidden);
  storeState(hS, Hp, yh, sB, sOff, lens, lensI64, batch, seq, hidden);
}
