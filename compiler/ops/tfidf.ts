import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, data, i32, type RtValue } from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { Tensor } from '../tensor.js';

/**
 * TfIdfVectorizer over integer token ids (pool_int64s): the pool becomes a trie in the data segment at
 * compile time and one kernel counts every row's n-grams (with skips) through it, then weights them (TF,
 * IDF, TFIDF). String pools need string tensors, which models compiled here do not have.
 */

const MODES: Record<string, number> = { TF: CODES.TFIDF.TF, IDF: CODES.TFIDF.IDF, TFIDF: CODES.TFIDF.TFIDF };

interface Vectorizer {
  grams: { tokens: number[]; out: number }[];
  minN: number;
  maxN: number;
  maxSkip: number;
  outLen: number;
  mode: number;
  weights: number[] | null;
}

/** The attributes, checked: each n-gram of the pool with its output index. */
function vectorizer(ctx: NodeContext): Vectorizer {
  const bad = (what: string) => new NodeProblem(what, 'invalid-graph');
  if ((ctx.attr('pool_strings') as string[] | undefined)?.length)
    throw new NodeProblem(
      'pool_strings needs string tensors, which ml-widgets does not have: map the words to ids and use pool_int64s',
    );
  const pool = ctx.ints('pool_int64s') ?? [];
  const counts = ctx.ints('ngram_counts') ?? [];
  const indexes = ctx.ints('ngram_indexes') ?? [];
  const minN = ctx.int('min_gram_length', 1);
  const maxN = ctx.int('max_gram_length', 1);
  const maxSkip = ctx.int('max_skip_count', 0);
  const modeName = ctx.string('mode', 'TF');
  const mode = MODES[modeName];
  if (mode === undefined) throw bad(`"mode" is "${modeName}"; it must be TF, IDF or TFIDF`);
  if (!(minN >= 1 && maxN >= minN && maxN <= 64))
    throw bad(`min_gram_length ${minN} and max_gram_length ${maxN} need 1 ≤ min ≤ max ≤ 64`);
  if (!(maxSkip >= 0 && maxSkip <= 1 << 16)) throw bad(`"max_skip_count" is ${maxSkip}; it must be 0 or more`);
  const grams: Vectorizer['grams'] = [];
  counts.forEach((start, i) => {
    const end = i + 1 < counts.length ? counts[i + 1] : pool.length;
    const n = i + 1;
    if (!(start >= 0 && end >= start && end <= pool.length && (end - start) % n === 0))
      throw bad(`ngram_counts [${counts}] do not cut pool_int64s (${pool.length} ids) into whole ${n}-grams`);
    for (let at = start; at < end; at += n) grams.push({ tokens: pool.slice(at, at + n), out: -1 });
  });
  if (indexes.length !== grams.length)
    throw bad(`ngram_indexes has ${indexes.length} entries for the pool's ${grams.length} n-grams`);
  if (indexes.some((v) => !Number.isSafeInteger(v) || v < 0 || v >= 1 << 24))
    throw bad(`ngram_indexes [${indexes}] must be output positions (whole numbers from 0)`);
  grams.forEach((g, i) => (g.out = indexes[i]));
  const outLen = indexes.length ? Math.max(...indexes) + 1 : 0;
  if (outLen === 0) throw bad('the pool has no n-grams, so the output would be empty');
  // weights[i] is the i-th n-gram's (of the pool), so it lands where that n-gram's count does.
  const w = ctx.attr('weights') as number[] | undefined;
  if (w && w.length && w.length !== grams.length)
    throw bad(`"weights" has ${w.length} values for the pool's ${grams.length} n-grams`);
  let weights: number[] | null = null;
  if (w && w.length) {
    weights = new Array<number>(outLen).fill(1);
    for (let i = grams.length - 1; i >= 0; i--) weights[grams[i].out] = w[i];
  }
  return { grams, minN, maxN, maxSkip, outLen, mode, weights };
}

/** The trie: node k = [first edge, edge count, output or −1]; edge = [token low, token high, child]. */
function trie(v: Vectorizer): { nodes: number[]; edges: number[] } {
  const kids: Map<number, number>[] = [new Map()];
  const outs = [-1];
  for (const g of v.grams) {
    let node = 0;
    for (const t of g.tokens) {
      let next = kids[node].get(t);
      if (next === undefined) {
        next = kids.length;
        kids[node].set(t, next);
        kids.push(new Map());
        outs.push(-1);
      }
      node = next;
    }
    if (outs[node] < 0) outs[node] = g.out; // a repeated n-gram counts at its first index, as onnxruntime
  }
  const nodes: number[] = [];
  const edges: number[] = [];
  kids.forEach((m, k) => {
    const sorted = [...m.entries()].sort((a, b) => a[0] - b[0]);
    nodes.push(edges.length / 3, sorted.length, outs[k]);
    for (const [t, child] of sorted) {
      const big = BigInt.asUintN(64, BigInt(t));
      edges.push(Number(big & 0xffffffffn) | 0, Number(big >> 32n) | 0, child);
    }
  });
  return { nodes, edges };
}

/** The same counts and weights in JavaScript, for a constant input. */
function vectorize(v: Vectorizer, x: ArrayLike<number>, rows: number, C: number): Float32Array {
  const key = (t: number[]) => t.join(',');
  const index = new Map<string, number>();
  for (const g of v.grams) if (!index.has(key(g.tokens))) index.set(key(g.tokens), g.out);
  const y = new Float32Array(rows * v.outLen);
  for (let r = 0; r < rows; r++) {
    for (let start = 0; start < C; start++)
      for (let skip = 0; skip <= (v.maxN > 1 ? v.maxSkip : 0); skip++)
        for (let n = Math.max(v.minN, skip > 0 ? 2 : 1); n <= v.maxN; n++) {
          const pos = Array.from({ length: n }, (_, k) => start + k * (skip + 1));
          if (pos[n - 1] >= C) break;
          const out = index.get(key(pos.map((p) => x[r * C + p])));
          if (out !== undefined) y[r * v.outLen + out]++;
        }
    for (let i = 0; i < v.outLen; i++) {
      const w = v.weights ? v.weights[i] : 1;
      const at = r * v.outLen + i;
      if (v.mode === CODES.TFIDF.IDF) y[at] = y[at] > 0 ? w : 0;
      else if (v.mode === CODES.TFIDF.TFIDF) y[at] *= w;
    }
  }
  return y;
}

const rowsOf = (dims: readonly unknown[]) => {
  if (dims.length !== 1 && dims.length !== 2)
    throw new NodeProblem(`expects a [C] or [N, C] input, got ${shapeToString(dims as number[])}`, 'invalid-graph');
};

const tfIdfVectorizer: OpHandler = {
  inputs: 'X',
  fold(ctx, [x]) {
    const v = vectorizer(ctx);
    rowsOf(x!.dims);
    if (x!.dtype !== 'int64' && x!.dtype !== 'int32')
      throw new NodeProblem(`X holds ${x!.dtype}; TfIdfVectorizer takes int32 or int64 token ids here`);
    const [rows, C] = x!.dims.length === 1 ? [1, x!.dims[0]] : x!.dims;
    const dims = x!.dims.length === 1 ? [v.outLen] : [rows, v.outLen];
    return [Tensor.fromNumbers('float32', dims, vectorize(v, x!.numbers, rows, C))];
  },
  lower(ctx) {
    const v = vectorizer(ctx);
    const x: RtValue = ctx.rtAny(0);
    rowsOf(x.dims);
    const type = x.onnx ?? x.dtype;
    if (type !== 'int64' && type !== 'int32')
      throw new NodeProblem(`X holds ${type}; TfIdfVectorizer takes int32 or int64 token ids here`);
    const [rows, C] = x.dims.length === 1 ? [1, x.dims[0]] : x.dims;
    const y = { ...ctx.newValue(x.dims.length === 1 ? [v.outLen] : [rows, v.outLen]), rowAxis: x.rowAxis };
    const t = trie(v);
    const nodes = ctx.program.addInts(t.nodes);
    const edges = ctx.program.addInts(t.edges.length ? t.edges : [0, 0, 0]);
    const weights = v.weights ? ctx.program.addFloats(Float32Array.from(v.weights)) : null;
    ctx.program.addStep(
      'tfidf',
      () => ({
        x: buf(x),
        y: buf(y),
        rows: i32(rows),
        C: i32(C),
        xBytes: i32(x.dtype === 'int64' ? 8 : 4),
        nodes: data(nodes),
        edges: data(edges),
        minN: i32(v.minN),
        maxN: i32(v.maxN),
        maxSkip: i32(v.maxSkip),
        outLen: i32(v.outLen),
        mode: i32(v.mode),
        weights: data(weights),
      }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

export const TFIDF_OPS: Record<string, OpHandler> = { TfIdfVectorizer: tfIdfVectorizer };
