// Double-precision references for ONNX LSTM, GRU and RNN, written from the operator spec (equations, layouts)
// and onnx/onnx onnx/reference/ops/op_{lstm,gru,rnn}.py (per-direction loop, reverse = flipped sequence,
// bidirectional stacking, layout 1 transposes). Where those are silent — sequence_lens, clip, input_forget,
// activation parameters — this follows onnxruntime's CPU kernels: each batch entry runs over its own first
// len steps (reverse: backwards over them), Y is zero past len, Y_h/Y_c are the last valid step (zeros for
// len 0); clip bounds the inputs of f and g; input_forget sets f = 1 − i.

export type RecurrentOp = 'LSTM' | 'GRU' | 'RNN';
export type ActivationName =
  | 'Relu'
  | 'Tanh'
  | 'Sigmoid'
  | 'Affine'
  | 'LeakyRelu'
  | 'ThresholdedRelu'
  | 'ScaledTanh'
  | 'HardSigmoid'
  | 'Elu'
  | 'Softsign'
  | 'Softplus';
export interface Activation {
  name: ActivationName;
  alpha: number;
  beta: number;
}

export interface RecurrentCase {
  op: RecurrentOp;
  seq: number;
  batch: number;
  inputSize: number;
  hidden: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  layout: 0 | 1;
  /** ONNX tensors, row-major, in the case's layout. */
  X: Float32Array;
  W: Float32Array;
  R: Float32Array;
  B?: Float32Array;
  P?: Float32Array;
  lens?: number[];
  h0?: Float32Array;
  c0?: Float32Array;
  /** Per direction, in ONNX order (LSTM f g h, GRU f g, RNN f), forward's then reverse's. */
  activations: Activation[];
  clip?: number;
  inputForget?: boolean;
  linearBeforeReset?: boolean;
}

export const GATES: Record<RecurrentOp, number> = { LSTM: 4, GRU: 3, RNN: 1 };
export const ACTIVATIONS_PER_DIRECTION: Record<RecurrentOp, number> = { LSTM: 3, GRU: 2, RNN: 1 };
export const DEFAULT_ACTIVATIONS: Record<RecurrentOp, ActivationName[]> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
};

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The operator doc's activation list (alpha and beta rounded to the f32 the kernels take). */
export function activationRef(a: Activation): (x: number) => number {
  const alpha = Math.fround(a.alpha);
  const beta = Math.fround(a.beta);
  switch (a.name) {
    case 'Relu':
      return (x) => Math.max(0, x);
    case 'Tanh':
      return Math.tanh;
    case 'Sigmoid':
      return sigmoid;
    case 'Affine':
      return (x) => alpha * x + beta;
    case 'LeakyRelu':
      return (x) => (x >= 0 ? x : alpha * x);
    case 'ThresholdedRelu':
      return (x) => (x > alpha ? x : 0);
    case 'ScaledTanh':
      return (x) => alpha * Math.tanh(beta * x);
    case 'HardSigmoid':
      return (x) => Math.min(Math.max(alpha * x + beta, 0), 1);
    case 'Elu':
      return (x) => (x >= 0 ? x : alpha * (Math.exp(x) - 1));
    case 'Softsign':
      return (x) => x / (1 + Math.abs(x));
    case 'Softplus':
      return (x) => Math.log1p(Math.exp(x));
  }
}

export interface RecurrentOutputs {
  Y: Float64Array;
  Yh: Float64Array;
  Yc: Float64Array;
}

export const directionsOf = (c: RecurrentCase): number => (c.direction === 'bidirectional' ? 2 : 1);

/** Flat offsets of X[t, b, 0], Y[t, d, b, 0] and state[d, b, 0] in the case's layout. */
export function offsets(c: RecurrentCase) {
  const D = directionsOf(c);
  const { seq, batch, inputSize: I, hidden: H } = c;
  return c.layout === 0
    ? {
        x: (t: number, b: number) => (t * batch + b) * I,
        y: (t: number, d: number, b: number) => ((t * D + d) * batch + b) * H,
        state: (d: number, b: number) => (d * batch + b) * H,
      }
    : {
        x: (t: number, b: number) => (b * seq + t) * I,
        y: (t: number, d: number, b: number) => ((b * seq + t) * D + d) * H,
        state: (d: number, b: number) => (b * D + d) * H,
      };
}

export function recurrentRef(c: RecurrentCase): RecurrentOutputs {
  const D = directionsOf(c);
  const { seq, batch, inputSize: I, hidden: H, op } = c;
  const NG = GATES[op];
  const at = offsets(c);
  const Y = new Float64Array(seq * D * batch * H);
  const Yh = new Float64Array(D * batch * H);
  const Yc = new Float64Array(D * batch * H);
  const clip = (v: number): number => (c.clip === undefined ? v : Math.min(Math.max(v, -c.clip), c.clip));
  const perDir = ACTIVATIONS_PER_DIRECTION[op];
  for (let d = 0; d < D; d++) {
    const reverse = c.direction === 'reverse' || d === 1;
    const [f, g, h] = c.activations.slice(d * perDir, (d + 1) * perDir).map(activationRef);
    const Wd = (n: number, k: number) => c.W[(d * NG * H + n) * I + k];
    const Rd = (n: number, k: number) => c.R[(d * NG * H + n) * H + k];
    const Wb = (n: number) => (c.B ? c.B[d * 2 * NG * H + n] : 0);
    const Rb = (n: number) => (c.B ? c.B[d * 2 * NG * H + NG * H + n] : 0);
    const Pd = (n: number) => (c.P ? c.P[d * 3 * H + n] : 0);
    for (let b = 0; b < batch; b++) {
      const len = c.lens ? c.lens[b] : seq;
      let hs = Array.from({ length: H }, (_, j) => (c.h0 ? c.h0[at.state(d, b) + j] : 0));
      let cs = Array.from({ length: H }, (_, j) => (c.c0 ? c.c0[at.state(d, b) + j] : 0));
      for (let s = 0; s < len; s++) {
        const t = reverse ? len - 1 - s : s;
        const x = (k: number) => c.X[at.x(t, b) + k];
        const xw = (n: number) => {
          let acc = 0;
          for (let k = 0; k < I; k++) acc += x(k) * Wd(n, k);
          return acc;
        };
        const hr = (n: number, hv: number[]) => {
          let acc = 0;
          for (let k = 0; k < H; k++) acc += hv[k] * Rd(n, k);
          return acc;
        };
        const next = new Array<number>(H);
        if (op === 'LSTM') {
          const gate = (n: number) => xw(n) + hr(n, hs) + Wb(n) + Rb(n);
          const cNext = new Array<number>(H);
          for (let j = 0; j < H; j++) {
            // ONNX gate order i o f c; peepholes i o f.
            const i = f(clip(gate(j) + Pd(j) * cs[j]));
            const fg = c.inputForget ? 1 - i : f(clip(gate(2 * H + j) + Pd(2 * H + j) * cs[j]));
            const cc = g(clip(gate(3 * H + j)));
            const C = fg * cs[j] + i * cc;
            const o = f(clip(gate(H + j) + Pd(H + j) * C));
            cNext[j] = C;
            next[j] = o * h(C);
          }
          cs = cNext;
        } else if (op === 'GRU') {
          const z = Array.from({ length: H }, (_, j) => f(clip(xw(j) + hr(j, hs) + Wb(j) + Rb(j))));
          const r = Array.from({ length: H }, (_, j) => f(clip(xw(H + j) + hr(H + j, hs) + Wb(H + j) + Rb(H + j))));
          const rh = hs.map((v, j) => r[j] * v);
          for (let j = 0; j < H; j++) {
            const n = 2 * H + j;
            const pre = c.linearBeforeReset
              ? xw(n) + r[j] * (hr(n, hs) + Rb(n)) + Wb(n)
              : xw(n) + hr(n, rh) + Rb(n) + Wb(n);
            next[j] = (1 - z[j]) * g(clip(pre)) + z[j] * hs[j];
          }
        } else {
          for (let j = 0; j < H; j++) next[j] = f(clip(xw(j) + hr(j, hs) + Wb(j) + Rb(j)));
        }
        hs = next;
        for (let j = 0; j < H; j++) Y[at.y(t, d, b) + j] = hs[j];
      }
      for (let j = 0; j < H; j++) {
        Yh[at.state(d, b) + j] = len > 0 ? hs[j] : 0;
        Yc[at.state(d, b) + j] = len > 0 ? cs[j] : 0;
      }
    }
  }
  return { Y, Yh, Yc };
}
