import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { emit, type ModelElementEventMap } from '../events/index.js';
import type { MlErrorDetail } from '../events/ml-error.js';
import { describeError } from '../shared/errors.js';
import { visibleMessage } from '../shared/render.js';

/**
 * An element's current failure, one place for every element: what `ml-error` last reported (the full
 * diagnostic, for the page's code), what the element shows (short and human: a visitor has no use for
 * URLs or compiler flags), and the full diagnostic logged once with console.warn for the developer.
 */
export class ErrorController implements ReactiveController {
  private readonly host: ReactiveControllerHost & HTMLElement;
  private current?: MlErrorDetail;
  private visible = '';

  constructor(host: ReactiveControllerHost & HTMLElement) {
    this.host = host;
    host.addController(this);
  }

  /** What `ml-error` last reported, or undefined when all is well. */
  get error(): Readonly<MlErrorDetail> | undefined {
    return this.current;
  }

  /** The sentence the element shows for the current error ('' when none). */
  get shown(): string {
    return this.current ? this.visible : '';
  }

  /** Show `error` in the element and tell the page; never throws. */
  fail(error: unknown): void {
    const { code, message, visible } = describeError(error);
    const repeated = this.current?.code === code && this.current.message === message;
    this.current = { code, message };
    this.visible = visible ?? visibleMessage(code, message);
    // Messages meant for the visitor (a form field that is not a number) are already all there is to say.
    if (!repeated && this.visible !== message) {
      const who = this.host.id ? `#${this.host.id}` : '';
      console.warn(`ml-widgets <${this.host.localName}>${who}: ${code}: ${message}`);
    }
    this.host.requestUpdate();
    emit<ModelElementEventMap, 'ml-error'>(this.host, 'ml-error', { code, message });
  }

  clear(): void {
    if (!this.current) return;
    this.current = undefined;
    this.host.requestUpdate();
  }

  hostConnected(): void {}
}
