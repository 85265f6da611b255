import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WidgetError } from '../shared/errors.js';

export interface FormBindingOptions {
  /** The id of the `<form>` (or any container of fields) to read, or empty for none. */
  formId: () => string | null | undefined;
  /** The form's values changed (its `input` or `change` event), or the form was just bound. */
  onInput: () => void;
  /** No element has that id, even after the document finished parsing. */
  onMissing: (id: string) => void;
}

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

const NUMERIC_TYPES = new Set(['number', 'range']);

/**
 * Binds the host to a form by id, looked up in the host's root node (document or shadow root), so the
 * host may sit anywhere: outside the form, or wrapped in `<p>` by a CMS. Features are the form's numeric
 * fields (`<input type=number|range>`, `<select>`) in document order, or, when any field has
 * `data-feature="i"`, exactly the fields that have one, ordered by it. The field list and the value
 * buffer are cached until the form's structure changes.
 */
export class FormBindingController implements ReactiveController {
  private readonly host: ReactiveControllerHost & Element;
  private readonly options: FormBindingOptions;
  private boundId: string | undefined;
  private container?: Element;
  private fields?: Field[];
  private values?: Float32Array;
  private mutations?: MutationObserver;
  private retry?: () => void;
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
   * The current feature values, in a buffer reused between calls (read it before the next call).
   * Throws a `bad-input` WidgetError naming the first field that is empty or not a number.
   */
  read(): Float32Array {
    const fields = this.currentFields();
    if (!this.values || this.values.length !== fields.length) this.values = new Float32Array(fields.length);
    const values = this.values;
    for (let i = 0; i < fields.length; i++) values[i] = readField(fields[i], i);
    return values;
  }

  /** How many features the form supplies. */
  get fieldCount(): number {
    return this.currentFields().length;
  }

  private currentFields(): Field[] {
    if (!this.fields) this.fields = this.container ? collectFields(this.container) : [];
    return this.fields;
  }

  private bind(): void {
    this.unbind();
    const id = this.options.formId() || undefined;
    this.boundId = id;
    if (!id || !this.host.isConnected) return;
    const found = findById(this.host, id);
    if (found) {
      this.attach(found);
      return;
    }
    // The form may come later in the page than the element, or be rendered right after it.
    const again = () => {
      this.retry = undefined;
      if (this.boundId !== id || !this.host.isConnected) return;
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

  private attach(container: Element): void {
    this.container = container;
    container.addEventListener('input', this.handleInput);
    container.addEventListener('change', this.handleInput);
    // Fields added, removed or renumbered: rebuild the list on the next read.
    this.mutations = new MutationObserver(() => (this.fields = undefined));
    this.mutations.observe(container, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-feature', 'type'] });
    this.options.onInput();
  }

  private unbind(): void {
    this.retry?.();
    this.retry = undefined;
    this.mutations?.disconnect();
    this.mutations = undefined;
    this.container?.removeEventListener('input', this.handleInput);
    this.container?.removeEventListener('change', this.handleInput);
    this.container = undefined;
    this.fields = undefined;
  }
}

function findById(host: Element, id: string): Element | null {
  const root = host.getRootNode() as Document | ShadowRoot;
  return typeof root.getElementById === 'function' ? root.getElementById(id) : null;
}

function collectFields(container: Element): Field[] {
  const all: Field[] =
    container instanceof HTMLFormElement
      ? (Array.from(container.elements).filter(isField) as Field[])
      : Array.from(container.querySelectorAll<Field>('input, select, textarea'));
  const tagged = all.filter((f) => f.hasAttribute('data-feature'));
  if (tagged.length) {
    return tagged.sort((a, b) => Number(a.getAttribute('data-feature')) - Number(b.getAttribute('data-feature')));
  }
  return all.filter((f) => f instanceof HTMLSelectElement || (f instanceof HTMLInputElement && NUMERIC_TYPES.has(f.type)));
}

function isField(el: Element): boolean {
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement;
}

function readField(field: Field, i: number): number {
  if (field instanceof HTMLInputElement) {
    if (field.type === 'checkbox' || field.type === 'radio') return field.checked ? 1 : 0;
    if (NUMERIC_TYPES.has(field.type)) {
      const v = field.valueAsNumber;
      if (Number.isFinite(v)) return v;
      throw fieldError(field, i, field.value === '' && !field.validity.badInput);
    }
  }
  const text = field.value.trim();
  const v = text === '' ? NaN : Number(text);
  if (Number.isFinite(v)) return v;
  throw fieldError(field, i, text === '');
}

function fieldError(field: Field, i: number, empty: boolean): WidgetError {
  const name = fieldName(field, i);
  return new WidgetError('bad-input', empty ? `“${name}” is empty: enter a number.` : `“${name}” is not a number.`);
}

/** What a person would call the field: its label's text, else aria-label, name or id. */
function fieldName(field: Field, i: number): string {
  const label = field.labels?.[0];
  let text = '';
  if (label) {
    // A label wrapping its field would otherwise include a select's option texts.
    const copy = label.cloneNode(true) as Element;
    copy.querySelectorAll('input, select, textarea, button').forEach((c) => c.remove());
    text = copy.textContent ?? '';
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text || field.getAttribute('aria-label') || field.name || field.id || `field ${i + 1}`;
}
