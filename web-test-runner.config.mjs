// Web Test Runner: runtime and element tests in real (Debian) Chromium, run as root (hence --no-sandbox).
// @web/dev-server-esbuild maps the NodeNext-style `./x.js` specifiers of our TS sources to `./x.ts`.
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { chromeLauncher } from '@web/test-runner';
import { puppeteerLauncher } from '@web/test-runner-puppeteer';
import { existsSync } from 'node:fs';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { serveTsAsJs } from './demo/serve-ts-as-js.mjs';
import { CHROMIUM, FIREFOX } from './test/browsers.mjs';
import { fixtureMeta, hostileModel } from './test/hostile.mjs';

const root = new URL('./', import.meta.url);
const fixture = (name) => readFile(new URL(`test/fixtures/build/${name}.wasm`, root));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per-key request statistics, read back by tests from /__test/stats/<key>. */
const stats = new Map();
/** Bytes tests crafted (POST /__test/put/<key>), served back by /__test/bytes/<key>.wasm. */
const uploads = new Map();
const statsFor = (key) => {
  if (!stats.has(key)) stats.set(key, { requests: 0, completed: 0, aborted: 0 });
  return stats.get(key);
};

/**
 * Test-only endpoints that misbehave on purpose (wrong MIME type, HTML, truncation, slow streams):
 *   /__test/plain/<model>.wasm          the model as text/plain
 *   /__test/html/<any>                  an HTML page, as a server answers a wrong path
 *   /__test/truncated/<model>.wasm      the first half of the model
 *   /__test/empty-module.wasm           a valid WebAssembly module that is not a model
 *   /__test/count/<key>/<model>.wasm    the model, counted under <key>, never cached
 *   /__test/slow/<key>/<ms>/<model>.wasm the model in 8 chunks over <ms> ms, with Content-Length
 *                                       (without it given ?nolength), counted
 *   /__test/stats/<key>                 {requests, completed, aborted} for <key>
 *   /__test/status/<code>/<any>         an HTML error page with that HTTP status (e.g. 500)
 *   /__test/broken/<key>/<model>.wasm   Content-Length of the whole model, half the bytes, then a reset socket
 *   POST /__test/put/<key>              keep the request body (bytes a test crafted) under <key>;
 *   /__test/bytes/<key>.wasm            then serve them as application/wasm, counted under <key>
 *   /__test/hostile/<kind>[/<key>].wasm a module with the model ABI and iris_mlp's ml.meta that misbehaves
 *                                       as test/hostile.mjs says (zero-batch, loop, trap, …), never cached
 *   /__test/cors/<mode>/<model>.wasm    the model for a cross-origin page (tests load it from 127.0.0.1 while
 *                                       the page is on localhost): mode none (no CORS headers), any
 *                                       (Access-Control-Allow-Origin: *), credentials (the origin + Allow-Credentials)
 */
async function misbehavingServer(ctx, next) {
  const parts = ctx.path.split('/').filter(Boolean);
  if (parts[0] !== '__test') return next();
  const model = (p) => p.replace(/\.wasm$/, '');
  ctx.set('Cache-Control', 'no-store');
  switch (parts[1]) {
    case 'plain':
      ctx.type = 'text/plain';
      ctx.body = await fixture(model(parts[2]));
      return;
    case 'html':
      ctx.type = 'text/html';
      ctx.body = '<!doctype html><html><head><title>Not found</title></head><body>Page not found</body></html>';
      return;
    case 'truncated': {
      const bytes = await fixture(model(parts[2]));
      ctx.type = 'application/wasm';
      ctx.body = bytes.subarray(0, bytes.length >> 1);
      return;
    }
    case 'empty-module.wasm':
      ctx.type = 'application/wasm';
      ctx.body = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
      return;
    case 'count': {
      statsFor(parts[2]).requests++;
      ctx.type = 'application/wasm';
      ctx.body = await fixture(model(parts[3]));
      return;
    }
    case 'slow': {
      const s = statsFor(parts[2]);
      s.requests++;
      const ms = Number(parts[3]);
      const bytes = await fixture(model(parts[4]));
      const chunks = 8;
      const size = Math.ceil(bytes.length / chunks);
      ctx.res.on('close', () => {
        if (ctx.res.writableFinished) s.completed++;
        else s.aborted++;
      });
      ctx.type = 'application/wasm';
      if (!('nolength' in ctx.query)) ctx.length = bytes.length; // ?nolength: chunked, total unknown
      ctx.body = Readable.from(
        (async function* () {
          for (let i = 0; i < chunks; i++) {
            if (i > 0) await sleep(ms / chunks);
            if (ctx.res.destroyed) return;
            yield bytes.subarray(i * size, (i + 1) * size);
          }
        })(),
      );
      return;
    }
    case 'status':
      ctx.status = Number(parts[2]);
      ctx.type = 'text/html';
      ctx.body = `<!doctype html><title>Error ${parts[2]}</title><h1>Something went wrong</h1>`;
      return;
    case 'broken': {
      statsFor(parts[2]).requests++;
      const bytes = await fixture(model(parts[3]));
      const res = ctx.res;
      ctx.respond = false; // raw response: the socket dies mid-body
      res.writeHead(200, {
        'content-type': 'application/wasm',
        'content-length': bytes.length,
        'cache-control': 'no-store',
      });
      res.write(bytes.subarray(0, bytes.length >> 1));
      setTimeout(() => res.destroy(), 50);
      return;
    }
    case 'put': {
      const chunks = [];
      for await (const c of ctx.req) chunks.push(c);
      uploads.set(parts[2], Buffer.concat(chunks));
      ctx.body = 'ok';
      return;
    }
    case 'bytes': {
      const key = model(parts[2]);
      statsFor(key).requests++;
      if (!uploads.has(key)) return next();
      ctx.type = 'application/wasm';
      ctx.body = uploads.get(key);
      return;
    }
    case 'cors': {
      const origin = ctx.get('origin');
      if (parts[2] === 'any') ctx.set('Access-Control-Allow-Origin', '*');
      if (parts[2] === 'credentials' && origin) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Credentials', 'true');
        ctx.set('Vary', 'Origin');
      }
      ctx.type = 'application/wasm';
      ctx.body = await fixture(model(parts[3]));
      return;
    }
    case 'hostile': {
      const meta = await fixtureMeta(new URL('test/fixtures/build/iris_mlp.wasm', root));
      ctx.type = 'application/wasm';
      ctx.body = Buffer.from(hostileModel(model(parts[2]), meta));
      return;
    }
    case 'stats':
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(statsFor(parts[2]));
      return;
    default:
      return next();
  }
}

// Browsers: Chromium, plus Firefox ESR (over WebDriver BiDi, via puppeteer) when it is installed, at
// ML_CHROMIUM / ML_FIREFOX (Debian's paths by default). ML_BROWSERS=chromium (or firefox) restricts the
// run; CI must have both (.ci/run installs them).
const wanted = (process.env.ML_BROWSERS || 'chromium,firefox').split(',').map((s) => s.trim());
if (process.env.CI && wanted.includes('firefox') && !existsSync(FIREFOX))
  throw new Error(`CI needs Firefox ESR at ${FIREFOX}`);
const firefox =
  wanted.includes('firefox') && existsSync(FIREFOX)
    ? [
        puppeteerLauncher({
          launchOptions: { browser: 'firefox', executablePath: FIREFOX, protocol: 'webDriverBiDi', headless: true },
        }),
      ]
    : [];

// A log file or CI (no terminal): the runner still erases its progress lines with cursor codes, which
// such logs keep as garbage. Drop them; the text around them stays.
if (!process.stdout.isTTY) {
  const write = process.stdout.write.bind(process.stdout);
  // eslint-disable-next-line no-control-regex -- matching ESC is the point
  const cursor = /\x1b\[(?:\d*[ABCDGJK]|\?25[hl])/g;
  process.stdout.write = (chunk, ...rest) =>
    write(typeof chunk === 'string' ? chunk.replace(cursor, '') : chunk, ...rest);
}

export default {
  files: ['test/browser/**/*.test.ts'],
  // Lit's dev-mode notice, once per file and browser, says nothing about the tests.
  filterBrowserLogs: ({ args }) => !String(args[0]).includes('Lit is in dev mode'),
  nodeResolve: true,
  middleware: [misbehavingServer, serveTsAsJs(root)],
  plugins: [esbuildPlugin({ ts: true, tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) })],
  browsers: [
    ...(!wanted.includes('chromium')
      ? []
      : [
          chromeLauncher({
            launchOptions: {
              executablePath: CHROMIUM,
              args: [
                '--no-sandbox',
                '--headless=new',
                '--disable-gpu',
                '--disable-background-networking',
                '--disable-component-update',
                '--no-first-run',
                '--disable-sync',
                // Exact performance.memory and a callable gc(), so leak tests measure instead of guessing.
                '--enable-precise-memory-info',
                '--js-flags=--expose-gc',
              ],
            },
          }),
        ]),
    ...firefox,
  ],
  testFramework: { config: { timeout: 20000 } },
  testsFinishTimeout: 300000,
};
