// Ranking a classifier's outputs and rendering the ranked list: shared by <ml-classifier> and
// <ml-image-classifier> (same markup, parts, accessibility and numbers).
import { html, nothing } from 'lit';
import { rowSize, type ModelMeta } from '../../runtime/meta.js';
import type { Outputs } from '../../runtime/model.js';
import { WidgetError } from './errors.js';
import { classCount, findScoresOutput, labelFor, toProbabilities, topK, type Prediction } from './scores.js';
import { styleProps } from './style-props.js';

let percentFormat: Intl.NumberFormat | undefined;
export function formatPercent(score: number): string {
  percentFormat ??= new Intl.NumberFormat(undefined, {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  return percentFormat.format(score);
}

/** `not-a-classifier` unless the model has a class-score output. */
export function assertClassifier(meta: ModelMeta, tag: string): void {
  if (findScoresOutput(meta)) return;
  // A label with no class scores: an outlier detector or a clusterer (IsolationForest, KMeans).
  const labelOnly = meta.outputs.some((t) => t.kind === 'label');
  throw new WidgetError(
    'not-a-classifier',
    labelOnly
      ? `This model gives a label but no class scores (probabilities or logits), as outlier detectors and clusterers do, so <${tag}> cannot rank classes. Read its outputs with the element's model.predict(), or show its numeric outputs with <ml-regressor>.`
      : `This model has no class-score output (probabilities or logits), so <${tag}> cannot rank classes. Is it a regression model?`,
  );
}

/** Ranks rows of class scores, best first, in scratch buffers kept between calls. */
export class Ranker {
  private probs = new Float64Array(0);
  private order = new Int32Array(0);

  /** Top `k` per row of the model's score output; `labels` overrides the model's class names. */
  rank(meta: ModelMeta, outputs: Outputs, k: number, labels?: readonly string[]): Prediction[][] {
    const scores = findScoresOutput(meta)!;
    const data = outputs[scores.name].data as Float32Array;
    const columns = rowSize(scores);
    const classes = classCount(scores);
    const top = Number.isFinite(k) && k >= 1 ? Math.floor(k) : 3;
    if (this.probs.length < classes) this.probs = new Float64Array(classes);
    if (this.order.length < top) this.order = new Int32Array(top);
    const names = meta.labels;
    const label = (i: number) => labelFor(i, labels, names);
    const n = data.length / columns;
    const predictions: Prediction[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      toProbabilities(data, r * columns, columns, scores.kind, this.probs);
      predictions[r] = topK(this.probs, classes, top, label, this.order);
    }
    return predictions;
  }
}

/** The ranked list: one row per class with a label, a meter bar and a percentage. */
export function renderPredictions(predictions: readonly Prediction[]) {
  if (!predictions.length) return nothing;
  return html`<ol class="list" part="list" aria-label="Predictions">
    ${predictions.map((p, i) => renderRow(p, i))}
  </ol>`;
}

function renderRow(p: Prediction, i: number) {
  const text = formatPercent(p.score);
  const top = i === 0;
  // The meter is named by the label and speaks the percentage; the visible percentage is not read twice.
  return html`<li class="row ${top ? 'top' : ''}" part=${top ? 'row row-top' : 'row'}>
    <span class="label" part="label" id="label-${i}">${p.label}</span>
    <div
      class="bar"
      part="bar"
      role="meter"
      aria-labelledby="label-${i}"
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${Math.round(p.score * 1000) / 10}
      aria-valuetext=${text}
    >
      <div class="fill" part="bar-fill" ${styleProps({ transform: `scaleX(${p.score})` })}></div>
    </div>
    <span class="value" part="value" aria-hidden="true">${text}</span>
  </li>`;
}

/** What the live region says about the best class (whole percent, so it does not chatter). */
export function predictionStatus(predictions: readonly Prediction[]): string {
  return predictions.length ? `Prediction: ${predictions[0].label}, ${Math.round(predictions[0].score * 100)}%` : '';
}
