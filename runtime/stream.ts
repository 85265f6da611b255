import { ModelError } from './errors.js';
import type { TensorMeta } from './meta.js';
import type { Model, RunOptions } from './model.js';
import { STORAGE_BYTES, storageOf, type Tensor, type TensorFeed } from './tensors.js';

/** A model's state carried from one call to the next inside its memory (Model.stream). */
export class ModelStream {
  private readonly pairs: [input: number, output: number][];
  private state = new Map<number, number[]>();

  constructor(
    private readonly model: Model,
    pairs: Record<string, string>,
  ) {
    const { inputs, outputs } = model.meta;
    this.pairs = Object.entries(pairs).map(([input, output]) => {
      const i = inputs.findIndex((t) => t.name === input);
      const o = outputs.findIndex((t) => t.name === output);
      if (i < 0)
        throw new ModelError(
          'missing-input',
          `stream(): the model has no input "${input}" (inputs: ${inputs.map((t) => t.name).join(', ')}).`,
        );
      if (o < 0)
        throw new ModelError(
          'missing-input',
          `stream(): the model has no output "${output}" (outputs: ${outputs.map((t) => t.name).join(', ')}).`,
        );
      if (inputs[i].dtype !== outputs[o].dtype || storageOf(inputs[i]) !== storageOf(outputs[o]))
        throw new ModelError(
          'dtype-mismatch',
          `stream(): input "${input}" is ${inputs[i].dtype} but output "${output}" is ${outputs[o].dtype}.`,
        );
      return [i, o];
    });
  }

  /** Run one step: `feeds` has the inputs that are not state (state inputs given here replace the kept state). */
  run(feeds: Record<string, TensorFeed>, options: RunOptions = {}): Record<string, Tensor> {
    const { meta } = this.model;
    const keep = new Map<number, number[]>();
    for (const [i] of this.pairs) {
      const t = meta.inputs[i];
      if (feeds[t.name]) continue;
      keep.set(i, this.state.get(i) ?? this.initialState(t, feeds));
    }
    const out = this.model.runKeeping(feeds, keep, options);
    // The state outputs become the state inputs, copied inside the model's memory.
    const raw = this.model.raw;
    const bytes = new Uint8Array(raw.memory);
    for (const [i, o] of this.pairs) {
      const t = meta.outputs[o];
      const shape = this.model.outputShape(t);
      const n = product(shape) * STORAGE_BYTES[storageOf(t)];
      bytes.copyWithin(raw.inputPtrs[i], raw.outputPtrs[o], raw.outputPtrs[o] + n);
      this.state.set(i, shape);
    }
    return out;
  }

  /** Zeros of the state input's shape, its symbols taken from the other inputs of the first call. */
  private initialState(t: TensorMeta, feeds: Record<string, TensorFeed>): number[] {
    const { meta } = this.model;
    const known = new Map<string, number>();
    meta.inputs.forEach((u) => {
      const shape = feeds[u.name]?.shape;
      if (shape) u.shape.forEach((d, axis) => typeof d === 'string' && known.set(d, shape[axis]));
    });
    const shape = t.shape.map((d) => (typeof d === 'number' ? d : known.get(d)));
    if (shape.some((d) => d === undefined))
      throw new ModelError(
        'missing-input',
        `stream(): give the first state "${t.name}" (shape ${shapeText(t.shape)}): its size cannot be told from the other inputs.`,
      );
    const i = meta.inputs.indexOf(t);
    const raw = this.model.raw;
    new Uint8Array(raw.memory, raw.inputPtrs[i], product(shape as number[]) * STORAGE_BYTES[storageOf(t)]).fill(0);
    return shape as number[];
  }
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

const shapeText = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;
