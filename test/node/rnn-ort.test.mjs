// The recurrent kernels (dist/kernels.wasm: lstm, gru, rnn) against onnxruntime-node on one-node ONNX
// models, for what the ONNX text leaves to the implementation: how activation_alpha/beta pair with the
// activations (compiler/recurrent-attributes.ts), clip, input_forget, linear_before_reset, sequence_lens
// with reverse and bidirectional runs, peepholes. Layout 0 only: onnxruntime's CPU kernels refuse layout 1
// (the browser suite checks layout 1 against the reference).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KERNELS } from '../../dist/compiler/abi/kernels.js';
import { packRecurrent, recurrentScratchFloats } from '../../dist/compiler/pack-recurrent.js';
import { recurrentActivations } from '../../dist/compiler/recurrent-attributes.js';
import { ortRun } from '../conformance/ort.mjs';
import { onnx } from '../conformance/tensors.mjs';
import { rng } from './rng.mjs';

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };
const KIND = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };
const AT = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** A one-node model: X, sequence_lens, initial_h, initial_c as graph inputs, W, R, B, P as initializers. */
function model(c) {
  const attribute = [{ name: 'hidden_size', type: AT.INT, i: c.hidden }];
  if (c.direction) attribute.push({ name: 'direction', type: AT.STRING, s: new TextEncoder().encode(c.direction) });
  if (c.activations)
    attribute.push({
      name: 'activations',
      type: AT.STRINGS,
      strings: c.activations.map((s) => new TextEncoder().encode(s)),
    });
  if (c.alpha) attribute.push({ name: 'activation_alpha', type: AT.FLOATS, floats: c.alpha });
  if (c.beta) attribute.push({ name: 'activation_beta', type: AT.FLOATS, floats: c.beta });
  if (c.clip !== undefined) attribute.push({ name: 'clip', type: AT.FLOAT, f: c.clip });
  if (c.inputForget) attribute.push({ name: 'input_forget', type: AT.INT, i: 1 });
  if (c.linearBeforeReset) attribute.push({ name: 'linear_before_reset', type: AT.INT, i: 1 });
  const init = (name, t) => ({ name, dims: t.shape, dataType: FLOAT, rawData: new Uint8Array(t.data.buffer) });
  const initializer = [init('W', c.W), init('R', c.R)];
  if (c.B) initializer.push(init('B', c.B));
  if (c.P) initializer.push(init('P', c.P));
  const value = (name, shape, elemType = FLOAT) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  });
  const input = [value('X', c.X.shape)];
  if (c.lens) input.push(value('sequence_lens', [c.batch], onnx.TensorProto.DataType.INT32));
  if (c.h0) input.push(value('initial_h', c.h0.shape));
  if (c.c0) input.push(value('initial_c', c.c0.shape));
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const outNames = c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const nodeInputs = ['X', 'W', 'R', c.B ? 'B' : '', c.lens ? 'sequence_lens' : '', c.h0 ? 'initial_h' : ''];
  if (c.op === 'LSTM') nodeInputs.push(c.c0 ? 'initial_c' : '', c.P ? 'P' : '');
  const graph = {
    name: 'recurrent',
    node: [{ opType: c.op, input: nodeInputs, output: outNames, attribute }],
    initializer,
    input,
    output: outNames.map((n) => value(n, n === 'Y' ? [c.seq, D, c.batch, c.hidden] : [D, c.batch, c.hidden])),
  };
  const m = { irVersion: 7, opsetImport: [{ domain: '', version: 14 }], graph };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(m)).finish();
}

const kernels = new WebAssembly.Instance(
  new WebAssembly.Module(readFileSync(new URL('../../dist/kernels.wasm', import.meta.url))),
  {},
).exports;

/** The node through our kernels, one call per direction, as an op handler will make them. */
function runOurs(c) {
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const mem = () => kernels.memory.buffer;
  let at = 1 << 20;
  const alloc = (floats) => {
    const p = at;
    at = (p + floats * 4 + 63) & ~63;
    return p;
  };
  const put = (data) => {
    const p = alloc(data.length);
    new Float32Array(mem(), p, data.length).set(data);
    return p;
  };
  const nY = c.seq * D * c.batch * c.hidden;
  const nS = D * c.batch * c.hidden;
  const y = alloc(nY),
    yh = alloc(nS),
    yc = c.op === 'LSTM' ? alloc(nS) : 0;
  let lens = 0;
  if (c.lens) {
    lens = alloc(c.batch);
    new Int32Array(mem(), lens, c.batch).set(c.lens);
  }
  const acts = recurrentActivations(c.op, D, {
    activations: c.activations,
    activation_alpha: c.alpha,
    activation_beta: c.beta,
  });
  const x = put(c.X.data),
    h0 = c.h0 ? put(c.h0.data) : 0,
    c0 = c.c0 ? put(c.c0.data) : 0;
  const scratch = alloc(recurrentScratchFloats(KIND[c.op], c.seq, c.batch, c.hidden));
  for (let d = 0; d < D; d++) {
    const p = packRecurrent(
      {
        kind: KIND[c.op],
        hidden: c.hidden,
        inputSize: c.inputSize,
        W: c.W.data,
        R: c.R.data,
        B: c.B?.data,
        P: c.P?.data,
        linearBeforeReset: c.linearBeforeReset,
      },
      d,
    );
    const args = {
      x,
      w: put(p.w),
      r: put(p.r),
      bias: p.bias ? put(p.bias) : 0,
      peephole: p.peephole ? put(p.peephole) : 0,
      lens,
      lensI64: 0,
      h0,
      c0,
      y,
      yh,
      yc,
      scratch,
      seq: c.seq,
      batch: c.batch,
      inputSize: c.inputSize,
      hidden: c.hidden,
      layout: 0,
      dirs: D,
      dir: d,
      reverse: c.direction === 'reverse' || d === 1 ? 1 : 0,
      inputForget: c.inputForget ? 1 : 0,
      linearBeforeReset: c.linearBeforeReset ? 1 : 0,
      // onnxruntime: LSTM/GRU default to no clip, RNN's clip < 0 means none.
      clip: c.clip ?? Infinity,
    };
    acts[d].forEach((a, slot) => {
      const s = 'FGH'[slot];
      Object.assign(args, { [`act${s}`]: a.code, [`alpha${s}`]: a.alpha, [`beta${s}`]: a.beta });
    });
    const name = KIND[c.op];
    kernels[name](
      ...KERNELS[name].params.map(([n]) => {
        assert.equal(typeof args[n], 'number', `${name}: argument ${n}`);
        return args[n];
      }),
    );
  }
  const read = (p, n) => new Float32Array(mem(), p, n).slice();
  const out = { Y: read(y, nY), Y_h: read(yh, nS) };
  if (c.op === 'LSTM') out.Y_c = read(yc, nS);
  return out;
}

function makeCase(seed, c) {
  const rand = rng(seed);
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[c.op];
  const t = (shape, scale = 1) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, data: Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale) };
  };
  const s = 1.5 / Math.sqrt(Math.max(c.inputSize, c.hidden));
  return {
    ...c,
    X: t([c.seq, c.batch, c.inputSize]),
    W: t([D, G * c.hidden, c.inputSize], s),
    R: t([D, G * c.hidden, c.hidden], s),
    B: c.withB ? t([D, 2 * G * c.hidden], 0.5) : undefined,
    P: c.withP ? t([D, 3 * c.hidden], 0.5) : undefined,
    h0: c.withH0 ? t([D, c.batch, c.hidden]) : undefined,
    c0: c.withC0 ? t([D, c.batch, c.hidden]) : undefined,
  };
}

const CASES = [
  {
    op: 'LSTM',
    seq: 5,
    batch: 3,
    inputSize: 4,
    hidden: 5,
    direction: 'bidirectional',
    lens: [5, 0, 3],
    withB: true,
    withP: true,
    withH0: true,
    withC0: true,
    clip: 0.7,
    activations: ['HardSigmoid', 'LeakyRelu', 'Elu', 'sigmoid', 'Softsign', 'ScaledTanh'],
    alpha: [0.3, 0.2, 0.9, 1.1],
    beta: [0.4, 0.8],
  },
  {
    op: 'LSTM',
    seq: 4,
    batch: 2,
    inputSize: 3,
    hidden: 6,
    direction: 'reverse',
    lens: [4, 2],
    withB: true,
    inputForget: true,
  },
  {
    op: 'LSTM',
    seq: 6,
    batch: 2,
    inputSize: 5,
    hidden: 17,
    withH0: true,
    activations: ['Sigmoid', 'Affine', 'ThresholdedRelu'],
    alpha: [0.8],
    beta: [0.1],
  },
  { op: 'LSTM', seq: 3, batch: 1, inputSize: 2, hidden: 3, activations: ['Sigmoid', 'Relu', 'Softplus'] },
  {
    op: 'GRU',
    seq: 5,
    batch: 3,
    inputSize: 4,
    hidden: 5,
    direction: 'bidirectional',
    lens: [2, 5, 0],
    withB: true,
    withH0: true,
    linearBeforeReset: true,
    clip: 1.5,
    activations: ['Affine', 'ThresholdedRelu', 'HardSigmoid', 'Tanh'],
    alpha: [0.6],
  },
  { op: 'GRU', seq: 4, batch: 2, inputSize: 3, hidden: 7, direction: 'reverse', lens: [3, 4], withB: true },
  {
    op: 'GRU',
    seq: 6,
    batch: 2,
    inputSize: 5,
    hidden: 4,
    linearBeforeReset: true,
    activations: ['HardSigmoid', 'Elu'],
  },
  {
    op: 'RNN',
    seq: 5,
    batch: 3,
    inputSize: 4,
    hidden: 5,
    direction: 'bidirectional',
    lens: [5, 1, 3],
    withB: true,
    withH0: true,
    clip: 0.9,
    activations: ['LeakyRelu', 'Affine'],
    alpha: [0.1, 0.5],
    beta: [0, 0.2],
  },
  {
    op: 'RNN',
    seq: 4,
    batch: 2,
    inputSize: 3,
    hidden: 6,
    direction: 'reverse',
    lens: [2, 4],
    withB: true,
    activations: ['Relu'],
  },
  { op: 'RNN', seq: 6, batch: 1, inputSize: 2, hidden: 3, activations: ['Tanh', 'Tanh'] },
  // activation_alpha/beta go to the activations that take them, in order, across directions.
  {
    op: 'RNN',
    seq: 5,
    batch: 2,
    inputSize: 4,
    hidden: 5,
    direction: 'bidirectional',
    withB: true,
    activations: ['Tanh', 'Affine'],
    alpha: [0.5],
    beta: [0.2],
  },
  { op: 'RNN', seq: 4, batch: 2, inputSize: 3, hidden: 4, withH0: true, activations: ['LeakyRelu'] },
  // Longer than one projection chunk (16 steps), every length different.
  {
    op: 'LSTM',
    seq: 37,
    batch: 3,
    inputSize: 5,
    hidden: 9,
    direction: 'bidirectional',
    lens: [37, 20, 1],
    withB: true,
    withH0: true,
    withC0: true,
  },
  { op: 'GRU', seq: 19, batch: 2, inputSize: 3, hidden: 6, direction: 'bidirectional', lens: [0, 19], withH0: true },
];

for (const [i, spec] of CASES.entries()) {
  const c = makeCase(1000 + i, spec);
  const title =
    `${c.op} ${c.direction ?? 'forward'} seq=${c.seq} batch=${c.batch} hidden=${c.hidden}` +
    `${c.lens ? ` lens=[${c.lens}]` : ''}${c.clip ? ` clip=${c.clip}` : ''}${c.inputForget ? ' input_forget' : ''}` +
    `${c.linearBeforeReset ? ' linear_before_reset' : ''}${c.activations ? ` ${c.activations.join(',')}` : ''}` +
    `${c.alpha ? ` alpha=[${c.alpha}]` : ''}${c.beta ? ` beta=[${c.beta}]` : ''}`;
  test(`${title}: as onnxruntime-node`, async () => {
    const feeds = [{ name: 'X', dtype: 'float32', shape: c.X.shape, data: c.X.data }];
    if (c.lens) feeds.push({ name: 'sequence_lens', dtype: 'int32', shape: [c.batch], data: Int32Array.from(c.lens) });
    if (c.h0) feeds.push({ name: 'initial_h', dtype: 'float32', shape: c.h0.shape, data: c.h0.data });
    if (c.c0) feeds.push({ name: 'initial_c', dtype: 'float32', shape: c.c0.shape, data: c.c0.data });
    const [want] = await ortRun(model(c), feeds);
    const got = runOurs(c);
    for (const [name, w] of Object.entries(want)) {
      assert.equal(got[name].length, w.data.length, `${name} size`);
      for (let j = 0; j < w.data.length; j++) {
        const err = Math.abs(got[name][j] - w.data[j]);
        if (!(err <= 2e-5 + 1e-4 * Math.abs(w.data[j])))
          assert.fail(`${name}[${j}]: ours ${got[name][j]}, onnxruntime ${w.data[j]}`);
      }
    }
  });
}
