// Importing the elements in Node (no DOM) and rendering them with @lit-labs/ssr must not touch the DOM,
// WebAssembly or the network: a page can server-render <ml-classifier> and hydrate it in the browser.
// Runs against dist/ (npm run build).
import { test } from 'node:test';
import assert from 'node:assert/strict';

// Every way to reach WebAssembly or the network records the call (and fails it) from here on.
const touched = [];
const trap =
  (name, fn) =>
  (...args) => {
    touched.push(name);
    return fn ? fn(...args) : Promise.reject(new Error(`${name} called during import/SSR`));
  };
globalThis.fetch = trap('fetch');
for (const name of ['compile', 'compileStreaming', 'instantiate', 'instantiateStreaming', 'validate']) {
  WebAssembly[name] = trap(`WebAssembly.${name}`, name === 'validate' ? () => false : undefined);
}
const RealModule = WebAssembly.Module;
WebAssembly.Module = new Proxy(RealModule, {
  construct(target, args) {
    touched.push('new WebAssembly.Module');
    return Reflect.construct(target, args);
  },
});

test('importing the package entry in Node touches neither the DOM nor WebAssembly', async () => {
  const mod = await import('../../dist/components/index.js');
  assert.equal(typeof mod.MlClassifier, 'function');
  assert.equal(typeof mod.MlRegressor, 'function');
  assert.equal(typeof globalThis.document, 'undefined', 'importing must not create a document');
  assert.equal(typeof globalThis.window, 'undefined', 'importing must not create a window');
  // Lit's Node build installs a customElements shim, so the guarded define registers there.
  assert.equal(globalThis.customElements.get('ml-classifier'), mod.MlClassifier);
  assert.deepEqual(touched, []);
});

test('@lit-labs/ssr renders <ml-classifier src="x.wasm"> to a string without fetching', async () => {
  await import('../../dist/components/index.js');
  const { render } = await import('@lit-labs/ssr');
  const { collectResult } = await import('@lit-labs/ssr/lib/render-result.js');
  const { html } = await import('lit');

  const markup = await collectResult(
    render(html`<form id="f"><input name="x" value="1"></form>
      <ml-classifier src="x.wasm" for="f" loading="eager"></ml-classifier>
      <ml-regressor src="y.wasm"></ml-regressor>`),
  );
  // Declarative shadow DOM with the element's own markup: the server did render it.
  const classifier = /<ml-classifier[^>]*>([\s\S]*?)<\/ml-classifier>/.exec(markup);
  assert.ok(classifier, markup);
  assert.match(classifier[0], /src="x\.wasm"/);
  assert.match(classifier[1], /<template shadowroot(mode)?="open"/);
  assert.match(classifier[1], /part="base"/);
  assert.match(classifier[1], /<style>[\s\S]*:host/);
  assert.match(markup, /<ml-regressor[^>]*>\s*<template shadowroot(mode)?="open"/);
  // Rendering is not connecting: nothing was fetched or compiled, and no timers were left behind
  // (the test process exits on its own).
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(touched, []);
});
