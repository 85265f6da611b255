// Two copies of ml-widgets on one page (another version first, or the CDN file after the npm modules):
// the first definition stays, nothing throws, and one console warning names both versions.
import { expect } from '@open-wc/testing';
import { VERSION } from '../../runtime/version.js';

function captureWarnings(): { messages: string[]; restore(): void } {
  const messages: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void messages.push(args.map(String).join(' '));
  return { messages, restore: () => (console.warn = original) };
}

describe('guarded define', () => {
  it('keeps another version already on the page and warns naming both versions', async () => {
    // What an older ml-widgets leaves behind: its class, recorded in the shared registry symbol.
    class OtherVersion extends HTMLElement {}
    customElements.define('ml-classifier', OtherVersion);
    const shared = ((globalThis as Record<symbol, unknown>)[Symbol.for('ml-widgets.versions')] ??=
      new WeakMap()) as WeakMap<object, string>;
    shared.set(OtherVersion, '0.0.9-other');

    const warnings = captureWarnings();
    try {
      const mod = await import('../../components/ml-classifier/ml-classifier.js');
      expect(mod.MlClassifier).to.be.a('function');
    } finally {
      warnings.restore();
    }
    expect(customElements.get('ml-classifier')).to.equal(OtherVersion);
    const mine = warnings.messages.filter((m) => m.includes('<ml-classifier>'));
    expect(mine).to.have.length(1);
    expect(mine[0]).to.contain(`ml-widgets ${VERSION}`);
    expect(mine[0]).to.contain('already defined by ml-widgets 0.0.9-other');
  });

  it('names a non-ml-widgets definition as another script, and reads a static version', async () => {
    const { define } = await import('../../components/define.js');
    class Foreign extends HTMLElement {}
    customElements.define('ml-test-foreign', Foreign);
    class WithStatic extends HTMLElement {
      static version = '9.9.9';
    }
    customElements.define('ml-test-static', WithStatic);

    const warnings = captureWarnings();
    try {
      define('ml-test-foreign', class extends HTMLElement {});
      define('ml-test-static', class extends HTMLElement {});
      define('ml-test-static', WithStatic); // the same class again: nothing to say
      define('ml-test-fresh', class extends HTMLElement {});
    } finally {
      warnings.restore();
    }
    expect(warnings.messages).to.have.length(2);
    expect(warnings.messages[0]).to.contain('<ml-test-foreign> is already defined by another script');
    expect(warnings.messages[1]).to.contain('<ml-test-static> is already defined by ml-widgets 9.9.9');
    expect(customElements.get('ml-test-fresh')).to.be.a('function');
  });

  it('loading the CDN file after the npm modules keeps the first definitions', async () => {
    const { MlRegressor } = await import('../../components/ml-regressor/ml-regressor.js');
    expect(customElements.get('ml-regressor')).to.equal(MlRegressor);

    const warnings = captureWarnings();
    const cdn = '/cdn/ml-widgets.js'; // built by `npm run build` (components/bundle.mjs)
    try {
      await import(/* @vite-ignore */ cdn);
    } finally {
      warnings.restore();
    }
    expect(customElements.get('ml-regressor')).to.equal(MlRegressor);
    const regressor = warnings.messages.filter((m) => m.includes('<ml-regressor>'));
    expect(regressor).to.have.length(1);
    expect(regressor[0]).to.contain(
      `ml-widgets ${VERSION}: <ml-regressor> is already defined by ml-widgets ${VERSION}`,
    );
    // ml-classifier was taken by the "other version" in the first test, so the CDN copy warns for it too.
    expect(warnings.messages.some((m) => m.includes('<ml-classifier> is already defined by ml-widgets 0.0.9-other'))).to
      .be.true;
  });
});
