// The run-time packing kernels (rnn_pack_weights, rnn_pack_bias, rnn_pack_peephole of dist/kernels*.wasm),
// used when an LSTM/GRU/RNN's W, R, B or P is a graph input: they must write exactly the layout the
// recurrent kernels read (the one compiler/pack-recurrent.ts writes for constant weights, documented in
// compiler/abi/rnn.ts), every float of it, nothing past it; and recurrent kernels fed their output must
// match the double-precision references written from the ONNX spec (rnn-reference.ts).
import { expect } from '@open-wc/testing';
import { packRecurrent } from '../../compiler/pack-recurrent.js';
import { Arena, describeEachBuild, mismatch, randomArray, rng, type KernelExports } from './kernel-harness.js';
import { packInMemory, runKernels } from './rnn-driver.js';
import { DEFAULT_ACTIVATIONS, GATES, recurrentRef, type RecurrentCase, type RecurrentOp } from './rnn-reference.js';

const KIND = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' } as const;

function makeCase(op: RecurrentOp, hidden: number, inputSize: number, seed: number, lbr = false): RecurrentCase {
  const rand = rng(seed);
  const D = 2;
  const G = GATES[op];
  const [seq, batch] = [5, 3];
  return {
    op,
    seq,
    batch,
    inputSize,
    hidden,
    direction: 'bidirectional',
    layout: 0,
    X: randomArray(seq * batch * inputSize, rand),
    W: randomArray(D * G * hidden * inputSize, rand),
    R: randomArray(D * G * hidden * hidden, rand, -0.6, 0.6),
    B: randomArray(D * 2 * G * hidden, rand, -0.5, 0.5),
    P: op === 'LSTM' ? randomArray(D * 3 * hidden, rand, -0.5, 0.5) : undefined,
    h0: randomArray(D * batch * hidden, rand),
    linearBeforeReset: lbr,
    activations: Array.from({ length: D }, () =>
      DEFAULT_ACTIVATIONS[op].map((name) => ({ name, alpha: 0, beta: 0 })),
    ).flat(),
  };
}

const VARIANTS: [RecurrentOp, boolean][] = [
  ['LSTM', false],
  ['GRU', false],
  ['GRU', true],
  ['RNN', false],
];

describeEachBuild('recurrent weight packing kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;

  before(() => {
    k = env.k as KernelExports;
    arena = env.arena;
  });

  for (const [op, lbr] of VARIANTS) {
    it(`${op}${lbr ? ' linear_before_reset' : ''}: the packed layout of compiler/pack-recurrent.ts, every float, both directions`, () => {
      let seed = 1;
      // hidden 1, 3, 5, 9: gates padded to 4 and panels part-filled; 4 and 8: no padding; cols 1 and 7: odd
      for (const hidden of [1, 3, 4, 5, 8, 9]) {
        for (const inputSize of [1, 2, 7]) {
          const c = makeCase(op, hidden, inputSize, seed++, lbr);
          for (const d of [0, 1]) {
            arena.reset();
            const got = packInMemory(k, arena, c, d);
            const want = packRecurrent(
              { kind: KIND[op], hidden, inputSize, W: c.W, R: c.R, B: c.B, P: c.P, linearBeforeReset: lbr },
              d,
            );
            const what = `${op} hidden ${hidden} input ${inputSize} dir ${d}`;
            const same = (p: number, ref: Float32Array, name: string) =>
              expect(Array.from(arena.f32(p, ref.length)), `${what}: ${name}`).to.deep.equal(Array.from(ref));
            same(got.w, want.w, 'W');
            same(got.r, want.r, 'R');
            same(got.bias, want.bias!, 'B');
            if (want.peephole) same(got.peephole, want.peephole, 'P');
            else expect(got.peephole, 'no P').to.equal(0);
          }
        }
      }
    });

    it(`${op}${lbr ? ' linear_before_reset' : ''}: the recurrent kernel on run-time-packed weights matches the ONNX reference`, () => {
      for (const [hidden, inputSize, seed] of [
        [5, 3, 11],
        [8, 4, 12],
        [3, 9, 13],
      ]) {
        const c = makeCase(op, hidden, inputSize, seed, lbr);
        const ref = recurrentRef(c);
        const got = runKernels(k, arena, c, { packWithKernels: true });
        for (const [name, g, r] of [
          ['Y', got.Y, ref.Y],
          ['Y_h', got.Yh, ref.Yh],
          ['Y_c', got.Yc, ref.Yc],
        ] as const) {
          if (!g) continue;
          expect(g.length, name).to.equal(r.length);
          for (let i = 0; i < r.length; i++) {
            const m = mismatch(g[i], r[i], 1e-4, 2e-5);
            if (m) expect.fail(`${op} hidden ${hidden}: ${name}[${i}]: ${m}`);
          }
        }
        const spread = Math.max(...got.Yh!) - Math.min(...got.Yh!);
        expect(spread, 'Y_h varies').to.be.greaterThan(0.1);
      }
    });
  }
});
