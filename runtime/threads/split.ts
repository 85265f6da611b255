/**
 * Data parallelism's bookkeeping: a batch cut into consecutive runs of rows (the page's thread's and one
 * per worker), and the parts' outputs put back together in order along axis 0. A worker's part is a copy
 * it owns (its buffer is transferred, not cloned again); the page's is a view; outputs are joined into
 * arrays made once.
 */
import { ModelError } from '../errors.js';
import { rowSize, type ModelMeta } from '../meta.js';
import type { Outputs, RunOptions } from '../model.js';
import type { Tensor, TensorData, TensorFeed } from '../tensors.js';

/** Row ranges [start, end) of `rows` rows cut into `parts` nearly equal consecutive runs. */
export function ranges(rows: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, j) => [
    Math.floor((rows * j) / parts),
    Math.floor((rows * (j + 1)) / parts),
  ]);
}

/**
 * Rows [start, end) of flat rows of `per` numbers: a copy (its buffer goes to a worker), or with `view` a
 * view of the same memory where the data is a typed array (the page's own part).
 */
function cutRows<T extends ArrayLike<unknown>>(data: T, per: number, start: number, end: number, view = false): T {
  const d = data as unknown as { slice(a: number, b: number): T; subarray?: (a: number, b: number) => T };
  return view && d.subarray ? d.subarray(start * per, end * per) : d.slice(start * per, end * per);
}

/** The buffers of typed arrays among `values`, to transfer. */
export function buffersOf(values: unknown[]): ArrayBuffer[] {
  return values.flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer as ArrayBuffer] : []));
}

/** predict()'s flat float rows of every input, cut to rows [start, end): a part's arguments. */
export function predictPart(
  meta: ModelMeta,
  flat: Float32Array[],
  start: number,
  end: number,
  view = false,
): unknown[] {
  const parts = flat.map((x, i) => cutRows(x, rowSize(meta.inputs[i]), start, end, view));
  const input = parts.length === 1 ? parts[0] : Object.fromEntries(meta.inputs.map((t, i) => [t.name, parts[i]]));
  return [input, end - start];
}

/** run()'s feeds cut to rows [start, end) of axis 0 (a model with `rows`: every input starts with them). */
export function runPart(
  meta: ModelMeta,
  feeds: Record<string, TensorFeed>,
  start: number,
  end: number,
  view = false,
): unknown[] {
  const part: Record<string, TensorFeed> = {};
  for (const t of meta.inputs) {
    const feed = feeds[t.name];
    const shape = [...feed.shape!];
    const per = shape.slice(1).reduce((a, d) => a * d, 1);
    shape[0] = end - start;
    part[t.name] = { data: cutRows(feed.data, per, start, end, view), shape };
  }
  return [part];
}

/** The rows of a run() call (axis 0 of the first input), if the feeds give them plainly. */
export function feedRows(meta: ModelMeta, feeds: Record<string, TensorFeed>): number {
  if (!meta.rows || !feeds || typeof feeds !== 'object') return 0;
  const rows = feeds[meta.inputs[0].name]?.shape?.[0];
  const ok = meta.inputs.every((t) => {
    const shape = feeds[t.name]?.shape;
    return Array.isArray(shape) && shape[0] === rows && feeds[t.name].data?.length !== undefined;
  });
  return ok && typeof rows === 'number' ? rows : 0;
}

/** The parts' outputs joined along axis 0, in order (into the caller's arrays where `into` names them). */
export function join<T extends Outputs | Record<string, Tensor>>(parts: T[], into?: RunOptions['outputs']): T {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(parts[0])) {
    const pieces = parts.map((p) => (p as Record<string, Tensor>)[name]);
    const shape = [...pieces[0].shape];
    shape[0] = pieces.reduce((n, p) => n + p.shape[0], 0);
    const length = pieces.reduce((n, p) => n + p.data.length, 0);
    const first = pieces[0].data;
    let data: TensorData;
    if (Array.isArray(first)) data = pieces.flatMap((p) => p.data as string[]);
    else {
      const target = into?.[name];
      if (target && (target.length < length || Array.isArray(target)))
        throw new ModelError('bad-input', `The array given for output "${name}" must hold at least ${length} values.`);
      const Typed = first.constructor as new (n: number) => Exclude<TensorData, string[]>;
      const joined = (target as Exclude<TensorData, string[]>) ?? new Typed(length);
      let at = 0;
      for (const p of pieces) {
        (joined as Float32Array).set(p.data as Float32Array, at);
        at += p.data.length;
      }
      data = joined;
    }
    out[name] = { ...pieces[0], shape, data };
  }
  return out as T;
}
