/**
 * How an ONNX LSTM/GRU/RNN node's activation attributes become the recurrent kernels' act/alpha/beta
 * arguments (compiler/abi/rnn.ts), read the way onnxruntime reads them (checked against onnxruntime-node by
 * test/node/rnn-ort.test.mjs) — the ONNX text leaves the pairing of activation_alpha/beta with activations open:
 *  - activation_alpha and activation_beta are consumed in order, each value by the next activation that
 *    takes that parameter (Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu take alpha;
 *    Affine, ScaledTanh, HardSigmoid take beta), over all directions' activations in a row; missing values
 *    default to LeakyRelu 0.01, HardSigmoid 0.2/0.5, Elu 1.0, and 0 otherwise (onnxruntime's defaults:
 *    ONNX's operators would give ThresholdedRelu alpha 1.0 and Affine alpha 1.0).
 *  - LSTM and GRU names are case-insensitive, RNN's must be spelled as ONNX does (onnxruntime refuses
 *    "relu" there). A one-direction RNN given 2 activations uses the first (the schema's default is
 *    ["Tanh", "Tanh"]).
 */
import { CODES } from './abi/codes.js';

export type RecurrentOp = 'LSTM' | 'GRU' | 'RNN';

export interface KernelActivation {
  code: number;
  alpha: number;
  beta: number;
}

interface Known {
  code: number;
  alpha: boolean;
  beta: boolean;
  defaultAlpha: number;
  defaultBeta: number;
}
const A = CODES.RNN_ACT;
const known = (code: number, alpha = false, beta = false, defaultAlpha = 0, defaultBeta = 0): Known => ({
  code,
  alpha,
  beta,
  defaultAlpha,
  defaultBeta,
});
/** By ONNX name (the operator doc's list). */
const ACTIVATIONS: Record<string, Known> = {
  Relu: known(A.RELU),
  Tanh: known(A.TANH),
  Sigmoid: known(A.SIGMOID),
  Affine: known(A.AFFINE, true, true),
  LeakyRelu: known(A.LEAKY_RELU, true, false, 0.01),
  ThresholdedRelu: known(A.THRESHOLDED_RELU, true),
  ScaledTanh: known(A.SCALED_TANH, true, true),
  HardSigmoid: known(A.HARD_SIGMOID, true, true, 0.2, 0.5),
  Elu: known(A.ELU, true, false, 1.0),
  Softsign: known(A.SOFTSIGN),
  Softplus: known(A.SOFTPLUS),
};
const BY_LOWER = new Map(Object.entries(ACTIVATIONS).map(([name, k]) => [name.toLowerCase(), k]));

export const RECURRENT_ACTIVATIONS_PER_DIRECTION: Record<RecurrentOp, number> = { LSTM: 3, GRU: 2, RNN: 1 };
const DEFAULTS: Record<RecurrentOp, string[]> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
};

export interface ActivationAttributes {
  activations?: readonly string[];
  activation_alpha?: readonly number[];
  activation_beta?: readonly number[];
}

/**
 * Per direction, the kernel's activations in its slot order (LSTM f g h, GRU f g, RNN f). Throws an Error
 * naming the problem for an unknown name or a list of the wrong length.
 */
export function recurrentActivations(
  op: RecurrentOp,
  directions: number,
  attrs: ActivationAttributes,
): KernelActivation[][] {
  const per = RECURRENT_ACTIVATIONS_PER_DIRECTION[op];
  let names = attrs.activations?.length ? [...attrs.activations] : Array(directions).fill(DEFAULTS[op]).flat();
  if (op === 'RNN' && directions === 1 && names.length === 2) names = names.slice(0, 1);
  if (names.length !== per * directions)
    throw new Error(
      `${op} has ${names.length} activations; with ${directions} direction(s) it takes ${per * directions}`,
    );
  const alphas = attrs.activation_alpha ?? [];
  const betas = attrs.activation_beta ?? [];
  const lookup = (name: string): Known => {
    const k = op === 'RNN' ? ACTIVATIONS[name] : BY_LOWER.get(name.toLowerCase());
    if (!k) throw new Error(`${op} activation "${name}" is not one of ONNX's: ${Object.keys(ACTIVATIONS).join(', ')}`);
    return k;
  };
  const out: KernelActivation[] = [];
  let nextAlpha = 0;
  let nextBeta = 0;
  for (const name of names) {
    const k = lookup(name);
    const alpha = k.alpha ? (nextAlpha < alphas.length ? alphas[nextAlpha++] : k.defaultAlpha) : 0;
    const beta = k.beta ? (nextBeta < betas.length ? betas[nextBeta++] : k.defaultBeta) : 0;
    out.push({ code: k.code, alpha, beta });
  }
  return Array.from({ length: directions }, (_, d) => out.slice(d * per, (d + 1) * per));
}
