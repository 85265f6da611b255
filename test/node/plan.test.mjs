// The memory planner (compiler/plan.ts) on its own, over hand-made and random step lists: buffers alive at
// the same step never share bytes (a step's output never lands on an input it still reads), graph inputs
// live from before the first step and outputs past the last, offsets are 16-byte aligned, the arena is no smaller than the largest live
// set, and dead buffers' bytes are reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../dist/compiler/program.js';
import { bufferBytes, computeLifetimes, peakLiveBytes, planArena } from '../../dist/compiler/plan.js';
import { rng } from './rng.mjs';

const noArgs = () => ({});

/** Every pair of buffers whose lifetimes overlap (equal steps included) must not overlap in memory. */
function checkPlan(program, maxBatch, arena) {
  const used = program.buffers.filter((b) => b.first !== Infinity);
  for (const b of used) {
    assert.equal(b.offset % 16, 0, `buffer ${b.id} offset ${b.offset} is 16-byte aligned`);
    assert.ok(b.offset + bufferBytes(b, maxBatch) <= arena, `buffer ${b.id} fits the arena`);
  }
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) {
      const [a, b] = [used[i], used[j]];
      const liveTogether = a.first <= b.last && b.first <= a.last;
      const overlap = a.offset < b.offset + bufferBytes(b, maxBatch) && b.offset < a.offset + bufferBytes(a, maxBatch);
      assert.ok(
        !(liveTogether && overlap),
        `buffers ${a.id} [${a.first}, ${a.last}] and ${b.id} [${b.first}, ${b.last}] share bytes`,
      );
    }
  }
  assert.ok(arena >= peakLiveBytes(program, maxBatch), 'the arena holds the largest live set');
}

test('a chain reuses dead buffers; the input lives from the start, the output to the end', () => {
  const p = new Program();
  const x = p.newValue([256], true);
  let cur = x;
  const values = [x];
  for (let i = 0; i < 6; i++) {
    const y = p.newValue([256], true);
    p.addStep('unary_relu', noArgs, [cur], [y]);
    values.push(y);
    cur = y;
  }
  computeLifetimes(p, [x], [cur]);
  const arena = planArena(p, 4);
  checkPlan(p, 4, arena);
  const size = bufferBytes(x.buffer, 4);
  assert.equal(x.buffer.first, -1, 'the input lives from before the first step');
  assert.equal(cur.buffer.last, Infinity, 'the output lives past the last step');
  assert.ok(arena <= 3 * size, `a 7-buffer chain fits in 3 buffers' bytes (arena ${arena}, buffer ${size})`);
  // The first step reads the input while writing its output: those bytes are not shared.
  assert.notEqual(values[1].buffer.offset, x.buffer.offset);
});

test('batched buffers scale with the rows per call; unbatched ones do not', () => {
  const p = new Program();
  const x = p.newValue([10], true);
  const w = p.newValue([10], false);
  const y = p.newValue([10], true);
  p.addStep('binary_add', noArgs, [x, w], [y]);
  computeLifetimes(p, [x], [y]);
  assert.equal(bufferBytes(x.buffer, 7), 7 * 10 * 4 + 8); // rounded up to 16 bytes
  assert.equal(bufferBytes(w.buffer, 7), 48);
  checkPlan(p, 7, planArena(p, 7));
});

test('random step lists: no two live buffers share bytes', () => {
  const random = rng(20261201);
  for (let trial = 0; trial < 200; trial++) {
    const p = new Program();
    const inputs = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
      p.newValue([1 + Math.floor(random() * 40)], random() < 0.8),
    );
    const live = [...inputs];
    for (let s = 0; s < 5 + Math.floor(random() * 30); s++) {
      const reads = [live[Math.floor(random() * live.length)]];
      if (random() < 0.5) reads.push(live[Math.floor(random() * live.length)]);
      // Sometimes in place (the op's output is its input's buffer), as elementwise ops are.
      const inPlace = random() < 0.2 && !inputs.includes(reads[0]);
      const y = inPlace ? reads[0] : p.newValue([1 + Math.floor(random() * 60)], random() < 0.8);
      p.addStep('binary_add', noArgs, reads, [y]);
      if (!inPlace) live.push(y);
    }
    const outputs = live.slice(-1 - Math.floor(random() * 2));
    computeLifetimes(p, inputs, outputs);
    const maxBatch = 1 + Math.floor(random() * 9);
    checkPlan(p, maxBatch, planArena(p, maxBatch));
  }
});
