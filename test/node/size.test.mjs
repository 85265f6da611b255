// Sizes (compiler/shape/size.ts): polynomials over symbolic dimensions. Checked against plain arithmetic
// on random values of the symbols, so every rewrite the canonical form makes must keep the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from '../../dist/compiler/shape/size.js';
import { rng } from './rng.mjs';

const N = S.symbol('N');
const seq = S.symbol('seq');
const H = S.symbol('H');

test('polynomials are canonical: equal expressions compare equal, constants become numbers', () => {
  assert.ok(S.sameSize(S.add(N, seq), S.add(seq, N)));
  assert.ok(S.sameSize(S.mul(S.add(N, 1), 2), S.add(S.mul(2, N), 2)));
  assert.equal(S.sub(S.add(N, 3), N), 3);
  assert.equal(S.mul(S.sub(seq, seq), H), 0);
  assert.ok(S.sameSize(S.floorDiv(S.mul(16, N), 16), N));
  assert.ok(S.sameSize(S.floorDiv(S.mul(S.mul(16, N), seq), S.mul(4, N)), S.mul(4, seq)));
  assert.equal(S.floorDiv(N, N), 1);
  assert.ok(S.sameSize(S.min(S.add(N, 2), S.add(N, 5)), S.add(N, 2)));
  assert.ok(S.sameSize(S.max(S.sub(seq, 1), seq), seq));
  assert.equal(S.sizeToString(S.sub(S.mul(2, N), 1)), '2*N - 1');
  assert.equal(S.sizeToString(S.floorDiv(S.add(H, 1), 2)), 'floor((H + 1) / 2)');
});

test('every operation keeps the value of the plain arithmetic it stands for', () => {
  const random = rng(11);
  const ops = [
    ['add', (a, b) => a + b],
    ['sub', (a, b) => a - b],
    ['mul', (a, b) => a * b],
    ['floorDiv', (a, b) => Math.floor(a / b)],
    ['ceilDiv', (a, b) => Math.ceil(a / b)],
    ['mod', (a, b) => ((a % b) + b) % b],
    ['min', Math.min],
    ['max', Math.max],
  ];
  for (let trial = 0; trial < 300; trial++) {
    const env = { N: 1 + Math.floor(random() * 50), seq: Math.floor(random() * 300), H: 1 + Math.floor(random() * 9) };
    const value = (name) => env[name];
    // Build a random expression and its plain value side by side.
    let [e, v] = [S.add(S.mul(3, N), seq), 3 * env.N + env.seq];
    for (let k = 0; k < 4; k++) {
      const [name, f] = ops[Math.floor(random() * ops.length)];
      const pick = [N, seq, H, 1 + Math.floor(random() * 7)][Math.floor(random() * 4)];
      const pv = typeof pick === 'number' ? pick : S.evaluate(pick, value);
      const divides = name === 'floorDiv' || name === 'ceilDiv' || name === 'mod';
      if (divides && pv <= 0) continue;
      [e, v] = [S[name](e, pick), f(v, pv) + 0]; // + 0: no −0
      assert.equal(S.evaluate(e, value), v, `${S.sizeToString(e)} at ${JSON.stringify(env)}`);
    }
    const [lo, hi] = S.boundsOf(e, (name) => (name === 'N' ? [1, 50] : name === 'seq' ? [0, 299] : [1, 9]));
    assert.ok(lo <= v && v <= hi, `${S.sizeToString(e)} = ${v} outside its bounds [${lo}, ${hi}]`);
  }
});
