// The quantized ops through our compiler and runtime against onnxruntime-node on the same one-node models:
// QuantizeLinear and DequantizeLinear (opsets 10, 13, 19, 21; uint8 and int8; per tensor and per axis on
// every axis; constant or run-time scales and zero points; ties, saturation, NaN and ±Inf), Dynamic-
// QuantizeLinear, MatMulInteger and QLinearMatMul (batched, broadcast, per-column zero points and scales,
// constant and run-time weights), ConvInteger and QLinearConv (groups, strides, dilations, pads, SAME,
// 1-D, per-channel weight scales, bias, int8 weights). Exact: every output is an integer or a float the
// same f32 arithmetic gives.
import { describe, test, before } from 'node:test';
import { loadApi, rng } from './helpers.mjs';
import { checkAgainstOrt } from './ort-compare.mjs';

const prod = (d) => d.reduce((a, b) => a * b, 1);
const q8 = (signed, r) => (signed ? Math.floor(r() * 256) - 128 : Math.floor(r() * 256));
const qtype = (signed) => (signed ? 'int8' : 'uint8');

/** Floats to quantize with `scale`: exact ties (scale a power of two), saturating values, NaN, ±Inf. */
function floats(n, scale, r) {
  const specials = [0, -0, NaN, Infinity, -Infinity, 0.5 * scale, 1.5 * scale, -2.5 * scale, 1e6, -1e6];
  return Array.from({ length: n }, (_, i) =>
    i < specials.length
      ? specials[i]
      : r() < 0.4
        ? (Math.round((r() - 0.5) * 700) / 2) * scale
        : (r() - 0.5) * 400 * scale,
  );
}

describe('quantization ops against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  const exact = { atol: 0, rtol: 0 };

  for (const opset of [10, 13, 19, 21]) {
    for (const signed of [false, true]) {
      for (const constant of [false, true]) {
        test(`QuantizeLinear + DequantizeLinear opset ${opset} ${qtype(signed)} per tensor, ${constant ? 'constant' : 'run-time'} scale`, async () => {
          const r = rng(opset * 10 + (signed ? 1 : 0) + (constant ? 2 : 0));
          const dims = [3, 37];
          const scale = 0.25;
          const zp = q8(signed, r);
          const x = { name: 'x', type: 'float32', dims, values: floats(prod(dims), scale, r) };
          const s = { name: 's', type: 'float32', dims: [], values: [scale], ...(constant ? { init: [scale] } : {}) };
          const z = { name: 'z', type: qtype(signed), dims: [], values: [zp], ...(constant ? { init: [zp] } : {}) };
          await checkAgainstOrt(
            api,
            { op: 'QuantizeLinear', opset, inputs: [x, s, z], outputs: [{ name: 'y', type: qtype(signed) }] },
            exact,
          );
          const q = {
            name: 'q',
            type: qtype(signed),
            dims,
            values: Array.from({ length: prod(dims) }, () => q8(signed, r)),
          };
          await checkAgainstOrt(
            api,
            {
              op: 'DequantizeLinear',
              opset,
              inputs: [q, { ...s, values: [0.37], ...(constant ? { init: [0.37] } : {}) }, z],
              outputs: [{ name: 'y', type: 'float32' }],
            },
            exact,
          );
        });
      }
    }
  }

  for (const opset of [13, 19]) {
    for (const [dims, axis] of [
      [[2, 3, 5], 1],
      [[4, 6], 0],
      [[2, 3, 17], -1],
      [[1, 3, 2, 2], 1],
      [[3, 2, 4, 3], 2],
    ]) {
      for (const signed of [false, true]) {
        test(`QuantizeLinear + DequantizeLinear opset ${opset} ${qtype(signed)} per axis ${axis} of [${dims}]`, async () => {
          const r = rng(opset + dims.length * 7 + axis * 3 + (signed ? 100 : 0));
          const a = axis < 0 ? axis + dims.length : axis;
          const C = dims[a];
          const scales = Array.from({ length: C }, (_, c) => [0.5, 0.125, 0.03, 2][c % 4]);
          const zps = Array.from({ length: C }, () => q8(signed, r));
          const attrs = axis === 1 ? {} : { axis };
          for (const constant of [false, true]) {
            const s = { name: 's', type: 'float32', dims: [C], values: scales, ...(constant ? { init: scales } : {}) };
            const z = { name: 'z', type: qtype(signed), dims: [C], values: zps, ...(constant ? { init: zps } : {}) };
            const x = { name: 'x', type: 'float32', dims, values: floats(prod(dims), 0.125, r) };
            await checkAgainstOrt(
              api,
              { op: 'QuantizeLinear', opset, attrs, inputs: [x, s, z], outputs: [{ name: 'y', type: qtype(signed) }] },
              exact,
            );
            const q = {
              name: 'q',
              type: qtype(signed),
              dims,
              values: Array.from({ length: prod(dims) }, () => q8(signed, r)),
            };
            await checkAgainstOrt(
              api,
              { op: 'DequantizeLinear', opset, attrs, inputs: [q, s, z], outputs: [{ name: 'y', type: 'float32' }] },
              exact,
            );
          }
        });
      }
    }
  }

  test('QuantizeLinear without a zero point (uint8), DequantizeLinear of int32 with a per-axis scale', async () => {
    const r = rng(5);
    const x = { name: 'x', type: 'float32', dims: [4, 9], values: floats(36, 0.5, r) };
    await checkAgainstOrt(
      api,
      {
        op: 'QuantizeLinear',
        opset: 13,
        inputs: [x, { name: 's', type: 'float32', dims: [], values: [0.5] }],
        outputs: [{ name: 'y', type: 'uint8' }],
      },
      exact,
    );
    const q = {
      name: 'q',
      type: 'int32',
      dims: [4, 9],
      values: Array.from({ length: 36 }, (_, i) => (i === 0 ? 2 ** 31 - 1 : Math.floor((r() - 0.5) * 2e7))),
    };
    const s = { name: 's', type: 'float32', dims: [9], values: Array.from({ length: 9 }, () => r() * 0.01) };
    await checkAgainstOrt(
      api,
      { op: 'DequantizeLinear', opset: 13, inputs: [q, s], outputs: [{ name: 'y', type: 'float32' }] },
      exact,
    );
  });

  test('DynamicQuantizeLinear: mixed, all positive, all negative, all zero, a large tensor', async () => {
    const r = rng(6);
    const sets = [
      Array.from({ length: 50 }, () => (r() - 0.4) * 8),
      Array.from({ length: 7 }, () => r() * 3 + 1),
      Array.from({ length: 9 }, () => -r() * 3 - 0.1),
      new Array(6).fill(0),
      Array.from({ length: 3001 }, () => (r() - 0.5) * 100),
    ];
    for (const values of sets) {
      await checkAgainstOrt(
        api,
        {
          op: 'DynamicQuantizeLinear',
          opset: 11,
          inputs: [{ name: 'x', type: 'float32', dims: [values.length], values }],
          outputs: [
            { name: 'y', type: 'uint8' },
            { name: 'y_scale', type: 'float32' },
            { name: 'y_zero_point', type: 'uint8' },
          ],
        },
        exact,
      );
    }
  });

  // onnxruntime's kernels: MatMulInteger (u8|i8) × (u8|i8); QLinearMatMul u8 × (u8|i8) → u8, i8 × i8 → i8.
  const matmulCases = [
    { a: [4, 3], b: [3, 2] },
    { a: [7, 33], b: [33, 13] },
    { a: [2, 5, 9], b: [2, 9, 11] },
    { a: [3, 2, 6], b: [6, 17] },
    { a: [6], b: [6, 5] },
    { a: [1, 9, 4], b: [4, 8] },
  ];
  for (const c of matmulCases) {
    for (const [sa, sb] of [
      [false, false],
      [false, true],
      [true, true],
    ]) {
      for (const constB of [false, true]) {
        const label = `[${c.a}]·[${c.b}] ${qtype(sa)}×${qtype(sb)}, B ${constB ? 'constant' : 'at run time'}`;
        test(`MatMulInteger and QLinearMatMul ${label}`, async () => {
          const r = rng(prod(c.a) * 31 + prod(c.b) + (sa ? 7 : 0) + (sb ? 13 : 0) + (constB ? 1 : 0));
          const N = c.b[c.b.length - 1];
          const A = {
            name: 'a',
            type: qtype(sa),
            dims: c.a,
            values: Array.from({ length: prod(c.a) }, () => q8(sa, r)),
          };
          const bv = Array.from({ length: prod(c.b) }, () => q8(sb, r));
          const B = { name: 'b', type: qtype(sb), dims: c.b, values: bv, ...(constB ? { init: bv } : {}) };
          const az = { name: 'az', type: qtype(sa), dims: [], values: [q8(sa, r)] };
          const bzv = c.b.length === 2 && r() < 0.5 ? Array.from({ length: N }, () => q8(sb, r)) : [q8(sb, r)];
          const bz = {
            name: 'bz',
            type: qtype(sb),
            dims: bzv.length > 1 ? [N] : [],
            values: bzv,
            ...(constB ? { init: bzv } : {}),
          };
          await checkAgainstOrt(
            api,
            { op: 'MatMulInteger', opset: 10, inputs: [A, B, az, bz], outputs: [{ name: 'y', type: 'int32' }] },
            exact,
          );
          const f = (name, values, dims = []) => ({ name, type: 'float32', dims, values });
          const bs =
            bzv.length > 1
              ? f(
                  'bs',
                  Array.from({ length: N }, () => 0.001 + r() * 0.01),
                  [N],
                )
              : f('bs', [0.004 + r() * 0.01]);
          const yz = { name: 'yz', type: qtype(sa), dims: [], values: [q8(sa, r)] };
          await checkAgainstOrt(
            api,
            {
              op: 'QLinearMatMul',
              opset: 10,
              inputs: [A, f('as', [0.02 + r() * 0.1]), az, B, bs, bz, f('ys', [0.05 + r() * 0.5]), yz],
              outputs: [{ name: 'y', type: qtype(sa) }],
            },
            exact,
          );
        });
      }
    }
  }

  const convCases = [
    { x: [1, 1, 7, 7], w: [1, 1, 1, 1], attrs: {} },
    { x: [2, 3, 9, 8], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
    { x: [1, 4, 10, 10], w: [6, 2, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 0, 1, 2] } },
    { x: [1, 2, 11, 9], w: [3, 2, 3, 2], attrs: { dilations: [2, 1], strides: [1, 2] } },
    { x: [1, 3, 8, 8], w: [3, 1, 3, 3], attrs: { group: 3, auto_pad: 'SAME_UPPER' } },
    { x: [2, 2, 20], w: [5, 2, 4], attrs: { strides: [3], pads: [2, 1] } },
  ];
  for (const c of convCases) {
    for (const [sx, sw] of [
      [false, false],
      [false, true],
    ]) {
      for (const constW of [false, true]) {
        const label = `x [${c.x}] w [${c.w}] ${JSON.stringify(c.attrs)} ${qtype(sx)}×${qtype(sw)}, w ${constW ? 'constant' : 'at run time'}`;
        test(`ConvInteger and QLinearConv ${label}`, async () => {
          const r = rng(prod(c.x) + prod(c.w) * 17 + (sw ? 5 : 0) + (constW ? 3 : 0));
          const Co = c.w[0];
          const X = {
            name: 'x',
            type: qtype(sx),
            dims: c.x,
            values: Array.from({ length: prod(c.x) }, () => q8(sx, r)),
          };
          const wv = Array.from({ length: prod(c.w) }, () => q8(sw, r));
          const W = { name: 'w', type: qtype(sw), dims: c.w, values: wv, ...(constW ? { init: wv } : {}) };
          const xz = { name: 'xz', type: qtype(sx), dims: [], values: [q8(sx, r)] };
          // onnxruntime takes one weight zero point (it refuses differing per-channel ones).
          const wzv = [sw ? 0 : q8(sw, r)];
          const wz = { name: 'wz', type: qtype(sw), dims: [], values: wzv, ...(constW ? { init: wzv } : {}) };
          if (!sw)
            await checkAgainstOrt(
              api,
              {
                op: 'ConvInteger',
                opset: 10,
                attrs: c.attrs,
                inputs: [X, W, xz, wz],
                outputs: [{ name: 'y', type: 'int32' }],
              },
              exact,
            );
          const f = (name, values, dims = []) => ({ name, type: 'float32', dims, values });
          const ws =
            r() < 0.5
              ? f(
                  'ws',
                  Array.from({ length: Co }, () => 0.001 + r() * 0.01),
                  [Co],
                )
              : f('ws', [0.003 + r() * 0.01]);
          const bias = {
            name: 'B',
            type: 'int32',
            dims: [Co],
            values: Array.from({ length: Co }, () => Math.floor((r() - 0.5) * 4000)),
          };
          await checkAgainstOrt(
            api,
            {
              op: 'QLinearConv',
              opset: 10,
              attrs: c.attrs,
              inputs: [
                X,
                f('xs', [0.01 + r() * 0.05]),
                xz,
                W,
                ws,
                wz,
                f('ys', [0.05 + r() * 0.3]),
                { name: 'yz', type: qtype(sx), dims: [], values: [q8(sx, r)] },
                bias,
              ],
              outputs: [{ name: 'y', type: qtype(sx) }],
            },
            exact,
          );
        });
      }
    }
  }
});
