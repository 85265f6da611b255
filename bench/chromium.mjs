// The one headless Chromium every benchmark runs in (Debian's, never a downloaded one), with nothing that
// would slow a background page's timers or renderer between samples.
import puppeteer from 'puppeteer-core';
import { CHROMIUM } from '../test/browsers.mjs';

export const launchChromium = () =>
  puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
    ],
    protocolTimeout: 30 * 60_000,
  });
