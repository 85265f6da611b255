import type { PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { Outputs } from '../../runtime/model.js';
import type { LoadedModel } from '../controllers/model-controller.js';
import { emit, type ModelElementEventMap } from '../events/index.js';
import type { MlPredictionDetail } from '../events/ml-prediction.js';
import { labelsConverter } from './converters.js';
import { ModelElement } from './model-element.js';
import { Ranker, assertClassifier } from './predictions.js';
import type { Prediction } from './scores.js';

/** The events of an element that ranks classes. */
export interface ClassifierEventMap extends ModelElementEventMap {
  'ml-prediction': CustomEvent<MlPredictionDetail>;
}

/**
 * What `<ml-classifier>` and `<ml-image-classifier>` share: how many classes to show (`top-k`) and what
 * to call them (`labels`), ranking the model's scores into the current `predictions`, and `ml-prediction`
 * with them. Subclasses say where the input comes from and render the list.
 */
export abstract class ClassifierElement extends ModelElement {
  /** How many classes to show, best first. */
  @property({ attribute: 'top-k', type: Number }) topK = 3;

  /** Class names overriding the model's own, comma-separated in the attribute (an array as property). */
  @property({ converter: labelsConverter }) labels?: string[];

  @state() protected _predictions: Prediction[] = [];

  private readonly _ranker = new Ranker();

  /** The current top-k predictions, best first (empty until something was predicted). */
  get predictions(): readonly Prediction[] {
    return this._predictions;
  }

  protected override update(changed: PropertyValues<this>): void {
    if (changed.has('topK') || changed.has('labels')) this._dirty = true;
    super.update(changed);
  }

  /** `not-a-classifier` unless the model has class scores. */
  protected _assertClassifier(model: LoadedModel): void {
    assertClassifier(model.meta, this.localName);
  }

  /** Each row's top `topK` classes, best first. */
  protected _rank(model: LoadedModel, outputs: Outputs): Prediction[][] {
    return this._ranker.rank(model.meta, outputs, this.topK, this.labels);
  }

  protected override _show(model: LoadedModel, outputs: Outputs): void {
    this._predictions = this._rank(model, outputs)[0];
    emit<ClassifierEventMap, 'ml-prediction'>(this, 'ml-prediction', { predictions: this._predictions, outputs });
  }

  protected override _clearResult(): void {
    this._predictions = [];
  }
}
