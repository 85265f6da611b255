// ONNX RNN (opsets 7–14), one direction per call:  Ht = f(Xt·Wiᵀ + Ht−1·Riᵀ + Wbi + Rbi), clip on f's input.

import { vsplat, vtanh } from "../vmath";
import { RNN_ACT_TANH } from "../generated/abi";
import { rnnActivate } from "./activations";
import {
  chunkRow, chunkSteps, loadState, maxLen, padHidden, product, project, seqLen, stateBatchStride, stateDirOffset,
  storeState, storeY, vclip, xBatchStride, xTimeStride, yBatchStride, yDirOffset, yTimeStride, zeroPastEnd,
} from "./common";

// @ts-ignore: decorator
@inline function cellBody(
  g: usize, p: usize, h: usize, yRow: usize, hidden: i32, Hp: i32, lo: v128, hi: v128,
  actF: i32, aF: v128, bF: v128, fast: bool,
): void {
  for (let j = 0; j < Hp; j += 4) {
    const o = <usize>j << 2;
    const pre = vclip(f32x4.add(v128.load(g + o), v128.load(p + o)), lo, hi);
    const H = fast ? vtanh(pre) : rnnActivate(pre, actF, aF, bF);
    v128.store(h + o, H);
    storeY(yRow, j, hidden, H);
  }
}

function cellFast(g: usize, p: usize, h: usize, yRow: usize, hidden: i32, Hp: i32, lo: v128, hi: v128): void {
  cellBody(g, p, h, yRow, hidden, Hp, lo, hi, 0, lo, lo, true);
}
function cellGeneric(
  g: usize, p: usize, h: usize, yRow: usize, hidden: i32, Hp: i32, lo: v128, hi: v128, actF: i32, aF: v128, bF: v128,
): void {
  cellBody(g, p, h, yRow, hidden, Hp, lo, hi, actF, aF, bF, false);
}

/**
 * One direction of an ONNX RNN over a whole (padded) batch of sequences. See compiler/abi/rnn.ts for the
 * packed layouts of w, r and bias, and the scratch size.
 */
export function rnn(
  x: usize, w: usize, r: usize, bias: usize, lens: usize, lensI64: i32, h0: usize, y: usize, yh: usize,
  scratch: usize, seq: i32, batch: i32, inputSize: i32, hidden: i32, layout: i32, dirs: i32, dir: i32,
  reverse: i32, clip: f32, actF: i32, alphaF: f32, betaF: f32,
): void {
  if (batch <= 0 || hidden <= 0 || seq < 0) return;
  const Hp = padHidden(hidden);
  const N = Hp;
  const T = chunkSteps(seq);
  const G = scratch;
  const P = G + (<usize>T * batch * N << 2);
  const hS = P + (<usize>batch * N << 2);

  const xT = xTimeStride(layout, batch, inputSize), xB = xBatchStride(layout, seq, inputSize);
  const yT = yTimeStride(layout, dirs, batch, hidden), yB = yBatchStride(layout, seq, dirs, hidden);
  const yOff = yDirOffset(layout, dir, batch, hidden);
  const sB = stateBatchStride(layout, dirs, hidden), sOff = stateDirOffset(layout, dir, batch, hidden);

  loadState(h0, sB, sOff, hS, batch, hidden, Hp);

  const fast = actF == RNN_ACT_TANH;
  const lo = vsplat(-clip), hi = vsplat(clip);
  const aF = vsplat(alphaF), bF = vsplat(betaF);
  const steps = maxLen(lens, lensI64, batch, seq);
  for (let s0 = 0; s0 < steps; s0 += T) {
    project(x, xT, xB, w, bias, G, N, inputSize, lens, lensI64, batch, seq, s0, T, reverse);
    const s1 = min(s0 + T, steps);
    for (let s = s0; s < s1; s++) {
      product(hS, Hp, r, 0, P, N, batch, N, hidden);
      for (let b = 0; b < batch; b++) {
        const len = seqLen(lens, lensI64, b, seq);
        if (s >= len) continue;
        const t = reverse != 0 ? len - 1 - s : s;
        const g = G + ((<usize>chunkRow(s, s0, T, len, reverse) * batch + b) * N << 2);
        const yRow = y != 0 ? y + ((<usize>t * yT + <usize>b * yB + yOff) << 2) : 0;
        const p = P + (<usize>b * N << 2), h = hS + (<usize>b * Hp << 2);
        if (fast) cellFast(g, p, h, yRow, hidden, Hp, lo, hi);
        else cellGeneric(g, p, h, yRow, hidden, Hp, lo, hi, actF, aF, bF);
      }
    }
  }
  zeroPastEnd(y, yT, yB, yOff, lens, lensI64, batch, seq, hidden);
  storeState(hS, Hp, yh, sB, sOff, lens, lensI64, batch, seq, hidden);
}
