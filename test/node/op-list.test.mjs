import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OP_FAMILIES, OPS } from '../../dist/compiler/ops/index.js';
import { opListMarkdown, withOpList } from '../../dist/compiler/ops/catalog.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test("the README's op list is the one the op table generates (npm run docs:ops)", () => {
  assert.equal(withOpList(readme, opListMarkdown()), readme);
});

test('every op the compiler looks up is listed once, under its domain', () => {
  const section = opListMarkdown().replace(/\n +/g, ' ');
  for (const [domain, ops] of Object.entries(OPS))
    for (const name of Object.keys(ops)) {
      const family = OP_FAMILIES.find((f) => f.domain === domain && name in f.ops);
      assert.ok(family, `${domain}.${name} has no family`);
      assert.match(section, new RegExp(`[:,] ${name}[ ,.]`), `${domain}.${name} missing from the list`);
    }
});

test('an op refused at early opsets says from which opset it compiles; Scan compiles from opset 8 (its batch axis)', () => {
  for (const [name, handler] of Object.entries(OPS['ai.onnx']))
    if (handler.since) assert.match(opListMarkdown(), new RegExp(`${name} \\(opset ≥ ${handler.since}\\)`));
  assert.equal(OPS['ai.onnx'].Scan.since, undefined);
  assert.doesNotMatch(opListMarkdown(), /Scan \(opset/);
});
