// What the Node tests that drive headless Chromium share: a local HTTP server and the browser itself.
import { createServer } from 'node:http';
import puppeteer from 'puppeteer-core';

/** Serve `handler` on a free local port; resolves to the server and its origin. */
export async function serve(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Debian's Chromium (CHROME_PATH overrides), headless; as root it needs --no-sandbox. */
export function launchChromium() {
  return puppeteer.launch({
    executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}
