/**
 * Register a custom element once. Importing twice (say the CDN bundle and the npm package on one page)
 * must not throw "already defined"; outside browsers (SSR, Node) there is no registry, so do nothing.
 */
export function define(tagName: string, ctor: CustomElementConstructor): void {
  const registry = globalThis.customElements;
  if (!registry || registry.get(tagName)) return;
  registry.define(tagName, ctor);
}
