// Writes resample-node-cases.json: the ONNX backend node tests (test/fixtures/onnx-node/) of the resampling
// ops — their node attributes, inputs and expected outputs as plain arrays — for the browser kernel tests
// (resample-kernels.test.ts), which cannot read .pb files. Run: node test/browser/resample-node-cases.mjs
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTest, readIndex } from '../conformance/fixtures.mjs';
import { onnx } from '../conformance/tensors.mjs';

const OPS = new Set(['Resize', 'Upsample', 'GridSample', 'RoiAlign', 'MaxUnpool', 'DepthToSpace', 'SpaceToDepth']);
// Tile's other test has a 40 320-element output; its precomputed sibling is enough for the table check.
const EXTRA = new Set(['test_tile_precomputed']);
const here = path.dirname(fileURLToPath(import.meta.url));

const AttrType = onnx.AttributeProto.AttributeType;
function attribute(a) {
  switch (a.type) {
    case AttrType.FLOAT:
      return a.f;
    case AttrType.INT:
      return Number(a.i);
    case AttrType.STRING:
      return new TextDecoder().decode(a.s);
    case AttrType.FLOATS:
      return [...a.floats];
    case AttrType.INTS:
      return a.ints.map(Number);
    default:
      throw new Error(`attribute ${a.name}: type ${a.type} is not handled`);
  }
}

const values = (t) => (t.dtype === 'int64' ? [...t.data].map(Number) : [...t.data]);

const cases = [];
for (const entry of readIndex().tests) {
  if (!(OPS.has(entry.op) || EXTRA.has(entry.name)) || entry.ort?.status !== 'pass') continue;
  const test = loadTest(entry);
  const node = onnx.ModelProto.decode(test.model).graph.node[0];
  const attrs = Object.fromEntries(node.attribute.map((a) => [a.name, attribute(a)]));
  // Inputs by the node's input slots (an empty name is an omitted optional input).
  const byName = new Map(test.inputs.map((t) => [t.name, t]));
  const inputs = node.input.map((name) => {
    const t = byName.get(name);
    return t ? { name, dtype: t.dtype, shape: t.shape, data: values(t) } : null;
  });
  const outputs = test.outputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: values(t) }));
  cases.push({ name: entry.name, op: entry.op, opset: entry.opset, attrs, inputs, outputs });
}
writeFileSync(path.join(here, 'resample-node-cases.json'), JSON.stringify(cases) + '\n');
console.log(`resample-node-cases.json: ${cases.length} tests (${cases.map((c) => c.name).join(', ')})`);
