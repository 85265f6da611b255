// The CDN build (components/bundle.mjs, run by `npm run build`), into a temporary folder so cdn/ stays
// as built: every element folder gets an entry, the embed file and the worker are self-contained, sizes
// are reported, and a bundle over budget fails the build with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROOT } from './helpers.mjs';
import { CORE_TAGS } from '../../components/bundle.mjs';

const run = promisify(execFile);
const script = path.join(ROOT, 'components/bundle.mjs');
const elements = readdirSync(path.join(ROOT, 'components'), { withFileTypes: true })
  .filter(
    (d) =>
      d.isDirectory() && d.name.startsWith('ml-') && existsSync(path.join(ROOT, 'components', d.name, `${d.name}.ts`)),
  )
  .map((d) => d.name);

async function bundle(env) {
  const out = mkdtempSync(path.join(tmpdir(), 'ml-widgets-cdn-'));
  const result = await run(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ML_WIDGETS_CDN_OUTDIR: out, ...env },
  }).catch((e) => e);
  return { out, code: result.code ?? 0, stdout: result.stdout, stderr: result.stderr };
}

test('writes ml-widgets.js, worker.js and one entry per element, with a size report', async () => {
  const { out, code, stdout, stderr } = await bundle({});
  try {
    assert.equal(code, 0, stderr);
    const files = readdirSync(out);
    for (const f of ['ml-widgets.js', 'ml-widgets-all.js', 'worker.js', ...elements.map((e) => `${e}.js`)])
      assert.ok(files.includes(f), `${f} missing from ${files}`);
    for (const f of files) {
      const bytes = readFileSync(path.join(out, f));
      const gz = gzipSync(bytes, { level: 9 }).length;
      // The report line names the file with its raw and gzip size.
      assert.match(
        stdout,
        new RegExp(
          `cdn/${f.replace('.', '\\.')}\\s+${(bytes.length / 1024).toFixed(1)} KB raw\\s+${(gz / 1024).toFixed(1)} KB gzip`,
        ),
      );
    }
    for (const f of ['ml-widgets.js', 'ml-widgets-all.js', 'worker.js']) {
      const text = readFileSync(path.join(out, f), 'utf8');
      // Static `import … from "…"`, bare `import "…"` or dynamic `import(…)`: none (DOM's importNode is fine).
      assert.ok(!/\bfrom\s*["']|\bimport\s*["']|\bimport\s*\(/.test(text), `${f} must not import anything`);
      assert.ok(!/["']node:/.test(text), `${f} must not need Node`);
    }
    // The budgeted embed file registers the form widgets; the -all file registers every element.
    const main = readFileSync(path.join(out, 'ml-widgets.js'), 'utf8');
    for (const e of CORE_TAGS)
      assert.match(main, new RegExp(`customElements\\.define\\("${e}"`), `${e} is not registered by ml-widgets.js`);
    const all = readFileSync(path.join(out, 'ml-widgets-all.js'), 'utf8');
    for (const e of elements)
      assert.match(all, new RegExp(`customElements\\.define\\("${e}"`), `${e} is not registered by ml-widgets-all.js`);
    // Code splitting: per-element entries are small and import shared chunks instead of each holding Lit.
    const chunks = files.filter((f) => f.startsWith('chunk-'));
    assert.ok(chunks.length >= 1);
    assert.equal(
      chunks.filter((c) => readFileSync(path.join(out, c), 'utf8').includes('litHtmlVersions')).length,
      1,
      'Lit is in exactly one chunk',
    );
    for (const e of elements) {
      const text = readFileSync(path.join(out, `${e}.js`), 'utf8');
      assert.match(text, /from"\.\/chunk-[\w-]+\.js"/);
      assert.ok(!text.includes('litHtmlVersions'), `${e}.js holds its own copy of Lit`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('fails with a clear message when ml-widgets.js is over its gzip budget', async () => {
  const { out, code, stderr } = await bundle({ ML_WIDGETS_CDN_BUDGET: '4096' });
  rmSync(out, { recursive: true, force: true });
  assert.equal(code, 1);
  assert.match(
    stderr,
    /Budget exceeded: cdn\/ml-widgets\.js is \d+ bytes \([\d.]+ KB\) gzipped, over the 4\.0 KB budget by \d+ bytes\./,
  );
});
