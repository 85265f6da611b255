// Run-time packing of recurrent weights that are graph inputs: one direction's ONNX W, R, B, P written into
// exactly the layouts compiler/pack-recurrent.ts writes at compile time for constant weights (table
// compiler/abi/rnn.ts), so the lstm, gru and rnn kernels read them the same way and give the same bits.

import { PANEL_WIDTH } from "../generated/abi";
import { padHidden } from "./common";

/** ONNX unit (row of W or R, entry of a bias half) of packed column n, or −1 for a padded column. */
// @ts-ignore: decorator
@inline function unitOf(n: i32, hidden: i32, Hp: i32, N: i32): i32 {
  if (n >= N) return -1;
  const j = n % Hp;
  return j < hidden ? (n / Hp) * hidden + j : -1;
}

/**
 * w: one direction of ONNX W [gates·hidden, cols] (or R, cols = hidden), row-major f32.
 * packed: W[dir]ᵀ [cols, gates·Hp] as GEMM panels (Hp = ceil(hidden/4)·4, gate columns hidden..Hp−1 zero),
 * ceil(gates·Hp / PANEL_WIDTH)·cols·PANEL_WIDTH floats, every one written (padding zero). No overlap.
 * gates 1..4, hidden ≥ 1, cols ≥ 0.
 */
export function rnn_pack_weights(w: usize, packed: usize, gates: i32, hidden: i32, cols: i32): void {
  const Hp = padHidden(hidden);
  const N = gates * Hp;
  const panels = (N + PANEL_WIDTH - 1) / PANEL_WIDTH;
  let out = packed;
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < cols; k++) {
      for (let l = 0; l < PANEL_WIDTH; l++) {
        const u = unitOf(p * PANEL_WIDTH + l, hidden, Hp, N);
        store<f32>(out, u < 0 ? 0 : load<f32>(w + ((<usize>u * cols + k) << 2)));
        out += 4;
      }
    }
  }
}

/**
 * b: one direction of ONNX B [2·gates·hidden] (Wb then Rb). packed: Wb + Rb over the padded gate columns,
 * ceil(gates·Hp / PANEL_WIDTH)·PANEL_WIDTH floats; with linearBeforeReset (GRU) the h gate (gate 2) gets Wbh
 * only and a second block of as many floats follows, Rbh in the h gate's columns and zeros elsewhere.
 * Every float written. No overlap.
 */
export function rnn_pack_bias(b: usize, packed: usize, gates: i32, hidden: i32, linearBeforeReset: i32): void {
  const Hp = padHidden(hidden);
  const N = gates * Hp;
  const padded = ((N + PANEL_WIDTH - 1) / PANEL_WIDTH) * PANEL_WIDTH;
  const GH = gates * hidden;
  const hGate = 2 * hidden;
  for (let n = 0; n < padded; n++) {
    const u = unitOf(n, hidden, Hp, N);
    let v: f32 = 0;
    let rbh: f32 = 0;
    if (u >= 0) {
      const wb = load<f32>(b + (<usize>u << 2));
      const rb = load<f32>(b + (<usize>(GH + u) << 2));
      if (linearBeforeReset != 0 && u >= hGate) {
        v = wb;
        rbh = rb;
      } else v = wb + rb;
    }
    store<f32>(packed + (<usize>n << 2), v);
    if (linearBeforeReset != 0) store<f32>(packed + (<usize>(padded + n) << 2), rbh);
  }
}

/** p: one direction of ONNX P [3·hidden] (i o f). packed: 3 gates of Hp floats, padding zero. No overlap. */
export function rnn_pack_peephole(p: usize, packed: usize, hidden: i32): void {
  const Hp = padHidden(hidden);
  for (let n = 0; n < 3 * Hp; n++) {
    const u = unitOf(n, hidden, Hp, 3 * Hp);
    store<f32>(packed + (<usize>n << 2), u < 0 ? 0 : load<f32>(p + (<usize>u << 2)));
  }
}
