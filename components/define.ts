import { VERSION } from '../runtime/version.js';

/**
 * Which ml-widgets version registered which element class. It lives on the global object under a
 * registered symbol, so every copy of ml-widgets on a page (the CDN file, an npm bundle, another
 * version) reads and writes the same map.
 */
const VERSIONS = Symbol.for('ml-widgets.versions');

function versions(): WeakMap<CustomElementConstructor, string> {
  const g = globalThis as unknown as { [VERSIONS]?: WeakMap<CustomElementConstructor, string> };
  return (g[VERSIONS] ??= new WeakMap());
}

/** The ml-widgets version that registered `ctor`, if ml-widgets did (a `static version` counts too). */
export function definedVersion(ctor: CustomElementConstructor): string | undefined {
  const own = (ctor as { version?: unknown }).version;
  return versions().get(ctor) ?? (typeof own === 'string' ? own : undefined);
}

/**
 * Whether this copy should register `tagName` now. False outside browsers (Node, SSR without a
 * registry shim) and when the tag is taken: loading ml-widgets twice on a page (say the CDN file and
 * an app's npm copy, or two versions) keeps the first definition, and says so once with both versions
 * instead of throwing "already defined". Elements call
 * `if (canDefine(tag, Class)) customElements.define(tag, Class)` — the literal `customElements.define`
 * is what the custom-elements manifest analyzer looks for.
 */
export function canDefine(tagName: string, ctor: CustomElementConstructor): boolean {
  const registry = globalThis.customElements;
  if (!registry) return false;
  const existing = registry.get(tagName);
  if (!existing) {
    versions().set(ctor, VERSION);
    return true;
  }
  if (existing !== ctor) {
    const theirs = definedVersion(existing);
    const who = theirs ? `ml-widgets ${theirs}` : 'another script (not ml-widgets, or one older than 0.1.0)';
    console.warn(
      `ml-widgets ${VERSION}: <${tagName}> is already defined by ${who}; keeping that definition and ignoring this one. ` +
        `Load ml-widgets once per page (the CDN file or the npm package, one version).`,
    );
  }
  return false;
}

/** Register a custom element once (see `canDefine`); importing twice is harmless. */
export function define(tagName: string, ctor: CustomElementConstructor): void {
  // Through a local, so the manifest analyzer does not take this generic call for an element named "tagName".
  const registry = globalThis.customElements;
  if (canDefine(tagName, ctor)) registry.define(tagName, ctor);
}
