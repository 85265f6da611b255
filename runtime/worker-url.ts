/**
 * Starting ml-widgets' module Worker (runtime/worker.ts, built beside this file as worker.js): the
 * `worker` attribute's worker and the workers of a model's thread pool are the same script, started from
 * its own URL (no blob: URL, no eval), so a strict CSP with `worker-src 'self'` (or script-src) holds.
 * This file must stay in runtime/, beside worker.ts: the URL is relative to it, in dist/ and in cdn/.
 */

/** The worker module, relative to this file (a Worker starts its own module graph: no import of it here). */
const WORKER_MODULE = './worker.js';

interface TrustedTypePolicyLike {
  createScriptURL(url: string): unknown;
}
let policy: TrustedTypePolicyLike | undefined;

/**
 * Under `require-trusted-types-for 'script'` a Worker's URL must be a TrustedScriptURL. The
 * "ml-widgets" policy passes exactly one URL, our own worker module's (a page with a `trusted-types`
 * allow-list must name it, as it names "lit-html" for Lit). Made once: a policy name is used once.
 */
function trustedWorkerUrl(url: URL): string | URL {
  const tt = (
    globalThis as {
      trustedTypes?: {
        createPolicy(name: string, rules: { createScriptURL(u: string): string }): TrustedTypePolicyLike;
      };
    }
  ).trustedTypes;
  if (!tt) return url;
  policy ??= tt.createPolicy('ml-widgets', {
    createScriptURL: (u) => {
      if (u !== url.href)
        throw new TypeError(`The ml-widgets Trusted Types policy only allows its own worker, not ${u}.`);
      return u;
    },
  });
  return policy.createScriptURL(url.href) as string;
}

/** A new ml-widgets module Worker; throws as `new Worker` does (a refused URL, no Worker support). */
export function startWorker(name: string): Worker {
  return new Worker(trustedWorkerUrl(new URL(WORKER_MODULE, import.meta.url)), { type: 'module', name });
}
