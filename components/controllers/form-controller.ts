import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { rowSize, type FeatureMeta, type ModelMeta } from '../../runtime/meta.js';
import type { ModelInput } from '../../runtime/model.js';
import { WidgetError } from '../shared/errors.js';
import { watchIds } from './id-watch.js';

export interface FormBindingOptions {
  /** The id of the `<form>` (or any container of fields) to read, or empty for none. */
  formId: () => string | null | undefined;
  /** The form's values changed (its `input` or `change` event), or the form was just bound. */
  onInput: () => void;
  /** No element has that id, even after the document finished parsing; or the bound form left the page. */
  onMissing: (id: string) => void;
}

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** One feature of a row: a field, or a radio group (all radios of one name). */
interface Feature {
  fields: Field[];
  /** `data-feature`: a column number, an input name, or null (document order). */
  key: string | null;
}

const NUMERIC_TYPES = new Set(['number', 'range']);
const IGNORED_TYPES = new Set(['button', 'submit', 'reset', 'image', 'file']);

/**
 * Binds the host to a form by id, looked up in the host's root node (document or shadow root), so the
 * host may sit anywhere: outside the form, or wrapped in `<p>` by a CMS. The id is resolved live, as
 * `<label for>` resolves it: a form that leaves the page is `onMissing`, and one that takes the id
 * (a replacement, a form rendered later) is bound at once.
 *
 * Features are, in document order, the form's `<input type=number|range>`, `<select>`s, checkboxes
 * (checked → 1, else 0) and radio groups (the checked radio's value). When any field (or `<fieldset>`)
 * has `data-feature`, exactly those are the features: `data-feature="3"` is column 3 of the row,
 * `data-feature="age"` is the model input named `age` (models with one input per column). A `<select>`
 * (or radio group) on a column the model one-hot encodes may also list its categories by position:
 * the n-th option is the model's n-th category. The feature list and value buffers are cached until
 * the form's structure changes.
 */
export class FormBindingController implements ReactiveController {
  private readonly host: ReactiveControllerHost & Element;
  private readonly options: FormBindingOptions;
  private boundId: string | undefined;
  private container?: Element;
  private features?: Feature[];
  /** Features ordered for `ordered.meta` (names resolved against its inputs). */
  private ordered?: { meta: ModelMeta; features: Feature[] };
  private values?: Float32Array;
  private inputs?: { meta: ModelMeta; flat: Float32Array; views: ModelInput };
  private mutations?: MutationObserver;
  private retry?: () => void;
  private unwatch?: () => void;
  private readonly handleInput = () => this.options.onInput();

  constructor(host: ReactiveControllerHost & Element, options: FormBindingOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  /** The bound form (or container), if found. */
  get form(): Element | undefined {
    return this.container;
  }

  hostConnected(): void {
    this.bind();
  }

  hostUpdate(): void {
    if ((this.options.formId() || undefined) !== this.boundId) this.bind();
  }

  hostDisconnected(): void {
    this.unbind();
  }

  /**
   * The current feature values as plain numbers, in a buffer reused between calls (read it before the
   * next call). Throws a `bad-input` WidgetError naming the first field that is empty or not a number.
   */
  read(): Float32Array {
    const features = this.currentFeatures();
    if (!this.values || this.values.length !== features.length) this.values = new Float32Array(features.length);
    for (let i = 0; i < features.length; i++) this.values[i] = readFeature(features[i], i, null, false);
    return this.values;
  }

  /** How many features the form supplies. */
  get fieldCount(): number {
    return this.currentFeatures().length;
  }

  /**
   * One row for `meta`'s inputs, in buffers reused between calls: the sole input's values, or a record
   * by input name. Selects on one-hot encoded columns map to the model's categories; an empty field is
   * NaN when the model handles missing values and the field is not `required`. Throws `bad-input`
   * WidgetErrors that say which field is wrong, or that the form has the wrong number of features.
   */
  readInput(meta: ModelMeta): ModelInput {
    const features = this.orderedFeatures(meta);
    const need = meta.inputs.reduce((n, t) => n + rowSize(t), 0);
    if (features.length !== need) {
      const have = features.length;
      throw new WidgetError(
        'bad-input',
        `The form “${this.boundId}” has ${have} numeric field${have === 1 ? '' : 's'} (number inputs, selects, checkboxes, radio groups), but the model takes ${need} features.`,
      );
    }
    const buffers = this.inputBuffers(meta, need);
    let column = 0;
    for (const t of meta.inputs) {
      const n = rowSize(t);
      for (let c = 0; c < n; c++, column++) {
        buffers.flat[column] = readFeature(features[column], column, t.features?.[c] ?? null, !!t.missing);
      }
    }
    return buffers.views;
  }

  private inputBuffers(meta: ModelMeta, size: number) {
    if (this.inputs?.meta !== meta) {
      const flat = new Float32Array(size);
      let views: ModelInput = flat;
      if (meta.inputs.length > 1) {
        const record: Record<string, Float32Array> = {};
        let at = 0;
        for (const t of meta.inputs) record[t.name] = flat.subarray(at, (at += rowSize(t)));
        views = record;
      }
      this.inputs = { meta, flat, views };
    }
    return this.inputs;
  }

  private currentFeatures(): Feature[] {
    if (!this.features) {
      this.features = this.container ? collectFeatures(this.container) : [];
      this.ordered = undefined;
    }
    return this.features;
  }

  /** Features in column order: numbered and named `data-feature`s resolved against the model's inputs. */
  private orderedFeatures(meta: ModelMeta): Feature[] {
    const features = this.currentFeatures();
    if (this.ordered?.meta === meta) return this.ordered.features;
    let ordered = features;
    if (features.length && features[0].key !== null) {
      const starts = new Map<string, number>();
      let at = 0;
      for (const t of meta.inputs) {
        starts.set(t.name, at);
        at += rowSize(t);
      }
      const position = (f: Feature): number => {
        const key = f.key!;
        const n = Number(key);
        if (key.trim() !== '' && Number.isFinite(n)) return n;
        const start = starts.get(key);
        if (start === undefined) {
          throw new WidgetError(
            'bad-input',
            `The field “${fieldName(f.fields[0], 0)}” has data-feature="${key}", which is neither a column number nor an input of the model (${meta.inputs.map((t) => t.name).join(', ')}).`,
          );
        }
        return start;
      };
      const keyed = features.map((f) => ({ f, at: position(f) }));
      ordered = keyed.sort((a, b) => a.at - b.at).map((k) => k.f);
    }
    this.ordered = { meta, features: ordered };
    return ordered;
  }

  private bind(): void {
    this.unbind();
    const id = this.options.formId() || undefined;
    this.boundId = id;
    if (!id || !this.host.isConnected) return;
    this.unwatch = watchIds(this.host.getRootNode() as Document | ShadowRoot, () => this.recheck(id));
    const found = findById(this.host, id);
    if (found) {
      this.attach(found);
      return;
    }
    // The form may come later in the page than the element, or be rendered right after it.
    const again = () => {
      this.retry = undefined;
      if (this.boundId !== id || !this.host.isConnected || this.container) return;
      const later = findById(this.host, id);
      if (later) this.attach(later);
      else this.options.onMissing(id);
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', again, { once: true });
      this.retry = () => document.removeEventListener('DOMContentLoaded', again);
    } else {
      const timer = setTimeout(again);
      this.retry = () => clearTimeout(timer);
    }
  }

  /** Elements came or went in the host's root: follow the id to whatever holds it now. */
  private recheck(id: string): void {
    if (this.boundId !== id || !this.host.isConnected) return;
    const found = findById(this.host, id);
    if (found === this.container) return;
    const had = this.container !== undefined;
    this.detach();
    if (found) this.attach(found);
    else if (had && !this.retry) this.options.onMissing(id);
  }

  private attach(container: Element): void {
    this.container = container;
    container.addEventListener('input', this.handleInput);
    container.addEventListener('change', this.handleInput);
    // Fields added, removed, renamed or renumbered: rebuild the list on the next read.
    this.mutations = new MutationObserver(() => (this.features = undefined));
    this.mutations.observe(container, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['data-feature', 'type', 'name'],
    });
    this.options.onInput();
  }

  private unbind(): void {
    this.retry?.();
    this.retry = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    this.detach();
  }

  private detach(): void {
    this.mutations?.disconnect();
    this.mutations = undefined;
    this.container?.removeEventListener('input', this.handleInput);
    this.container?.removeEventListener('change', this.handleInput);
    this.container = undefined;
    this.features = undefined;
  }
}

function findById(host: Element, id: string): Element | null {
  const root = host.getRootNode() as Document | ShadowRoot;
  return typeof root.getElementById === 'function' ? root.getElementById(id) : null;
}

function isField(el: Element): el is Field {
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement;
}

/** A field that is a feature in document-order mode. */
function isImplicitFeature(f: Field): boolean {
  if (f instanceof HTMLSelectElement) return true;
  return f instanceof HTMLInputElement && (NUMERIC_TYPES.has(f.type) || f.type === 'checkbox' || f.type === 'radio');
}

function isRadio(f: Field): f is HTMLInputElement {
  return f instanceof HTMLInputElement && f.type === 'radio';
}

function collectFeatures(container: Element): Feature[] {
  const all: Field[] =
    container instanceof HTMLFormElement
      ? Array.from(container.elements).filter(isField)
      : Array.from(container.querySelectorAll<Field>('input, select, textarea'));
  const usable = all.filter((f) => !(f instanceof HTMLInputElement && IGNORED_TYPES.has(f.type)));
  const taggedSets = Array.from(container.querySelectorAll<HTMLFieldSetElement>('fieldset[data-feature]'));
  const tagged = taggedSets.length > 0 || usable.some((f) => f.hasAttribute('data-feature'));
  const features: Feature[] = [];
  const groups = new Map<string, Feature>();
  // Radio groups with a tag on any of their radios: the untagged radios still belong to the group.
  const taggedGroups = new Set(
    usable.filter((f) => isRadio(f) && f.name && f.hasAttribute('data-feature')).map((f) => f.name),
  );
  const claimed = new Set<Field>();
  // A tagged fieldset is one feature: its radio group, or its one field.
  for (const set of taggedSets) {
    const inside = usable.filter((f) => set.contains(f) && isImplicitFeature(f));
    if (!inside.length) continue;
    const radios = inside.filter((f) => f instanceof HTMLInputElement && f.type === 'radio');
    const fields = radios.length ? radios : [inside[0]];
    fields.forEach((f) => claimed.add(f));
    features.push({ fields, key: set.getAttribute('data-feature') });
  }
  for (const f of usable) {
    if (claimed.has(f)) continue;
    const key = f.getAttribute('data-feature');
    if (tagged ? key === null && !(isRadio(f) && taggedGroups.has(f.name)) : !isImplicitFeature(f)) continue;
    if (isRadio(f) && f.name) {
      // One feature per radio group, at its first radio; a tag on any of its radios tags the group.
      const group = groups.get(f.name);
      if (group) {
        group.fields.push(f);
        group.key ??= key;
        continue;
      }
      const feature = { fields: [f], key };
      groups.set(f.name, feature);
      features.push(feature);
      continue;
    }
    features.push({ fields: [f], key });
  }
  return features;
}

/**
 * A feature's value. Empty → NaN if the model handles missing values (and the field is not
 * `required`), else a `bad-input` error naming the field.
 */
function readFeature(feature: Feature, i: number, meta: FeatureMeta | null, missingOk: boolean): number {
  const field = feature.fields[0];
  if (field instanceof HTMLInputElement && field.type === 'checkbox')
    return checkCategory(field, i, field.checked ? 1 : 0, meta);
  let text: string;
  /** Which choice is made, by position: only needed for a category named by text (so computed lazily). */
  let choice: (() => { index: number; count: number }) | undefined;
  if (isRadio(field)) {
    const radios = feature.fields as HTMLInputElement[];
    const index = radios.findIndex((r) => r.checked);
    if (index < 0) return missing(feature, i, missingOk, 'choose an option');
    text = radios[index].value.trim();
    choice = () => ({ index, count: radios.length });
  } else if (field instanceof HTMLSelectElement) {
    text = field.value.trim();
    if (text === '') return missing(feature, i, missingOk, 'choose an option');
    // Position among the real options (a placeholder with an empty value does not count).
    choice = () => {
      const options = Array.from(field.options).filter((o) => o.value.trim() !== '');
      return { index: options.indexOf(field.selectedOptions[0]), count: options.length };
    };
  } else if (field instanceof HTMLInputElement && NUMERIC_TYPES.has(field.type)) {
    const v = field.valueAsNumber;
    if (Number.isFinite(v)) return checkCategory(field, i, withinLimits(field, i, v), meta);
    // Text the browser could not read as a number ("abc" in Firefox, "1e") is not an empty field.
    if (field.value === '' && !field.validity.badInput) return missing(feature, i, missingOk, 'enter a number');
    throw visitorError(`“${fieldName(field, i)}” is not a number.`);
  } else {
    text = field.value.trim();
    if (text === '') return missing(feature, i, missingOk, 'enter a number');
  }
  const v = Number(text);
  if (Number.isFinite(v)) return checkCategory(field, i, v, meta);
  // A category named by its position: the n-th option stands for the model's n-th category.
  const chosen = meta && choice?.();
  if (meta && chosen && chosen.index >= 0 && chosen.count === meta.categories.length)
    return meta.categories[chosen.index];
  if (meta) {
    throw new WidgetError(
      'bad-input',
      `“${fieldName(field, i)}” is “${text}”, which is not one of the model's categories (${meta.categories.join(', ')}): give the options those values, or exactly ${meta.categories.length} options in that order.`,
    );
  }
  throw visitorError(`“${fieldName(field, i)}” is “${text}”, not a number.`);
}

/** A problem the page's visitor can fix in the field: the element shows the message as it is. */
const visitorError = (message: string) => new WidgetError('bad-input', message, { forVisitor: true });

/** The field's own limits (`min`, `max`, `step`), as the browser's form validation reads them. */
function withinLimits(field: HTMLInputElement, i: number, v: number): number {
  const { validity } = field;
  const name = fieldName(field, i);
  if (validity.rangeUnderflow) throw visitorError(`“${name}” must be at least ${field.min}.`);
  if (validity.rangeOverflow) throw visitorError(`“${name}” must be at most ${field.max}.`);
  // Only an explicit step: the default step of 1 would refuse 5.1 in every form that never set one.
  if (validity.stepMismatch && field.hasAttribute('step'))
    throw visitorError(`“${name}” goes in steps of ${field.step}.`);
  return v;
}

function missing(feature: Feature, i: number, missingOk: boolean, hint: string): number {
  if (missingOk && !feature.fields.some((f) => f.required)) return NaN;
  throw visitorError(`“${fieldName(feature.fields[0], i)}” is empty: ${hint}.`);
}

/** A one-hot encoded column only takes the categories the encoder knows (unless it ignores others). */
function checkCategory(field: Field, i: number, v: number, meta: FeatureMeta | null): number {
  if (!meta || meta.unknown === 'ignore' || meta.categories.includes(v)) return v;
  throw visitorError(
    `“${fieldName(field, i)}” is ${v}, which is not one of the model's categories (${meta.categories.join(', ')}).`,
  );
}

/** What a person would call the field: its label's text (a radio's fieldset legend), else aria-label, name or id. */
function fieldName(field: Field, i: number): string {
  let text = '';
  const legend =
    field instanceof HTMLInputElement && field.type === 'radio'
      ? field.closest('fieldset')?.querySelector('legend')
      : null;
  const label = legend ?? field.labels?.[0];
  if (label) {
    // A label wrapping its field would otherwise include a select's option texts.
    const copy = label.cloneNode(true) as Element;
    copy.querySelectorAll('input, select, textarea, button').forEach((c) => c.remove());
    text = copy.textContent ?? '';
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text || field.getAttribute('aria-label') || field.name || field.id || `field ${i + 1}`;
}
