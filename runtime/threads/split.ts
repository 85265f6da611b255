/**
 * Data parallelism's bookkeeping: a batch cut into consecutive runs of rows (the page's thread's and one
 * per worker), and the parts' outputs put back together in order along axis 0. A worker's part is a copy
 * it owns, in a buffer a worker gave back where one is big enough; the page's is a view; outputs are
 * joined into arrays made once.
 */
import { ModelError } from '../errors.js';
import { rowSize, type ModelMeta } from '../meta.js';
import type { Outputs, RunOptions } from '../model.js';
import type { Tensor, TensorData, TensorFeed } from '../tensors.js';

/**
 * Row ranges [start, end) of `rows` rows cut into `parts` consecutive runs: the first (the page's) about
 * `first` of them (default: an equal share), the rest nearly equal.
 */
export function ranges(rows: number, parts: number, first = 1 / parts): [number, number][] {
  const head = Math.min(rows - (parts - 1), Math.max(1, Math.round(rows * first)));
  const rest = rows - head;
  return Array.from({ length: parts }, (_, j) =>
    j === 0
      ? [0, head]
      : [head + Math.floor((rest * (j - 1)) / (parts - 1)), head + Math.floor((rest * j) / (parts - 1))],
  );
}

/**
 * The page's next share of a split batch, so that it and the workers end together: the page ran
 * `pageRows` in `pageMs`, each worker `workerRows` in `workerMs` from the start of the call to sending its
 * result (a worker's part costs its messages, and its thread shares the cores, so it may run slower than
 * the page's). Smoothed, and kept within [0.1, 0.9].
 */
export function nextShare(
  share: number,
  pageRows: number,
  pageMs: number,
  workerRows: number,
  workers: number,
  workerMs: number,
): number {
  if (!(pageMs > 0 && workerMs > 0)) return share;
  const page = pageRows / pageMs;
  const ideal = page / (page + (workers * workerRows) / workerMs);
  return Math.min(0.9, Math.max(0.1, 0.5 * share + 0.5 * ideal));
}

/**
 * How a part's rows are cut: 'view' for the page's own part (a view of the caller's memory, no copy), or
 * for a worker's part the spare buffers workers gave back: the rows are copied into one big enough (a
 * fresh large buffer costs its page faults on every call), else into a new one; either way the worker
 * owns it (it is transferred, not cloned again).
 */
export type Cut = 'view' | ArrayBuffer[];

type Typed = Exclude<TensorData, string[]>;

/** Rows [start, end) of flat rows of `per` values, cut as `how` says. */
function cutRows<T extends ArrayLike<unknown>>(data: T, per: number, start: number, end: number, how: Cut): T {
  const [a, b] = [start * per, end * per];
  if (!ArrayBuffer.isView(data)) return (data as unknown as unknown[]).slice(a, b) as unknown as T;
  const typed = data as unknown as Typed;
  if (how === 'view') return typed.subarray(a, b) as unknown as T;
  const bytes = (b - a) * typed.BYTES_PER_ELEMENT;
  const at = how.findIndex((buffer) => buffer.byteLength >= bytes);
  if (at < 0) return typed.slice(a, b) as unknown as T;
  const [buffer] = how.splice(at, 1);
  const Same = typed.constructor as new (buffer: ArrayBuffer, offset: number, length: number) => Typed;
  const copy = new Same(buffer, 0, b - a);
  copy.set(typed.subarray(a, b) as never);
  return copy as unknown as T;
}

/** The buffers of typed arrays among `values`, to transfer. */
export function buffersOf(values: unknown[]): ArrayBuffer[] {
  return values.flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer as ArrayBuffer] : []));
}

/** predict()'s flat float rows of every input, cut to rows [start, end): a part's arguments. */
export function predictPart(meta: ModelMeta, flat: Float32Array[], start: number, end: number, how: Cut): unknown[] {
  const parts = flat.map((x, i) => cutRows(x, rowSize(meta.inputs[i]), start, end, how));
  const input = parts.length === 1 ? parts[0] : Object.fromEntries(meta.inputs.map((t, i) => [t.name, parts[i]]));
  return [input, end - start];
}

/** run()'s feeds cut to rows [start, end) of axis 0 (a model with `rows`: every input starts with them). */
export function runPart(
  meta: ModelMeta,
  feeds: Record<string, TensorFeed>,
  start: number,
  end: number,
  how: Cut,
): unknown[] {
  const part: Record<string, TensorFeed> = {};
  for (const t of meta.inputs) {
    const feed = feeds[t.name];
    const shape = [...feed.shape!];
    const per = shape.slice(1).reduce((a, d) => a * d, 1);
    shape[0] = end - start;
    part[t.name] = { data: cutRows(feed.data, per, start, end, how), shape };
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
