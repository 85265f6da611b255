// Recurrent kernels (lstm, gru, rnn of dist/kernels*.wasm) against double-precision references written from
// the ONNX spec (test/browser/rnn-reference.ts), and against the ONNX backend node tests' own data
// (rnn-node-cases.json, written by test/fixtures/make_rnn_node_cases.mjs). Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { Arena, call, loadKernels, mismatch, randomArray, rng, type KernelExports } from './kernel-harness.js';
import { runKernels, type KernelOutputs, type RunOptions } from './rnn-driver.js';
import {
  ACTIVATIONS_PER_DIRECTION,
  DEFAULT_ACTIVATIONS,
  GATES,
  activationRef,
  recurrentRef,
  type Activation,
  type ActivationName,
  type RecurrentCase,
  type RecurrentOp,
} from './rnn-reference.js';

const OPS: RecurrentOp[] = ['LSTM', 'GRU', 'RNN'];
const DIRECTIONS = ['forward', 'reverse', 'bidirectional'] as const;
const ALL_ACTIVATIONS: ActivationName[] = [
  'Relu',
  'Tanh',
  'Sigmoid',
  'Affine',
  'LeakyRelu',
  'ThresholdedRelu',
  'ScaledTanh',
  'HardSigmoid',
  'Elu',
  'Softsign',
  'Softplus',
];

/** alpha/beta in a range where each activation is interesting. */
function activation(name: ActivationName, rand: () => number): Activation {
  const u = (lo: number, hi: number) => lo + (hi - lo) * rand();
  switch (name) {
    case 'Affine':
      return { name, alpha: u(0.5, 1.2), beta: u(-0.5, 0.5) };
    case 'LeakyRelu':
      return { name, alpha: u(0.01, 0.3), beta: 0 };
    case 'ThresholdedRelu':
      return { name, alpha: u(0, 0.5), beta: 0 };
    case 'ScaledTanh':
      return { name, alpha: u(0.5, 1.5), beta: u(0.5, 1.5) };
    case 'HardSigmoid':
      return { name, alpha: u(0.1, 0.5), beta: u(0.3, 0.7) };
    case 'Elu':
      return { name, alpha: u(0.5, 1.5), beta: 0 };
    default:
      return { name, alpha: 0, beta: 0 };
  }
}

interface Shape {
  op: RecurrentOp;
  seq: number;
  batch: number;
  inputSize: number;
  hidden: number;
  direction?: RecurrentCase['direction'];
  layout?: 0 | 1;
}
type Extras = Partial<Omit<RecurrentCase, keyof Shape | 'X' | 'W' | 'R'>> & {
  withB?: boolean;
  withP?: boolean;
  withH0?: boolean;
  withC0?: boolean;
  shortLens?: boolean;
};

function makeCase(rand: () => number, s: Shape, e: Extras = {}): RecurrentCase {
  const direction = s.direction ?? 'forward';
  const D = direction === 'bidirectional' ? 2 : 1;
  const { op, seq, batch, inputSize: I, hidden: H } = s;
  const NG = GATES[op];
  const scale = 1.5 / Math.sqrt(Math.max(I, H));
  const c: RecurrentCase = {
    ...s,
    direction,
    layout: s.layout ?? 0,
    X: randomArray(seq * batch * I, rand),
    W: randomArray(D * NG * H * I, rand, -scale, scale),
    R: randomArray(D * NG * H * H, rand, -scale, scale),
    activations:
      e.activations ??
      Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[op].map((name) => activation(name, rand))).flat(),
  };
  if (e.withB) c.B = randomArray(D * 2 * NG * H, rand, -0.5, 0.5);
  if (e.withP && op === 'LSTM') c.P = randomArray(D * 3 * H, rand, -0.5, 0.5);
  if (e.withH0) c.h0 = randomArray(D * batch * H, rand);
  if (e.withC0 && op === 'LSTM') c.c0 = randomArray(D * batch * H, rand);
  if (e.shortLens) c.lens = Array.from({ length: batch }, (_, b) => (b === 0 ? seq : Math.floor(rand() * (seq + 1))));
  if (e.lens) c.lens = e.lens;
  if (e.clip !== undefined) c.clip = e.clip;
  if (e.inputForget) c.inputForget = true;
  if (e.linearBeforeReset) c.linearBeforeReset = true;
  return c;
}

const describeCase = (c: RecurrentCase): string =>
  `${c.op} seq=${c.seq} batch=${c.batch} input=${c.inputSize} hidden=${c.hidden} ${c.direction} layout=${c.layout}` +
  `${c.B ? ' B' : ''}${c.P ? ' P' : ''}${c.h0 ? ' h0' : ''}${c.c0 ? ' c0' : ''}${c.lens ? ` lens=[${c.lens}]` : ''}` +
  `${c.clip !== undefined ? ` clip=${c.clip}` : ''}${c.inputForget ? ' input_forget' : ''}` +
  `${c.linearBeforeReset ? ' linear_before_reset' : ''} acts=${c.activations.map((a) => a.name).join(',')}`;

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: length`).to.equal(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const m = mismatch(got[i], ref[i], rtol, atol);
    if (m) expect.fail(`${what}[${i}]: ${m}`);
  }
}

/** Runs the kernels on a case and compares every requested output with the reference. */
function check(
  k: KernelExports,
  arena: Arena,
  c: RecurrentCase,
  opts: RunOptions = {},
  tol = { rtol: 1e-4, atol: 2e-5 },
) {
  const ref = recurrentRef(c);
  const got: KernelOutputs = runKernels(k, arena, c, opts);
  const what = `${describeCase(c)}${opts.lensI64 ? ' lens:i64' : ''}${opts.misalign ? ` misalign=${opts.misalign}` : ''}`;
  if (got.Y) expectClose(got.Y, ref.Y, tol.rtol, tol.atol, `${what}: Y`);
  if (got.Yh) expectClose(got.Yh, ref.Yh, tol.rtol, tol.atol, `${what}: Y_h`);
  if (got.Yc) expectClose(got.Yc, ref.Yc, tol.rtol, tol.atol, `${what}: Y_c`);
  return got;
}

interface NodeTensor {
  shape: number[];
  dtype: string;
  data: number[];
}
interface NodeCase {
  name: string;
  op: RecurrentOp;
  attributes: Record<string, number | string | number[] | string[]>;
  inputs: Record<string, NodeTensor>;
  outputs: Record<string, NodeTensor>;
}

/** An ONNX backend node test as a RecurrentCase (attributes at their ONNX defaults where absent). */
function fromNodeCase(n: NodeCase): RecurrentCase {
  const a = n.attributes;
  const layout = (a.layout ?? 0) as 0 | 1;
  const [d0, d1, inputSize] = n.inputs.X.shape;
  const direction = (a.direction ?? 'forward') as RecurrentCase['direction'];
  const D = direction === 'bidirectional' ? 2 : 1;
  const names = (a.activations as string[] | undefined) ?? Array(D).fill(DEFAULT_ACTIVATIONS[n.op]).flat();
  const f32 = (t?: NodeTensor) => (t ? Float32Array.from(t.data) : undefined);
  return {
    op: n.op,
    seq: layout === 0 ? d0 : d1,
    batch: layout === 0 ? d1 : d0,
    inputSize,
    hidden: a.hidden_size as number,
    direction,
    layout,
    X: f32(n.inputs.X)!,
    W: f32(n.inputs.W)!,
    R: f32(n.inputs.R)!,
    B: f32(n.inputs.B),
    P: f32(n.inputs.P),
    h0: f32(n.inputs.initial_h),
    c0: f32(n.inputs.initial_c),
    lens: n.inputs.sequence_lens?.data,
    clip: a.clip as number | undefined,
    inputForget: a.input_forget === 1,
    linearBeforeReset: a.linear_before_reset === 1,
    activations: names.map((name) => ({ name: name as ActivationName, alpha: 0, beta: 0 })),
  };
}

const BUILDS = [
  { name: 'simd', url: '/dist/kernels.wasm' },
  { name: 'relaxed-simd', url: '/dist/kernels-relaxed.wasm' },
];

for (const build of BUILDS) {
  describe(`recurrent kernels (${build.name})`, function () {
    this.timeout(120000);
    let k: KernelExports;
    let arena: Arena;

    before(async function () {
      const loaded = await loadKernels(build.url);
      if (!loaded) {
        expect(build.name, 'the SIMD build must validate').to.equal('relaxed-simd');
        this.skip();
        return;
      }
      k = loaded;
      arena = new Arena(k);
    });

    for (const op of OPS) {
      it(`${op}: hidden 1/3/17/64 × input 1/5 × batch 1/3 × seq 1/2/13, every direction and layout`, () => {
        const rand = rng(101 + op.length);
        let n = 0;
        for (const hidden of [1, 3, 17, 64])
          for (const inputSize of [1, 5])
            for (const batch of [1, 3])
              for (const seq of [1, 2, 13]) {
                const direction = DIRECTIONS[n % 3];
                const layout = (Math.floor(n / 3) % 2) as 0 | 1;
                n++;
                const c = makeCase(
                  rand,
                  { op, seq, batch, inputSize, hidden, direction, layout },
                  { withB: rand() < 0.7, withP: rand() < 0.5, withH0: rand() < 0.6, withC0: rand() < 0.6 },
                );
                check(k, arena, c, { misalign: n % 2 ? 4 : 0 });
              }
      });
    }

    for (const op of OPS) {
      it(`${op}: every activation in every slot (${ACTIVATIONS_PER_DIRECTION[op]} per direction), with alpha/beta`, () => {
        const rand = rng(7 + op.length);
        const slots = ACTIVATIONS_PER_DIRECTION[op];
        for (let slot = 0; slot < slots; slot++)
          for (const name of ALL_ACTIVATIONS) {
            // Bidirectional: the reverse direction gets a different choice in the same slot.
            const acts = [0, 1].flatMap((d) =>
              DEFAULT_ACTIVATIONS[op].map((def, s) =>
                activation(
                  s !== slot ? def : d === 0 ? name : ALL_ACTIVATIONS[(ALL_ACTIVATIONS.indexOf(name) + 3) % 11],
                  rand,
                ),
              ),
            );
            const c = makeCase(
              rand,
              { op, seq: 5, batch: 2, inputSize: 3, hidden: 6, direction: 'bidirectional', layout: slot % 2 ? 1 : 0 },
              { withB: true, withH0: true, withC0: true, activations: acts },
            );
            check(k, arena, c);
          }
      });
    }

    it('every activation at special values (±Inf, NaN, large, tiny) through an RNN that passes x through', () => {
      // hidden 1, input 1, W = 1, R = 0, one step: Y[0, 0, b] = f(X[0, b]) for each batch entry b.
      const XS = [NaN, Infinity, -Infinity, 100, -100, 30, -30, 3.7, -2.2, 0.4, -0.6, 1e-4, -1e-4, 0, 1e-30];
      const rand = rng(3);
      for (const name of ALL_ACTIVATIONS) {
        const act = activation(name, rand);
        // Also x = alpha exactly: ThresholdedRelu's boundary (x > alpha, so 0 there).
        const xs = [...XS, Math.fround(act.alpha)];
        const c: RecurrentCase = {
          ...makeCase(rand, { op: 'RNN', seq: 1, batch: XS.length + 1, inputSize: 1, hidden: 1 }),
          X: Float32Array.from(xs),
          W: Float32Array.of(1),
          R: Float32Array.of(0),
          activations: [act],
        };
        const got = runKernels(k, arena, c).Y!;
        const f = activationRef(act);
        xs.forEach((x, b) => {
          const m = mismatch(got[b], f(x), 2e-6, 1e-7);
          if (m) expect.fail(`${name}(${x}) alpha=${act.alpha} beta=${act.beta}: ${m}`);
        });
      }
    });

    it('sequence_lens shorter than seq (and 0), i32 and i64, every op, direction and layout', () => {
      const rand = rng(33);
      for (const op of OPS)
        for (const direction of DIRECTIONS)
          for (const layout of [0, 1] as const)
            for (const lensI64 of [false, true]) {
              const lens = [13, 0, 7, 1];
              const c = makeCase(
                rand,
                { op, seq: 13, batch: 4, inputSize: 5, hidden: 17, direction, layout },
                { withB: true, withH0: true, withC0: true, withP: true, lens },
              );
              check(k, arena, c, { lensI64 });
              // All shorter than seq: the kernels stop at the longest.
              check(k, arena, { ...c, lens: [3, 5, 2, 5] }, { lensI64 });
            }
    });

    it('clip, input_forget, peepholes and linear_before_reset', () => {
      const rand = rng(55);
      for (const direction of DIRECTIONS)
        for (const clip of [undefined, 0.3, 2]) {
          const shape = { seq: 6, batch: 3, inputSize: 5, hidden: 17, direction, layout: 0 as const };
          for (const inputForget of [false, true])
            check(k, arena, makeCase(rand, { op: 'LSTM', ...shape }, { withB: true, withP: true, clip, inputForget }));
          for (const linearBeforeReset of [false, true]) {
            check(
              k,
              arena,
              makeCase(rand, { op: 'GRU', ...shape }, { withB: true, withH0: true, clip, linearBeforeReset }),
            );
            check(k, arena, makeCase(rand, { op: 'GRU', ...shape }, { clip, linearBeforeReset }));
          }
          check(k, arena, makeCase(rand, { op: 'RNN', ...shape }, { withB: true, clip }));
        }
    });

    it('writes exactly the outputs asked for (any subset of Y, Y_h, Y_c)', () => {
      const rand = rng(77);
      const subsets: ('Y' | 'Y_h' | 'Y_c')[][] = [[], ['Y'], ['Y_h'], ['Y_c'], ['Y', 'Y_c'], ['Y_h', 'Y_c']];
      for (const op of OPS)
        for (const outputs of subsets) {
          const c = makeCase(
            rand,
            { op, seq: 4, batch: 3, inputSize: 5, hidden: 3, direction: 'bidirectional' },
            {
              withB: true,
              shortLens: true,
            },
          );
          const got = check(k, arena, c, { outputs: outputs.filter((o) => op === 'LSTM' || o !== 'Y_c') });
          expect(got.Y !== null, 'Y').to.equal(outputs.includes('Y'));
        }
    });

    for (const op of OPS) {
      it(`${op}: one step per call with the state fed back in place gives the same bits as one call over the sequence`, () => {
        const rand = rng(91);
        for (const [batch, hidden] of [
          [1, 17],
          [1, 64],
          [3, 64],
        ]) {
          const seq = 13,
            inputSize = 5;
          const c = makeCase(
            rand,
            { op, seq, batch, inputSize, hidden },
            { withB: true, withP: true, withH0: true, withC0: true },
          );
          const whole = check(k, arena, c);
          // Streaming: a 1-step call per time step, initial_h/initial_c in the Y_h/Y_c buffers.
          const stepCase: RecurrentCase = { ...c, seq: 1 };
          const n = batch * hidden;
          const stream = (t: number, state: { h: Float32Array; c: Float32Array }) =>
            runKernels(
              k,
              arena,
              {
                ...stepCase,
                X: c.X.subarray(t * batch * inputSize, (t + 1) * batch * inputSize),
                h0: state.h,
                c0: state.c,
              },
              {
                stateInPlace: true,
              },
            );
          let state = { h: c.h0!, c: c.c0 ?? new Float32Array(n) };
          for (let t = 0; t < seq; t++) {
            const out = stream(t, state);
            const want = new Uint32Array(whole.Y!.buffer, t * n * 4, n);
            expect(Array.from(new Uint32Array(out.Y!.buffer)), `${describeCase(c)}: Y[${t}] bits`).to.deep.equal(
              Array.from(want),
            );
            state = { h: out.Yh!, c: out.Yc ?? state.c };
          }
          expect(Array.from(new Uint32Array(state.h.buffer)), 'Y_h bits').to.deep.equal(
            Array.from(new Uint32Array(whole.Yh!.buffer)),
          );
          if (op === 'LSTM')
            expect(Array.from(new Uint32Array(state.c.buffer)), 'Y_c bits').to.deep.equal(
              Array.from(new Uint32Array(whole.Yc!.buffer)),
            );
        }
      });
    }

    it('the ONNX backend node tests (reference and kernels against their expected outputs)', async () => {
      const response = await fetch(new URL('./rnn-node-cases.json', import.meta.url));
      expect(response.ok, 'fetch rnn-node-cases.json').to.equal(true);
      const cases = (await response.json()) as NodeCase[];
      expect(cases.map((n) => n.name)).to.have.length(9);
      for (const n of cases) {
        const c = fromNodeCase(n);
        const ref = recurrentRef(c);
        const got = runKernels(k, arena, c);
        // ONNX's runner tolerance.
        for (const [name, want] of Object.entries(n.outputs)) {
          const key = name === 'Y' ? 'Y' : name === 'Y_h' ? 'Yh' : 'Yc';
          expect(got[key]!.length, `${n.name}: ${name} size`).to.equal(want.data.length);
          expectClose(ref[key], want.data, 1e-3, 1e-7, `${n.name}: reference ${name}`);
          expectClose(got[key]!, want.data, 1e-3, 1e-7, `${n.name}: ${name}`);
        }
      }
    });

    it('rnn_first_bad_length finds lengths outside [0, seq] (i32 and i64)', () => {
      arena.reset();
      const lens = arena.alloc(8);
      const put = (v: number[], i64: boolean) => {
        if (i64) new BigInt64Array(k.memory.buffer, lens, v.length).set(v.map(BigInt));
        else arena.i32(lens, v.length).set(v);
      };
      for (const lensI64 of [0, 1]) {
        const first = (v: number[], seq: number) => {
          put(v, lensI64 === 1);
          return call(k, 'rnn_first_bad_length', { lens, lensI64, batch: v.length, seq });
        };
        expect(first([3, 0, 2], 3)).to.equal(-1);
        expect(first([3, 4, 2], 3)).to.equal(1);
        expect(first([1, 2, -1], 3)).to.equal(2);
        expect(first([], 3)).to.equal(-1);
      }
      // An i64 length past 2³¹ is not mistaken for a small one.
      new BigInt64Array(k.memory.buffer, lens, 1).set([2n ** 32n + 1n]);
      expect(call(k, 'rnn_first_bad_length', { lens, lensI64: 1, batch: 1, seq: 3 })).to.equal(0);
    });

    it('the scratch formula covers what the kernels touch (NaN-filled scratch, canary after it)', () => {
      // runKernels fills scratch with NaN and checks a canary right after the documented size; here the
      // longest chunks (seq past RNN_CHUNK) and a large batch.
      const rand = rng(13);
      for (const op of OPS)
        check(
          k,
          arena,
          makeCase(
            rand,
            { op, seq: 37, batch: 5, inputSize: 5, hidden: 9, direction: 'reverse', layout: 1 },
            { withB: true, shortLens: true },
          ),
        );
    });
  });
}
