// The node:test reporter `npm test` uses: quiet and readable in a CI log (no colours, no cursor codes, no
// line per passing test). Each failure is printed in full as it happens (file, suite path, error, the
// stack lines in our code); at the end one line per file with its counts, the skipped tests with their
// reasons, and the totals. Run `node --test --test-reporter=spec test/node/` to see every test.
import { relative } from 'node:path';

const where = (file) => (file ? relative(process.cwd(), file) : '(no file)');

/** The error's message and the stack frames outside node's internals and node_modules. */
function describe(error) {
  const cause = error?.cause ?? error;
  const text = String(cause?.stack ?? cause?.message ?? cause);
  const lines = text.split('\n');
  const head = lines.filter((l) => !/^\s+at /.test(l));
  const frames = lines.filter((l) => /^\s+at /.test(l) && !/node:internal|node_modules|\(node:/.test(l)).slice(0, 6);
  return [...head, ...frames].map((l) => `    ${l.trimEnd()}`).join('\n');
}

export default async function* quietReporter(source) {
  const files = new Map();
  const paths = new Map(); // file → names of the tests started at each nesting level
  const skipped = new Map(); // reason → tests
  const totals = [];
  let failures = 0;
  const stats = (file) => {
    if (!files.has(file)) files.set(file, { pass: 0, fail: 0, skip: 0, todo: 0 });
    return files.get(file);
  };
  for await (const event of source) {
    const { data } = event;
    switch (event.type) {
      case 'test:start': {
        const path = paths.get(data.file) ?? [];
        path.length = data.nesting;
        path.push(data.name);
        paths.set(data.file, path);
        break;
      }
      case 'test:pass':
      case 'test:fail': {
        // A suite passes when its tests do, and fails when one did (that failure is already shown).
        if (
          data.details?.type === 'suite' &&
          (event.type === 'test:pass' || data.details.error?.failureType === 'subtestsFailed')
        )
          break;
        const s = stats(data.file);
        const name = [...(paths.get(data.file) ?? []).slice(0, data.nesting), data.name].join(' › ');
        if (data.skip !== undefined) {
          s.skip++;
          const reason = typeof data.skip === 'string' ? data.skip : 'skipped';
          const same = skipped.get(reason) ?? [];
          same.push(`${where(data.file)} › ${name}`);
          skipped.set(reason, same);
        } else if (data.todo !== undefined) s.todo++;
        else if (event.type === 'test:pass') s.pass++;
        else {
          s.fail++;
          failures++;
          yield `\n✗ ${where(data.file)} › ${name}\n${describe(data.details?.error)}\n`;
        }
        break;
      }
      case 'test:diagnostic':
        if (data.nesting === 0 && /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(data.message))
          totals.push(data.message);
        break;
      default:
        break; // test:stdout / test:stderr of passing tests stay out of the log
    }
  }
  const width = Math.max(0, ...[...files.keys()].map((f) => where(f).length));
  let out = '\n';
  for (const [file, s] of [...files].sort(([a], [b]) => where(a).localeCompare(where(b)))) {
    const parts = [`${s.pass} passed`];
    if (s.fail) parts.push(`${s.fail} FAILED`);
    if (s.skip) parts.push(`${s.skip} skipped`);
    if (s.todo) parts.push(`${s.todo} todo`);
    out += `${s.fail ? '✗' : '✓'} ${where(file).padEnd(width)}  ${parts.join(', ')}\n`;
  }
  if (skipped.size) {
    out += '\nSkipped:\n';
    for (const [reason, tests] of skipped)
      out += `  - ${reason}: ${tests.length === 1 ? tests[0] : `${tests.length} tests (${tests[0]}, …)`}\n`;
  }
  out += `\n${totals.map((t) => t.replace(/^duration_ms ([\d.]+)/, (_, ms) => `${(ms / 1000).toFixed(1)} s`)).join(' · ')}\n`;
  if (failures) out += `${failures} test${failures === 1 ? '' : 's'} failed (details above).\n`;
  yield out;
}
