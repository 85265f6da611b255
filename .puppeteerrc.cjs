// Nothing may download a browser here (no network): tests and benchmarks use the system's Chromium/Firefox.
module.exports = { skipDownload: true };
