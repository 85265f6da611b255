// ONNX LSTM (opsets 7–14), one direction per call.
//
//   it = f(Xt·Wiᵀ + Ht−1·Riᵀ + Pi ⊙ Ct−1 + Wbi + Rbi)        ot = f(Xt·Woᵀ + Ht−1·Roᵀ + Po ⊙ Ct + Wbo + Rbo)
//   ft = f(Xt·Wfᵀ + Ht−1·Rfᵀ + Pf ⊙ Ct−1 + Wbf + Rbf)        Ct = ft ⊙ Ct−1 + it ⊙ ct
//   ct = g(Xt·Wcᵀ + Ht−1·Rcᵀ + Wbc + Rbc)                     Ht = ot ⊙ h(Ct)
// with clip applied to the inputs of f and g (not of h, as onnxruntime) and ft = 1 − it when input_forget.

import { vsigmoid, vsplat, vtanh } from "../vmath";
import { RNN_ACT_SIGMOID, RNN_ACT_TANH } from "../generated/abi";
import { rnnActivate } from "./activations";
import {
  chunkRow, chunkSteps, loadState, maxLen, padHidden, product, project, seqLen, stateBatchStride, stateDirOffset,
  storeState, storeY, vclip, xBatchStride, xTimeStride, yBatchStride, yDirOffset, yTimeStride, zeroPastEnd,
} from "./common";

/** One step of one batch entry over all Hp lanes; `fast`: the default activations (sigmoid, tanh, tanh) inline. */
// @ts-ignore: decorator
@inline function cellBody(
  g: usize, p: usize, peep: usize, h: usize, c: usize, yRow: usize, hidden: i32, Hp: i32,
  inputForget: i32, lo: v128, hi: v128,
  actF: i32, aF: v128, bF: v128, actG: i32, aG: v128, bG: v128, actH: i32, aH: v128, bH: v128, fast: bool,
): void {
  const gate = <usize>Hp << 2;
  for (let j = 0; j < Hp; j += 4) {
    const o = <usize>j << 2;
    const cPrev = v128.load(c + o);
    let i = f32x4.add(v128.load(g + o), v128.load(p + o));
    let out = f32x4.add(v128.load(g + gate + o), v128.load(p + gate + o));
    let f = f32x4.add(v128.load(g + 2 * gate + o), v128.load(p + 2 * gate + o));
    let z = f32x4.add(v128.load(g + 3 * gate + o), v128.load(p + 3 * gate + o));
    if (peep != 0) {
      i = f32x4.add(i, f32x4.mul(v128.load(peep + o), cPrev));
      f = f32x4.add(f, f32x4.mul(v128.load(peep + 2 * gate + o), cPrev));
    }
    const iv = fast ? vsigmoid(vclip(i, lo, hi)) : rnnActivate(vclip(i, lo, hi), actF, aF, bF);
    let fv: v128;
    if (inputForget != 0) fv = f32x4.sub(vsplat(1.0), iv);
    else fv = fast ? vsigmoid(vclip(f, lo, hi)) : rnnActivate(vclip(f, lo, hi), actF, aF, bF);
    const cv = fast ? vtanh(vclip(z, lo, hi)) : rnnActivate(vclip(z, lo, hi), actG, aG, bG);
    const C = f32x4.add(f32x4.mul(fv, cPrev), f32x4.mul(iv, cv));
    if (peep != 0) out = f32x4.add(out, f32x4.mul(v128.load(peep + gate + o), C));
    const ov = fast ? vsigmoid(vclip(out, lo, hi)) : rnnActivate(vclip(out, lo, hi), actF, aF, bF);
    const H = f32x4.mul(ov, fast ? vtanh(C) : rnnActivate(C, actH, aH, bH));
    v128.store(c + o, C);
    v128.store(h + o, H);
    storeY(yRow, j, hidden, H);
  }
}

function cellFast(
  g: usize, p: usize, peep: usize, h: usize, c: usize, yRow: usize, hidden: i32, Hp: i32, inputForget: i32,
  lo: v128, hi: v128,
): void {
  const z = vsplat(0.0);
  cellBody(g, p, peep, h, c, yRow, hidden, Hp, inputForget, lo, hi, 0, z, z, 0, z, z, 0, z, z, true);
}

function cellGeneric(
  g: usize, p: usize, peep: usize, h: usize, c: usize, yRow: usize, hidden: i32, Hp: i32, inputForget: i32,
  lo: v128, hi: v128, actF: i32, aF: v128, bF: v128, actG: i32, aG: v128, bG: v128, actH: i32, aH: v128, bH: v128,
): void {
  cellBody(g, p, peep, h, c, yRow, hidden, Hp, inputForget, lo, hi, actF, aF, bF, actG, aG, bG, actH, aH, bH, false);
}

/**
 * One direction of an ONNX LSTM over a whole (padded) batch of sequences. See compiler/abi/rnn.ts for the
 * packed layouts of w, r, bias and peephole, and the scratch size.
 */
export function lstm(
  x: usize, w: usize, r: usize, bias: usize, peephole: usize, lens: usize, lensI64: i32,
  h0: usize, c0: usize, y: usize, yh: usize, yc: usize, scratch: usize,
  seq: i32, batch: i32, inputSize: i32, hidden: i32, layout: i32, dirs: i32, dir: i32, reverse: i32,
  inputForget: i32, clip: f32,
  actF: i32, alphaF: f32, betaF: f32, actG: i32, alphaG: f32, betaG: f32, actH: i32, alphaH: f32, betaH: f32,
): void {
  if (batch <= 0 || hidden <= 0 || seq < 0) return;
  const Hp = padHidden(hidden);
  const N = 4 * Hp;
  const T = chunkSteps(seq);
  const G = scratch;
  const P = G + (<usize>T * batch * N << 2);
  const hS = P + (<usize>batch * N << 2);
  const cS = hS + (<usize>batch * Hp << 2);

  const xT = xTimeStride(layout, batch, inputSize), xB = xBatchStride(layout, seq, inputSize);
  const yT = yTimeStride(layout, dirs, batch, hidden), yB = yBatchStride(layout, seq, dirs, hidden);
  const yOff = yDirOffset(layout, dir, batch, hidden);
  const sB = stateBatchStride(layout, dirs, hidden), sOff = stateDirOffset(layout, dir, batch, hidden);

  loadState(h0, sB, sOff, hS, batch, hidden, Hp);
  loadState(c0, sB, sOff, cS, batch, hidden, Hp);

  const fast = actF == RNN_ACT_SIGMOID && actG == RNN_ACT_TANH && actH == RNN_ACT_TANH;
  const lo = vsplat(-clip), hi = vsplat(clip);
  const aF = vsplat(alphaF), bF = vsplat(betaF), aG = vsplat(alphaG), bG = vsplat(betaG);
  const aH = vsplat(alphaH), bH = vsplat(betaH);
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
        const p = P + (<usize>b * N << 2), h = hS + (<usize>b * Hp << 2), c = cS + (<usize>b * Hp << 2);
        if (fast) cellFast(g, p, peephole, h, c, yRow, hidden, Hp, inputForget, lo, hi);
        else cellGeneric(g, p, peephole, h, c, yRow, hidden, Hp, inputForget, lo, hi, actF, aF, bF, actG, aG, bG, actH, aH, bH);
      }
    }
  }
  zeroPastEnd(y, yT, yB, yOff, lens, lensI64, batch, seq, hidden);
  storeState(hS, Hp, yh, sB, sOff, lens, lensI64, batch, seq, hidden);
  storeState(cS, Hp, yc, sB, sOff, lens, lensI64, batch, seq, hidden);
}
