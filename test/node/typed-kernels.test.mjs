// The typed elementwise kernels of dist/kernels.wasm (casts, comparisons, logic, Where, integer
// arithmetic, Mod, Pow; assembly/cast.ts, compare.ts, where.ts, integer.ts) against onnxruntime-node
// running the same single ONNX node on the same inputs: integers and bools must match exactly, floats
// bit for bit (casts, fmod) — the oracle is onnxruntime, never the kernels. Also the float unary math
// kernels against onnxruntime at ONNX's tolerance (onnxruntime's float32 math is not correctly rounded).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST, onnx, ort, rng } from './helpers.mjs';

const DT = { f32: 1, u8: 2, i8: 3, i32: 6, i64: 7, bool: 9 };
const ARRAYS = {
  f32: Float32Array,
  u8: Uint8Array,
  i8: Int8Array,
  i32: Int32Array,
  i64: BigInt64Array,
  bool: Uint8Array,
};
const ORT_TYPES = { f32: 'float32', u8: 'uint8', i8: 'int8', i32: 'int32', i64: 'int64', bool: 'bool' };

/** A one-node model: inputs [[name, type, dims]], one output of type outType. */
function model(op, inputs, outType, attrs = {}, opset = 18) {
  const vi = (name, t, dims) => ({
    name,
    type: { tensorType: { elemType: DT[t], shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v },
  );
  return onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: op,
        input: inputs.map(([n, t, d]) => vi(n, t, d)),
        output: [{ name: 'y', type: { tensorType: { elemType: DT[outType] } } }],
        node: [{ opType: op, input: inputs.map(([n]) => n), output: ['y'], attribute }],
      },
    }),
  ).finish();
}

async function runOrt(bytes, feeds) {
  const session = await ort.InferenceSession.create(bytes);
  const tensors = {};
  for (const [name, [t, data, dims]] of Object.entries(feeds)) tensors[name] = new ort.Tensor(ORT_TYPES[t], data, dims);
  return (await session.run(tensors)).y;
}

/** Strides (elements) of an operand of shape dims broadcast to out (right-aligned; 0 where broadcast). */
function strides(out, dims) {
  const padded = [...Array(out.length - dims.length).fill(1), ...dims];
  const s = new Array(out.length).fill(0);
  let step = 1;
  for (let j = out.length - 1; j >= 0; j--) {
    s[j] = padded[j] === 1 ? 0 : step;
    step *= padded[j];
  }
  return s;
}

const product = (d) => d.reduce((a, b) => a * b, 1);

let k;
let next;
const alloc = (bytes) => {
  const p = next;
  next = (next + bytes + 64 + 15) & ~15;
  return p;
};
const put = (t, data) => {
  const bytes = data.length * ARRAYS[t].BYTES_PER_ELEMENT;
  const p = alloc(bytes);
  new Uint8Array(k.memory.buffer, p, bytes).set(new Uint8Array(data.buffer, data.byteOffset, bytes));
  return p;
};
const read = (t, p, n) => new ARRAYS[t](k.memory.buffer.slice(p, p + n * ARRAYS[t].BYTES_PER_ELEMENT));

/** Runs a broadcasting kernel (a, b, y, rows, table) or Where (cond, a, b, …) on operands of the given shapes. */
function runBroadcast(kernel, operands, outType, outDims) {
  next = 1 << 20;
  const ptrs = operands.map(([t, data]) => put(t, data));
  const table = put(
    'i32',
    Int32Array.from([outDims.length, ...outDims, ...operands.flatMap(([, , dims]) => strides(outDims, dims))]),
  );
  const n = product(outDims);
  const y = alloc(n * ARRAYS[outType].BYTES_PER_ELEMENT);
  k[kernel](...ptrs, y, outDims[0], table);
  return read(outType, y, n);
}

function runMap(kernel, t, data, outType, extra = []) {
  next = 1 << 20;
  const x = put(t, data);
  const y = alloc(data.length * ARRAYS[outType].BYTES_PER_ELEMENT);
  k[kernel](x, y, data.length, ...extra);
  return read(outType, y, data.length);
}

const random = rng(14);
function values(t, n, { nonzero = false, small = false } = {}) {
  const a = new ARRAYS[t](n);
  for (let i = 0; i < n; i++) {
    const r = random();
    let v;
    if (t === 'f32')
      v =
        r < 0.1 ? [NaN, Infinity, -Infinity, 0, -0][Math.floor(random() * 5)] : (random() - 0.5) * 10 ** (4 * random());
    else if (t === 'bool') v = random() < 0.5 ? 0 : 1;
    else if (t === 'u8') v = Math.floor(random() * (small ? 8 : 256));
    else if (t === 'i8') v = Math.floor(random() * (small ? 9 : 256)) - (small ? 4 : 128);
    else if (t === 'i32') v = small || r < 0.6 ? Math.round(20 * random() - 10) : (random() * 2 ** 32) | 0;
    else
      v =
        small || r < 0.6
          ? BigInt(Math.round(20 * random() - 10))
          : BigInt.asIntN(64, BigInt(Math.floor(random() * 2 ** 32)) << 31n);
    if (nonzero && (v === 0 || v === 0n)) v = t === 'i64' ? 3n : 3;
    a[i] = v;
  }
  return a;
}

/** Equal element by element: NaN = NaN, and floats compared bit for bit (±0 differ unless signedZeros is false). */
function assertSame(got, want, what, signedZeros = true) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const ok =
      typeof want[i] === 'number'
        ? Object.is(got[i], want[i]) || (!signedZeros && got[i] === want[i])
        : got[i] === want[i];
    if (!ok) assert.fail(`${what}: [${i}] kernel ${got[i]}, onnxruntime ${want[i]}`);
  }
}

const SHAPES = [
  [
    [3, 4, 5],
    [3, 4, 5],
    [3, 4, 5],
  ],
  [[3, 4, 5], [5], [3, 4, 5]],
  [
    [2, 1, 6],
    [1, 3, 1],
    [2, 3, 6],
  ],
  [[37], [1], [37]],
];

describe('typed kernels against onnxruntime-node', () => {
  before(async () => {
    const { instance } = await WebAssembly.instantiate(readFileSync(path.join(DIST, 'kernels.wasm')), {});
    k = instance.exports;
  });

  const types = ['f32', 'i32', 'i64', 'u8', 'i8'];
  for (const from of types) {
    for (const to of [...types, 'bool']) {
      if (from === to) continue;
      test(`Cast ${from} → ${to}`, async () => {
        const x =
          from === 'f32'
            ? Float32Array.from([
                0,
                -0,
                0.5,
                -1.5,
                127.9,
                128,
                255.5,
                300,
                -129,
                2147483520,
                2147483648,
                -3e9,
                9.2e18,
                9.3e18,
                1e30,
                -1e30,
                Infinity,
                -Infinity,
                NaN,
                1e-40,
                16777217,
                65536.7,
                ...values('f32', 200),
              ])
            : values(from, 300);
        const want = await runOrt(model('Cast', [['x', from, [x.length]]], to, { to: DT[to] }), {
          x: [from, x, [x.length]],
        });
        assertSame(runMap(`cast_${from}_${to}`, from, x, to === 'bool' ? 'u8' : to), want.data, `cast_${from}_${to}`);
      });
    }
  }
  test('Cast bool → f32, i64 (bool sources are the u8 kernels)', async () => {
    const x = values('bool', 50);
    for (const to of ['f32', 'i64', 'i32']) {
      const want = await runOrt(model('Cast', [['x', 'bool', [50]]], to, { to: DT[to] }), { x: ['bool', x, [50]] });
      assertSame(runMap(`cast_u8_${to}`, 'u8', x, to), want.data, `cast bool → ${to}`);
    }
  });

  const CMP = {
    Less: 'less',
    Greater: 'greater',
    Equal: 'equal',
    LessOrEqual: 'less_equal',
    GreaterOrEqual: 'greater_equal',
  };
  for (const [op, name] of Object.entries(CMP)) {
    for (const t of ['f32', 'i32', 'i64']) {
      test(`${op} on ${t}, broadcasting`, async () => {
        for (const [da, db, out] of SHAPES) {
          const a = values(t, product(da), { small: true });
          const b = values(t, product(db), { small: true });
          const want = await runOrt(
            model(
              op,
              [
                ['a', t, da],
                ['b', t, db],
              ],
              'bool',
            ),
            { a: [t, a, da], b: [t, b, db] },
          );
          assertSame(
            runBroadcast(
              `${name}_${t}`,
              [
                [t, a, da],
                [t, b, db],
              ],
              'u8',
              out,
            ),
            want.data,
            `${name}_${t} ${da}×${db}`,
          );
        }
      });
    }
  }

  for (const op of ['And', 'Or', 'Xor']) {
    test(`${op}, broadcasting`, async () => {
      for (const [da, db, out] of SHAPES) {
        const a = values('bool', product(da));
        const b = values('bool', product(db));
        const want = await runOrt(
          model(
            op,
            [
              ['a', 'bool', da],
              ['b', 'bool', db],
            ],
            'bool',
            {},
            7,
          ),
          { a: ['bool', a, da], b: ['bool', b, db] },
        );
        assertSame(
          runBroadcast(
            `${op.toLowerCase()}_u8`,
            [
              ['u8', a, da],
              ['u8', b, db],
            ],
            'u8',
            out,
          ),
          want.data,
          `${op} ${da}×${db}`,
        );
      }
    });
  }

  test('Not, IsNaN, IsInf (every detect attribute)', async () => {
    const b = values('bool', 41);
    assertSame(
      runMap('not_u8', 'u8', b, 'u8'),
      (await runOrt(model('Not', [['x', 'bool', [41]]], 'bool', {}, 1), { x: ['bool', b, [41]] })).data,
      'not',
    );
    const x = Float32Array.from([0, -0, 1, NaN, Infinity, -Infinity, 3.4e38, -1e-40, ...values('f32', 33)]);
    assertSame(
      runMap('isnan_f32', 'f32', x, 'u8'),
      (await runOrt(model('IsNaN', [['x', 'f32', [x.length]]], 'bool', {}, 13), { x: ['f32', x, [x.length]] })).data,
      'isnan',
    );
    for (const [p, n] of [
      [1, 1],
      [1, 0],
      [0, 1],
      [0, 0],
    ]) {
      const want = await runOrt(
        model('IsInf', [['x', 'f32', [x.length]]], 'bool', { detect_positive: p, detect_negative: n }, 10),
        { x: ['f32', x, [x.length]] },
      );
      assertSame(runMap('isinf_f32', 'f32', x, 'u8', [p, n]), want.data, `isinf ${p} ${n}`);
    }
  });

  // (onnxruntime 1.30 has no bool or int8 Where.)
  for (const [t, kernel] of [
    ['f32', 'where_32bit'],
    ['i32', 'where_32bit'],
    ['i64', 'where_64bit'],
    ['u8', 'where_8bit'],
  ]) {
    test(`Where on ${t}, broadcasting over three operands`, async () => {
      for (const [dc, da, db, out] of [
        [
          [3, 4, 5],
          [3, 4, 5],
          [3, 4, 5],
          [3, 4, 5],
        ],
        [[4, 1], [1, 5], [5], [4, 5]],
        [[1], [2, 3], [2, 1], [2, 3]],
      ]) {
        const c = values('bool', product(dc));
        const a = values(t, product(da));
        const b = values(t, product(db));
        const want = await runOrt(
          model(
            'Where',
            [
              ['c', 'bool', dc],
              ['a', t, da],
              ['b', t, db],
            ],
            t,
            {},
            16,
          ),
          { c: ['bool', c, dc], a: [t, a, da], b: [t, b, db] },
        );
        // onnxruntime's Where turns a selected −0 from its X input into +0; the kernel copies the bits.
        assertSame(
          runBroadcast(
            kernel,
            [
              ['u8', c, dc],
              [t, a, da],
              [t, b, db],
            ],
            t,
            out,
          ),
          want.data,
          `${kernel} ${t}`,
          false,
        );
      }
    });
  }

  const ARITH = { Add: 'add', Sub: 'sub', Mul: 'mul', Div: 'div', Min: 'min', Max: 'max' };
  for (const t of ['i32', 'i64', 'u8', 'i8']) {
    for (const [op, name] of Object.entries(ARITH)) {
      test(`${op} on ${t} (wrapping), broadcasting`, async () => {
        for (const [da, db, out] of SHAPES) {
          const a = values(t, product(da));
          const b = values(t, product(db), { nonzero: op === 'Div' }); // onnxruntime refuses a zero divisor
          const want = await runOrt(
            model(
              op,
              [
                ['a', t, da],
                ['b', t, db],
              ],
              t,
              {},
              14,
            ),
            { a: [t, a, da], b: [t, b, db] },
          );
          assertSame(
            runBroadcast(
              `${name}_${t}`,
              [
                [t, a, da],
                [t, b, db],
              ],
              t,
              out,
            ),
            want.data,
            `${name}_${t} ${da}×${db}`,
          );
        }
      });
    }
    for (const fmod of [0, 1]) {
      test(`Mod fmod=${fmod} on ${t}`, async () => {
        const [da, db, out] = [[3, 4, 5], [5], [3, 4, 5]];
        const a = values(t, 60);
        const b = values(t, 5, { nonzero: true, small: true });
        const want = await runOrt(
          model(
            'Mod',
            [
              ['a', t, da],
              ['b', t, db],
            ],
            t,
            { fmod },
            13,
          ),
          { a: [t, a, da], b: [t, b, db] },
        );
        const kernel = fmod === 0 || t === 'u8' ? `mod_${t}` : `fmod_${t}`;
        assertSame(
          runBroadcast(
            kernel,
            [
              [t, a, da],
              [t, b, db],
            ],
            t,
            out,
          ),
          want.data,
          kernel,
        );
      });
    }
  }
  test('Mod fmod=1 on f32 (C fmod, bit for bit)', async () => {
    const a = Float32Array.from([5, -5, 5.5, -0, 3.4e38, -3.4e38, 1e30, 6, -6, Infinity, 2, ...values('f32', 60)]);
    const b = Float32Array.from([3, 3, -2, 7, 1e-45, 0.1, 7.0000005, 3, 3, 2, 0, ...values('f32', 60)]);
    const want = await runOrt(
      model(
        'Mod',
        [
          ['a', 'f32', [a.length]],
          ['b', 'f32', [b.length]],
        ],
        'f32',
        { fmod: 1 },
        13,
      ),
      { a: ['f32', a, [a.length]], b: ['f32', b, [b.length]] },
    );
    assertSame(
      runBroadcast(
        'fmod_f32',
        [
          ['f32', a, [a.length]],
          ['f32', b, [b.length]],
        ],
        'f32',
        [a.length],
      ),
      want.data,
      'fmod_f32',
    );
  });

  test('Pow on integers and mixed float/integer, as onnxruntime computes it', async () => {
    const pairs = [
      [
        'i32',
        'i32',
        [2, 2, -2, -2, 3, 0, 0, 1, -1, -1, 2, 10, 7, 2, 46341, 5, -3, 1, 4, 9],
        [3, -1, 3, -2, 20, 0, -1, -5, -3, 4, 31, 10, 0, 40, 2, 13, 19, 100, 15, 10],
      ],
      [
        'i64',
        'i64',
        [2n, 2n, -2n, 3n, 0n, 0n, 1n, -1n, 2n, 10n, 7n, 2n, 3n, 3n, -3n, 5n, 13n, -7n],
        [3n, -1n, 3n, 40n, 0n, -1n, -5n, -3n, 63n, 19n, 0n, 70n, 39n, 41n, 39n, 27n, 17n, 22n],
      ],
      [
        'i32',
        'f32',
        [2, 2, 4, -8, 9, 2, -2, 3, 16, 1, 1, -1, 0, 0, 7],
        [0.5, -1, 0.5, 0.3333, 0.5, 31, 2.5, 2.9, 0.25, Infinity, NaN, Infinity, -1, 0.5, 1.5],
      ],
      [
        'i64',
        'f32',
        [2n, 2n, 4n, 9n, 2n, 3n, 27n, 1n, -4n, 0n],
        [0.5, -1, 0.5, 0.5, 62, 2.9, 0.3333, -Infinity, 2, -2],
      ],
      ['f32', 'i32', [2, -2, 0.5, 0, 0, 1.5, -1.1, 3, NaN, Infinity, -0], [3, 3, -2, -1, 0, 40, 25, 80, 0, -2, -3]],
      ['f32', 'i64', [2, -2, 0.5, 0, 1.0001, 10], [3n, 3n, -2n, -1n, 1000000n, -50n]],
    ];
    for (const [ta, tb, av, bv] of pairs) {
      const a = ARRAYS[ta].from(av);
      const b = ARRAYS[tb].from(bv);
      const want = await runOrt(
        model(
          'Pow',
          [
            ['a', ta, [a.length]],
            ['b', tb, [b.length]],
          ],
          ta,
          {},
          15,
        ),
        { a: [ta, a, [a.length]], b: [tb, b, [b.length]] },
      );
      const kernel = ta === tb ? `pow_${ta}` : `pow_${ta}_${tb}`;
      assertSame(
        runBroadcast(
          kernel,
          [
            [ta, a, [a.length]],
            [tb, b, [b.length]],
          ],
          ta,
          [a.length],
        ),
        want.data,
        kernel,
      );
    }
  });

  for (const t of ['i32', 'i64']) {
    for (const op of ['Abs', 'Neg', 'Sign']) {
      test(`${op} on ${t}`, async () => {
        const x = ARRAYS[t].from(
          t === 'i64'
            ? [0n, 5n, -5n, -(2n ** 63n), 2n ** 63n - 1n, ...values('i64', 20)]
            : [0, 5, -5, -2147483648, 2147483647, ...values('i32', 20)],
        );
        const want = await runOrt(model(op, [['x', t, [x.length]]], t, {}, 13), { x: [t, x, [x.length]] });
        assertSame(runMap(`${op.toLowerCase()}_${t}`, t, x, t), want.data, `${op}_${t}`);
      });
    }
  }

  const UNARY = {
    Elu: ['unary_elu', { alpha: 0.7 }],
    Selu: ['unary_selu', {}],
    Celu: ['unary_celu', { alpha: 1.5 }],
    ThresholdedRelu: ['unary_thresholded_relu', { alpha: 0.5 }],
    Shrink: ['unary_shrink', { bias: 0.3, lambd: 0.8 }],
    Softplus: ['unary_softplus', {}],
    Softsign: ['unary_softsign', {}],
    Mish: ['unary_mish', {}],
    Sin: ['unary_sin', {}],
    Cos: ['unary_cos', {}],
    Tan: ['unary_tan', {}],
    Asin: ['unary_asin', {}],
    Acos: ['unary_acos', {}],
    Atan: ['unary_atan', {}],
    Sinh: ['unary_sinh', {}],
    Cosh: ['unary_cosh', {}],
    Asinh: ['unary_asinh', {}],
    Acosh: ['unary_acosh', {}],
    Atanh: ['unary_atanh', {}],
    Floor: ['unary_floor', {}],
    Ceil: ['unary_ceil', {}],
    Round: ['unary_round', {}],
    Sign: ['unary_sign', {}],
  };
  for (const [op, [kernel, attrs]] of Object.entries(UNARY)) {
    test(`${op} (float32) within ONNX's tolerance of onnxruntime, finite inputs`, async () => {
      const domain = { Asin: 1, Acos: 1, Atanh: 1 }[op] ?? 30;
      const x = Float32Array.from({ length: 500 }, (_, i) =>
        op === 'Acosh' ? 1 + 30 * random() : (random() - 0.5) * 2 * domain * (i % 7 === 0 ? 0.01 : 1),
      );
      x.set([0, -0, 0.5, -0.5, 1.5, 2.5, -2.5], 0);
      if (op === 'Acosh') x.set([1, 1, 1.5, 2.5, 1, 1, 3], 0);
      const want = await runOrt(model(op, [['x', 'f32', [x.length]]], 'f32', attrs, op === 'Mish' ? 18 : 13), {
        x: ['f32', x, [x.length]],
      });
      const defaults = { alpha: { Elu: 1, Celu: 1, ThresholdedRelu: 1, Selu: 1.67326319217681884765625 }[op] ?? 0 };
      const p0 = attrs.alpha ?? attrs.bias ?? defaults.alpha;
      const p1 = op === 'Selu' ? 1.05070102214813232421875 : (attrs.lambd ?? 0);
      const got = runMap(kernel, 'f32', x, 'f32', [p0, p1]);
      for (let i = 0; i < x.length; i++) {
        const w = want.data[i];
        const ok = Number.isNaN(w) ? Number.isNaN(got[i]) : Math.abs(got[i] - w) <= 1e-7 + 1e-3 * Math.abs(w);
        if (!ok) assert.fail(`${kernel}(${x[i]}): kernel ${got[i]}, onnxruntime ${w}`);
      }
    });
  }
});
