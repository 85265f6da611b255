import type { ReactiveController, ReactiveControllerHost } from 'lit';

export interface VisibilityControllerOptions {
  /** Watch only while this is true (e.g. `loading="lazy"`); otherwise the host counts as visible. */
  enabled: () => boolean;
  /** How far outside the viewport counts as near, like the margin browsers use for `<img loading=lazy>`. */
  rootMargin?: string;
}

/**
 * Becomes `visible` (once, for good) when the host nears the viewport, so a lazy element starts its
 * download shortly before it is scrolled into view. The observer exists only while connected.
 */
export class VisibilityController implements ReactiveController {
  private readonly host: ReactiveControllerHost & Element;
  private readonly options: VisibilityControllerOptions;
  private observer?: IntersectionObserver;
  private seen = false;

  constructor(host: ReactiveControllerHost & Element, options: VisibilityControllerOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  /** True once the host has come near the viewport, or when watching is off. */
  get visible(): boolean {
    return this.seen || !this.options.enabled();
  }

  hostConnected(): void {
    this.sync();
  }

  hostUpdated(): void {
    this.sync(); // `loading` may have changed
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  private sync(): void {
    const watch = !this.seen && this.options.enabled();
    if (watch && !this.observer) {
      if (typeof IntersectionObserver === 'undefined') {
        this.reveal(); // nothing to wait for
        return;
      }
      this.observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) this.reveal();
        },
        { rootMargin: this.options.rootMargin ?? '300px' },
      );
      this.observer.observe(this.host);
    } else if (!watch && this.observer) {
      this.hostDisconnected();
    }
  }

  private reveal(): void {
    this.seen = true;
    this.hostDisconnected();
    this.host.requestUpdate();
  }
}
