// Integer kernels of dist/kernels.wasm (assembly/integer.ts, intmath.ts: arithmetic, Mod, Pow, Abs/Neg/
// Sign) against onnxruntime-node running the same single ONNX node, exactly; and the float32 unary math
// kernels (assembly/unary.ts) against onnxruntime at ONNX's tolerance (its float32 math is not correctly
// rounded; math-kernels.test.ts in the browser holds them to 1 ulp of float64 references).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARRAYS,
  assertSame,
  loadKernelLibrary,
  model,
  product,
  random,
  runBroadcast,
  runMap,
  runOrt,
  SHAPES,
  values,
} from './kernel-oracle.mjs';

describe('integer and unary math kernels against onnxruntime-node', () => {
  before(loadKernelLibrary);

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
