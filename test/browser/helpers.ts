// Shared helpers for the browser tests. Oracles are the reference JSON files written by the source
// library (PyTorch / scikit-learn) in test/fixtures/make.py — never our own outputs.
import { expect } from '@open-wc/testing';

export interface RefTensor {
  shape: number[];
  dtype?: string;
  data: (number | string)[];
}
export interface Reference {
  model: string;
  labels: string[];
  task: string;
  inputs: Record<string, RefTensor>;
  outputs: Record<string, RefTensor>;
}

export const MODELS = '/test/fixtures/build';

export async function reference(name: string): Promise<Reference> {
  const res = await fetch(`/test/fixtures/models/${name}.json`);
  if (!res.ok) throw new Error(`reference ${name}: HTTP ${res.status}`);
  return res.json();
}

/** Row `r` of a [rows, ...] reference tensor, flattened. */
export function row(t: RefTensor, r: number): number[] {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return (t.data as number[]).slice(r * per, (r + 1) * per);
}

export function rowCount(t: RefTensor): number {
  return t.shape[0];
}

/** Softmax in double precision, shifted by the max. */
export function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export function argmax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** A key no other test uses, for per-test request counting and fresh URLs. */
export function uid(prefix = 'k'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface RequestStats {
  requests: number;
  completed: number;
  aborted: number;
}
export async function requestStats(key: string): Promise<RequestStats> {
  return (await fetch(`/__test/stats/${key}`)).json();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` returns true (or fail after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Collect unhandled promise rejections while a test runs: the elements must never leak any. */
export function watchUnhandledRejections(): { reasons: unknown[]; stop: () => void } {
  const reasons: unknown[] = [];
  const onRejection = (e: PromiseRejectionEvent) => reasons.push(e.reason);
  window.addEventListener('unhandledrejection', onRejection);
  return { reasons, stop: () => window.removeEventListener('unhandledrejection', onRejection) };
}

/**
 * Inside a `describe`: fail any test after which an unhandled promise rejection was seen (the elements
 * must never leak one into the page). Checked a tick after the test, so late rejections count.
 */
export function failOnUnhandledRejections(expectation: (reasons: string[]) => void): void {
  let rejections: ReturnType<typeof watchUnhandledRejections>;
  beforeEach(() => (rejections = watchUnhandledRejections()));
  afterEach(async () => {
    await sleep(0);
    rejections.stop();
    expectation(rejections.reasons.map(String));
  });
}

/** What the library logs with console.warn while a test runs (the full diagnostics of failures). */
export function watchWarnings(): { logged: string[]; stop: () => void } {
  const logged: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    logged.push(args.map(String).join(' '));
  };
  return { logged, stop: () => (console.warn = original) };
}

/** The text an element shows in its error box, whitespace collapsed ('' without a box). */
export function shownError(el: Element): string {
  return (el.shadowRoot?.querySelector('[part="error"]')?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * A visitor is shown a short sentence under a title — no URL, no file offsets, no compiler flags — and
 * the full diagnostic (`message`) is logged once with console.warn.
 */
export function expectShortAndLogged(el: Element, message: string, logged: readonly string[]): void {
  const shown = shownError(el);
  expect(shown, 'an error is shown').to.not.equal('');
  expect(shown.length, `short: "${shown}"`).to.be.below(130);
  expect(shown, 'no developer text').to.not.match(/https?:|\.wasm|ml-widgets compile|--[a-z]|\bat \d+ bytes/);
  expect(
    logged.filter((l) => l.includes(message)),
    'the full diagnostic, logged once',
  ).to.have.length(1);
}
