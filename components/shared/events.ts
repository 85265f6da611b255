/** Dispatch a bubbling, composed CustomEvent, so pages can listen on any ancestor, across shadow roots. */
export function emit<T>(host: HTMLElement, type: string, detail: T): boolean {
  return host.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
}
