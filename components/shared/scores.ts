import { rowSize, type ModelMeta, type TensorMeta } from '../../runtime/meta.js';

/** One class in a ranking: `score` is a probability in [0, 1]. */
export interface Prediction {
  label: string;
  /** Class index in the model's output. */
  index: number;
  score: number;
}

export type ScoreKind = 'probabilities' | 'logits' | 'log-probabilities';
const SCORE_KINDS: readonly string[] = ['probabilities', 'logits', 'log-probabilities'];

/** The output the model marks as class scores: the first float output of a score kind. */
export function findScoresOutput(meta: ModelMeta): (TensorMeta & { kind: ScoreKind }) | undefined {
  return meta.outputs.find(
    (t): t is TensorMeta & { kind: ScoreKind } => t.dtype === 'float32' && SCORE_KINDS.includes(t.kind),
  );
}

/** Number of classes a scores output ranks: one column is a binary classifier (scores for class 1). */
export function classCount(t: TensorMeta): number {
  const n = rowSize(t);
  return n === 1 ? 2 : n;
}

/** `labels` override, else the model's labels, else "Class i" — per index, so a short list still works. */
export function labelFor(
  i: number,
  override: readonly string[] | undefined,
  fromModel: readonly string[] | null,
): string {
  return override?.[i] ?? fromModel?.[i] ?? `Class ${i}`;
}

/**
 * Probabilities for one row of scores, written into `probs` (length ≥ classes, reused between calls).
 * Logits and log-probabilities go through a max-shifted softmax, so large values cannot overflow.
 */
export function toProbabilities(
  data: Float32Array,
  offset: number,
  columns: number,
  kind: ScoreKind,
  probs: Float64Array,
): void {
  if (columns === 1) {
    // Binary with one column: the score of class 1 (a probability, or a logit for the sigmoid).
    const x = data[offset];
    const p = kind === 'probabilities' ? x : kind === 'log-probabilities' ? Math.exp(x) : 1 / (1 + Math.exp(-x));
    probs[0] = 1 - p;
    probs[1] = p;
    return;
  }
  if (kind === 'probabilities') {
    for (let i = 0; i < columns; i++) probs[i] = data[offset + i];
    return;
  }
  let max = -Infinity;
  for (let i = 0; i < columns; i++) if (data[offset + i] > max) max = data[offset + i];
  let sum = 0;
  for (let i = 0; i < columns; i++) sum += probs[i] = Math.exp(data[offset + i] - max);
  for (let i = 0; i < columns; i++) probs[i] /= sum;
}

/**
 * The k best classes of `probs[0..classes)`, best first (ties keep the lower index first). Selection
 * into a small index array: O(classes·k), no sort of the whole row.
 */
export function topK(
  probs: Float64Array,
  classes: number,
  k: number,
  label: (index: number) => string,
  order: Int32Array,
): Prediction[] {
  const n = Math.min(k, classes);
  let filled = 0;
  for (let i = 0; i < classes; i++) {
    const s = probs[i];
    if (filled === n && !(s > probs[order[n - 1]])) continue;
    let j = filled < n ? filled++ : n - 1;
    while (j > 0 && (s > probs[order[j - 1]] || Number.isNaN(probs[order[j - 1]]))) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  const out: Prediction[] = new Array(filled);
  for (let j = 0; j < filled; j++) out[j] = { label: label(order[j]), index: order[j], score: probs[order[j]] };
  return out;
}
