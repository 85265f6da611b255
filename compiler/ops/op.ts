import type { TensorMeta } from '../../runtime/meta.js';
import type { NodeContext } from '../lowering/context.js';
import type { Tensor } from '../tensor.js';

/** How one ONNX op compiles: `fold` when every input is a constant, `lower` to kernel calls otherwise. */
export interface OpHandler {
  /**
   * The op's inputs in order, as the ONNX spec names them: `'X W! B?!'` — `?` marks an optional input,
   * `!` one that must be known at compile time (weights, shapes, axes), a leading `...` a variadic one (one
   * or more, no holes). Checked before the op lowers. A function of the opset where that changed the inputs.
   */
  inputs: string | ((opset: number) => string);
  fold?(ctx: NodeContext, inputs: (Tensor | undefined)[]): Tensor[];
  lower(ctx: NodeContext): void;
  /** What its output means, for the model's metadata (compiler/metadata.ts). */
  meaning?: OpMeaning;
  /** The first opset whose form of the op compiles, when earlier forms are refused (listed in the README). */
  since?: number;
}

/** What an op's output means, so the metadata can say what a model's outputs are. */
export interface OpMeaning {
  /**
   * Meaning passes through: 'values' — the output holds its first input's values (re-viewed, renamed,
   * retyped); 'order' — a monotone map of them (Sqrt: the smallest stays smallest); 'all-inputs' — the
   * inputs side by side (Concat), meaning what they all mean.
   */
  passes?: 'values' | 'order' | 'all-inputs';
  /** What the numbers are, given the output's last dimension. */
  outputKind?: TensorMeta['kind'] | ((lastDim: number) => TensorMeta['kind'] | undefined);
  /** The op handles NaN as a missing value, so the model's inputs may have them. */
  acceptsMissing?: boolean;
}

/** An op handler with what its output means. */
export const meaning = (handler: OpHandler, m: OpMeaning): OpHandler => ({ ...handler, meaning: m });

/** One declared input (see OpHandler.inputs). */
export interface InputSpec {
  name: string;
  optional: boolean;
  constant: boolean;
  variadic: boolean;
}

export function inputSpecs(handler: OpHandler, opset: number): InputSpec[] {
  const text = typeof handler.inputs === 'function' ? handler.inputs(opset) : handler.inputs;
  return text
    .split(' ')
    .filter(Boolean)
    .map((word) => {
      const variadic = word.startsWith('...');
      const name = word.replace(/^\.\.\./, '').replace(/[?!]+$/, '');
      const flags = word.slice(word.indexOf(name) + name.length);
      return { name, optional: flags.includes('?'), constant: flags.includes('!'), variadic };
    });
}
