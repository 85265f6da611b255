// A browser without WebAssembly SIMD (old Safari, some embedded WebViews) must get a clear `unsupported`
// error inside the element, not a broken page. No browser we test lacks SIMD, so this page stubs
// WebAssembly.validate — the runtime's only feature probe (runtime/features.ts) — to reject SIMD
// modules before anything has probed; the probe result is cached per page, which is why this test has a
// file (and so a page) of its own. Everything else (fetch, compile of the real model) is real.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/index.js';
import { clearModelCache, type MlClassifier } from '../../components/index.js';
import { hasWasmFeature } from '../../runtime/index.js';
import { expectShortAndLogged, MODELS, shownError, sleep, watchUnhandledRejections, watchWarnings } from './helpers.js';

const realValidate = WebAssembly.validate;
const SIMD_PREFIX = 0xfd; // every SIMD opcode starts with this byte

/** validate() as a browser without SIMD answers it: any module using a SIMD opcode is invalid. */
function withoutSimd(bytes: BufferSource): boolean {
  const view = ArrayBuffer.isView(bytes)
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new Uint8Array(bytes);
  return !view.includes(SIMD_PREFIX) && realValidate.call(WebAssembly, bytes);
}

describe('a browser without WebAssembly SIMD', () => {
  before(() => {
    WebAssembly.validate = withoutSimd as typeof WebAssembly.validate;
  });
  after(() => {
    WebAssembly.validate = realValidate;
  });

  it('the feature probe reports SIMD missing (the stub reaches the runtime)', () => {
    expect(hasWasmFeature('simd')).to.equal(false);
  });

  it('<ml-classifier> shows an `unsupported` error naming SIMD, and the page keeps working', async () => {
    const rejections = watchUnhandledRejections();
    const warnings = watchWarnings();
    try {
      const el = await fixture<MlClassifier>(html`<ml-classifier .input=${[5.1, 3.5, 1.4, 0.2]}></ml-classifier>`);
      const failed = oneEvent(el, 'ml-error');
      el.src = `${MODELS}/iris_mlp.wasm`;
      const { detail } = await failed;
      expect(detail.code, detail.message).to.equal('unsupported');
      expect(detail.message).to.match(/SIMD/);
      await el.updateComplete;
      const box = el.shadowRoot!.querySelector('[part~="error"]');
      expect(box, 'error box').to.not.equal(null);
      expectShortAndLogged(el, detail.message, warnings.logged);
      expect(shownError(el)).to.match(/This browser cannot run it/);
      expect(el.shadowRoot!.querySelectorAll('[part~="row"]')).to.have.length(0);
      // The page itself is fine: other script runs and the element still reacts to a new src.
      const again = oneEvent(el, 'ml-error');
      el.src = `${MODELS}/iris_mlp.wasm?again`;
      expect((await again).detail.code).to.equal('unsupported');
      clearModelCache();
      await sleep(0);
      expect(rejections.reasons.map(String), 'unhandled rejections').to.deep.equal([]);
    } finally {
      rejections.stop();
      warnings.stop();
    }
  });
});
