// Run the whole conformance suite (test/fixtures/onnx-node/) through our compiler and print how it does
// against onnxruntime-node, per op. Needs `npm run build` first.
//
//   node test/conformance/report.mjs            per-op table + summary; says where the run and the
//                                               known-failures list disagree (npm run conformance)
//   node test/conformance/report.mjs --update   also rewrite test/conformance/known-failures.json from
//                                               this run (npm run conformance:update); it refuses to add
//                                               a case unless --allow-growth is given (new fixtures):
//                                               the list only shrinks
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { KNOWN_FAILURES, ROOT, cases, loadApi, readKnownFailures, runCase } from './harness.mjs';
import { loadTest } from './fixtures.mjs';
import { opTable, totals } from './summary.mjs';

const update = process.argv.includes('--update');
const allowGrowth = process.argv.includes('--allow-growth');

const api = await loadApi();
const results = [];
let loaded = { name: null };
for (const c of cases()) {
  if (c.skip) {
    results.push({ ...c });
    continue;
  }
  if (loaded.name !== c.entry.name) loaded = { name: c.entry.name, test: loadTest(c.entry) };
  results.push({ ...c, verdict: await runCase(api, c, loaded.test) });
}

const failing = results.filter((r) => r.verdict && !r.verdict.pass);
const known = readKnownFailures();
const nowPass = results.filter((r) => r.verdict?.pass && known[r.key]).map((r) => r.key);
const added = failing.filter((r) => !known[r.key]).map((r) => r.key);
const stale = Object.keys(known).filter((k) => !results.some((r) => r.key === k && r.verdict));

console.log(opTable(results));
console.log(`\n${totals(results).line}`);
const rel = path.relative(ROOT, KNOWN_FAILURES);
const list = (what, keys) =>
  keys.length &&
  console.log(`${what} (${keys.length}): ${keys.slice(0, 40).join(', ')}${keys.length > 40 ? ', …' : ''}`);
list(`pass now but are in ${rel}`, nowPass);
list(`fail but are not in ${rel}`, added);
list(`are in ${rel} but not run (no such test, or out of scope)`, stale);

if (update) {
  if (added.length && Object.keys(known).length && !allowGrowth) {
    console.error(`\nNot written: ${added.length} case(s) above would join the list. Fix them, or if they are new`);
    console.error('fixtures (not regressions), rerun with --update --allow-growth.');
    process.exit(1);
  }
  // One case per line, sorted: the list's diff shows exactly what changed.
  const entries = failing
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((r) => `  ${JSON.stringify(r.key)}: ${JSON.stringify({ op: r.entry.op, reason: r.verdict.reason })}`);
  const note =
    'Written by `npm run conformance:update` (test/conformance/report.mjs) from a real run; never edit by hand.';
  writeFileSync(
    KNOWN_FAILURES,
    `{\n "note": ${JSON.stringify(note)},\n "failures": {\n${entries.join(',\n')}\n }\n}\n`,
  );
  console.log(`\nwrote ${rel}: ${entries.length} cases we do not pass yet`);
}
