// Writes the README's op list from the compiler's op table (`npm run docs:ops`; run `npm run build` first).
// `--check` exits 1 when the README's section is stale, for the tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { opListMarkdown, withOpList } from '../dist/compiler/ops/catalog.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = readFileSync(readme, 'utf8');
const next = withOpList(text, opListMarkdown());
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('README.md: the op list is stale; run `npm run build && npm run docs:ops`.');
    process.exit(1);
  }
} else if (next !== text) {
  writeFileSync(readme, next);
  console.log('README.md: op list rewritten');
}
