// The memory planner (compiler/plan.ts) on its own, over hand-made and random step lists: buffers alive at
// the same step never share bytes (a step's output never lands on an input it still reads), graph inputs
// live from before the first step and outputs past the last, offsets are 16-byte aligned, the arena is no smaller than the largest live
// set, and dead buffers' bytes are reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../dist/compiler/program.js';
import { bufferBytes, computeLifetimes, peakLiveBytes, planArena } from '../../dist/compiler/plan.js';
import { SymbolTable } from '../../dist/compiler/shape/symbols.js';
import { rng } from './rng.mjs';

/** A program whose row symbol `N` is bounded to `rows` (as --dim N=..rows gives). */
function program(rows) {
  const symbols = new SymbolTable({ N: { max: rows } });
  const p = new Program(symbols);
  const N = symbols.inputDim('N', 0, 0);
  return { p, N };
}

const noArgs = () => ({});

/** Every pair of buffers whose lifetimes overlap (equal steps included) must not overlap in memory. */
function checkPlan(program, arena) {
  const used = program.buffers.filter((b) => b.first !== Infinity);
  for (const b of used) {
    assert.equal(b.offset % 16, 0, `buffer ${b.id} offset ${b.offset} is 16-byte aligned`);
    assert.ok(b.offset + bufferBytes(b, program) <= arena, `buffer ${b.id} fits the arena`);
  }
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) {
      const [a, b] = [used[i], used[j]];
      const liveTogether = a.first <= b.last && b.first <= a.last;
      const overlap = a.offset < b.offset + bufferBytes(b, program) && b.offset < a.offset + bufferBytes(a, program);
      assert.ok(
        !(liveTogether && overlap),
        `buffers ${a.id} [${a.first}, ${a.last}] and ${b.id} [${b.first}, ${b.last}] share bytes`,
      );
    }
  }
  assert.ok(arena >= peakLiveBytes(program), 'the arena holds the largest live set');
}

test('a chain reuses dead buffers; the input lives from the start, the output to the end', () => {
  const { p, N } = program(4);
  const x = p.newValue([N, 256]);
  let cur = x;
  const values = [x];
  for (let i = 0; i < 6; i++) {
    const y = p.newValue([N, 256]);
    p.addStep('unary_relu', noArgs, [cur], [y]);
    values.push(y);
    cur = y;
  }
  computeLifetimes(p, [x], [cur]);
  const arena = planArena(p);
  checkPlan(p, arena);
  const size = bufferBytes(x.buffer, p);
  assert.equal(x.buffer.first, -1, 'the input lives from before the first step');
  assert.equal(cur.buffer.last, Infinity, 'the output lives past the last step');
  assert.ok(arena <= 3 * size, `a 7-buffer chain fits in 3 buffers' bytes (arena ${arena}, buffer ${size})`);
  // The first step reads the input while writing its output: those bytes are not shared.
  assert.notEqual(values[1].buffer.offset, x.buffer.offset);
});

test('buffers are planned at the upper bounds of their sizes; fixed ones at their size', () => {
  const { p, N } = program(7);
  const x = p.newValue([N, 10]);
  const w = p.newValue([10]);
  const y = p.newValue([N, 10]);
  const z = p.newValue([N, N, 3], 'int64'); // a size that grows with N²
  p.addStep('binary_add', noArgs, [x, w], [y]);
  p.addStep('binary_add', noArgs, [y], [z]);
  computeLifetimes(p, [x], [z]);
  assert.equal(bufferBytes(x.buffer, p), 7 * 10 * 4 + 8); // rounded up to 16 bytes
  assert.equal(bufferBytes(w.buffer, p), 48);
  assert.equal(bufferBytes(z.buffer, p), 7 * 7 * 3 * 8 + 8); // 1176, aligned
  checkPlan(p, planArena(p));
});

test('random step lists: no two live buffers share bytes', () => {
  const random = rng(20261201);
  for (let trial = 0; trial < 200; trial++) {
    const { p, N } = program(1 + Math.floor(random() * 9));
    const value = () =>
      p.newValue(random() < 0.8 ? [N, 1 + Math.floor(random() * 40)] : [1 + Math.floor(random() * 60)]);
    const inputs = Array.from({ length: 1 + Math.floor(random() * 3) }, value);
    const live = [...inputs];
    for (let s = 0; s < 5 + Math.floor(random() * 30); s++) {
      const reads = [live[Math.floor(random() * live.length)]];
      if (random() < 0.5) reads.push(live[Math.floor(random() * live.length)]);
      // Sometimes in place (the op's output is its input's buffer), as elementwise ops are.
      const inPlace = random() < 0.2 && !inputs.includes(reads[0]);
      const y = inPlace ? reads[0] : value();
      p.addStep('binary_add', noArgs, reads, [y]);
      if (!inPlace) live.push(y);
    }
    const outputs = live.slice(-1 - Math.floor(random() * 2));
    computeLifetimes(p, inputs, outputs);
    checkPlan(p, planArena(p));
  }
});

test('data added after the memory is laid out is an internal error, not bytes past the data segment', () => {
  const program = new Program();
  const early = program.addData(new Uint8Array([1, 2, 3]));
  program.sealData();
  // What is already there may still be named again (small data is shared)...
  assert.deepEqual(program.addData(new Uint8Array([1, 2, 3])), early);
  // ...but nothing new: its offset would lie past the segment the memory was laid out for.
  assert.throws(() => program.addData(new Uint8Array([4, 5, 6])), /data added after the memory was laid out/);
  assert.equal(program.dataSize, 3);
});
