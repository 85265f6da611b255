/**
 * Ids resolved live, as `<label for>` resolves its control: one MutationObserver per root (a document or
 * a shadow root) tells every subscriber that elements came, went or were renamed, so each looks its id up
 * again. Shadow trees are roots of their own, so our elements' rendering never wakes it.
 */
const roots = new WeakMap<Node, { observer: MutationObserver; callbacks: Set<() => void> }>();

/** Call `callback` after each batch of changes to the elements (or ids) under `root`; returns an unsubscribe. */
export function watchIds(root: Document | ShadowRoot, callback: () => void): () => void {
  let watch = roots.get(root);
  if (!watch) {
    const callbacks = new Set<() => void>();
    const observer = new MutationObserver(() => callbacks.forEach((fn) => fn()));
    observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ['id'] });
    watch = { observer, callbacks };
    roots.set(root, watch);
  }
  const { observer, callbacks } = watch;
  callbacks.add(callback);
  return () => {
    callbacks.delete(callback);
    if (callbacks.size) return;
    observer.disconnect();
    roots.delete(root);
  };
}
