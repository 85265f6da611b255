// What the Node tests that drive headless Chromium share: a local HTTP server and the browser itself.
import { createServer } from 'node:http';
import puppeteer from 'puppeteer-core';
import { CHROMIUM } from '../browsers.mjs';

/** Serve `handler` on a free local port; resolves to the server and its origin. */
export async function serve(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Chromium at ML_CHROMIUM (default Debian's), headless; as root it needs --no-sandbox. */
export function launchChromium() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}
