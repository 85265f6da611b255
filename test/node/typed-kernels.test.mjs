// The typed kernels of dist/kernels.wasm that write bools or convert types (assembly/cast.ts, compare.ts,
// where.ts) against onnxruntime-node running the same single ONNX node on the same inputs: exact, floats
// bit for bit — the oracle is onnxruntime, never the kernels.
import { test, describe, before } from 'node:test';
import {
  assertSame,
  DT,
  loadKernelLibrary,
  model,
  product,
  runBroadcast,
  runMap,
  runOrt,
  SHAPES,
  values,
} from './kernel-oracle.mjs';

describe('typed kernels against onnxruntime-node', () => {
  before(loadKernelLibrary);

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
});
