// Where the browsers are, for the test runner (web-test-runner.config.mjs), the Node tests that drive a
// browser (test/node/browser.mjs) and the bench: ML_CHROMIUM and ML_FIREFOX, Debian's paths by default.
export const CHROMIUM = process.env.ML_CHROMIUM || '/usr/bin/chromium';
export const FIREFOX = process.env.ML_FIREFOX || '/usr/bin/firefox-esr';
