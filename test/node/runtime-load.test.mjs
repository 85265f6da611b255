// The runtime's network path in Node (the same code as in browsers): streaming loads, Subresource
// Integrity, credentials policy, and one fetch per URL — against a local HTTP server.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { clearModelCache, loadModel, ModelError } from '../../dist/runtime/index.js';

const model = readFileSync(new URL('../fixtures/build/iris_mlp.wasm', import.meta.url));
const sri = (alg, bytes) => `${alg}-${createHash(alg).update(bytes).digest('base64')}`;
let server;
let base;
const hits = new Map();

before(async () => {
  server = createServer((req, res) => {
    hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
    if (req.url.startsWith('/iris.wasm')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': model.byteLength });
      res.end(model);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

describe('loadModel over HTTP', () => {
  test('a matching sha256 / sha384 / sha512 integrity loads and predicts', async () => {
    for (const alg of ['sha256', 'sha384', 'sha512']) {
      clearModelCache();
      const m = await loadModel(`${base}/iris.wasm?${alg}`, { integrity: sri(alg, model) });
      const out = m.predict([5.1, 3.5, 1.4, 0.2]);
      assert.equal(out.output.data.length, 3);
    }
  });

  test('the strongest listed hash decides; a wrong one is refused with code "integrity"', async () => {
    clearModelCache();
    const wrong = sri('sha512', Buffer.from('something else'));
    await assert.rejects(
      loadModel(`${base}/iris.wasm?wrong`, { integrity: `${sri('sha256', model)} ${wrong}` }),
      (err) => {
        assert.ok(err instanceof ModelError);
        assert.equal(err.code, 'integrity');
        assert.match(err.message, /does not match its integrity/);
        return true;
      },
    );
  });

  test('an integrity value with no supported algorithm is refused', async () => {
    clearModelCache();
    await assert.rejects(loadModel(`${base}/iris.wasm?md5`, { integrity: 'md5-abc' }), { code: 'integrity' });
  });

  test('loads of one URL share one request; a different integrity is a different load', async () => {
    clearModelCache();
    const url = `${base}/iris.wasm?shared`;
    const [a, b] = await Promise.all([loadModel(url), loadModel(url)]);
    assert.equal(a, b);
    assert.equal(hits.get('/iris.wasm?shared'), 1);
    await loadModel(url, { integrity: sri('sha256', model) });
    assert.equal(hits.get('/iris.wasm?shared'), 2);
  });

  test('a 404 is an http-error naming the status', async () => {
    await assert.rejects(
      loadModel(`${base}/missing.wasm`),
      (err) => err.code === 'http-error' && /404/.test(err.message),
    );
  });
});
