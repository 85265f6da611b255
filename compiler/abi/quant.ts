/**
 * Kernels of the quantization family (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
 * MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv): ABI table entries spread into KERNELS
 * (kernels.ts). Arithmetic is onnxruntime's (MLAS on x86), see assembly/quantize.ts, qgemm.ts,
 * requantize.ts; the i16 operand layouts (A16 rows, packed B) are in assembly/qgemm.ts and
 * compiler/pack-quant.ts writes the same layout at compile time. Scales and zero points are always read
 * through pointers, so they may be constants (data) or run-time inputs alike.
 *
 * - QuantizeLinear / DequantizeLinear: x viewed as [outer, axis, inner] about the quantization axis;
 *   per tensor: outer = 1, axis = 1, inner = size. zp 0 when the zero point is absent.
 * - MatMulInteger / QLinearMatMul [.., M, K] · [.., K, N]: `q_widen` A (rows = batches·M, zpPeriod 0 or
 *   M for a per-row zero point), `q_pack_b` B at run time or compiler/pack-quant.ts at compile time, then
 *   `qgemm` (cStride = M·N); QLinearMatMul requantizes [batches·M, N, 1] with wScales 1 or N.
 * - ConvInteger / QLinearConv (N×C×H×W, group g, Cog = Co/g, Cig = C/g, K = Cig·KH·KW, P = OH·OW):
 *   W16 = `q_widen` of W [Co, K] (zpPeriod Co for per-channel zero points) or packed at compile time;
 *   per group: `q_im2col` (c0 = g·Cig, cn = Cig) into col [images, packed B of K × P], then `qgemm`
 *   a = W16 + g·Cog·Kp·2 bytes (aPeriod 1), b = col (bPeriod 0), c = acc + g·Cog·P·4 bytes,
 *   batches = images, M = Cog, N = P, cStride = Co·P; QLinearConv requantizes [images, Co, P] with the
 *   bias (i32[Co]) and wScales 1 or Co.
 *
 * Scratch: col bytes = images · ⌈P/8⌉ · Kp · 16; A16 bytes = rows · Kp · 2; Kp = K rounded up to even.
 */
import { i32, ptr, WINDOW, type KernelSpec } from './spec.js';

const AXIS = [ptr('x'), ptr('scale'), ptr('zp'), ptr('y'), i32('outer'), i32('axis'), i32('inner')] as const;
const REQUANTIZE = [
  ptr('acc'),
  ptr('bias'),
  ptr('xScale'),
  ptr('wScale'),
  i32('wScales'),
  ptr('yScale'),
  ptr('yZp'),
  ptr('y'),
  i32('outer'),
  i32('channels'),
  i32('inner'),
] as const;

export const QUANT_KERNELS = {
  /** y u8 = saturate(round_half_even(x / scale[a]) + zp[a]); x f32 [outer, axis, inner]. */
  quantize_u8: { module: 'quantize', params: AXIS },
  quantize_i8: { module: 'quantize', params: AXIS },
  /** y f32 = (x − zp[a]) · scale[a]; x u8 / i8 / i32 [outer, axis, inner]. */
  dequantize_u8: { module: 'quantize', params: AXIS },
  dequantize_i8: { module: 'quantize', params: AXIS },
  dequantize_i32: { module: 'quantize', params: AXIS },
  /** DynamicQuantizeLinear over n floats: y u8[n], scaleOut f32[1], zpOut u8[1]. */
  dynamic_quantize: { module: 'quantize', params: [ptr('x'), ptr('y'), ptr('scaleOut'), ptr('zpOut'), i32('n')] },
  /** Batched i32 c = A16 · packed B (periods 0: the operand advances with the batch). */
  qgemm: {
    module: 'qgemm',
    params: [
      ptr('a'),
      ptr('b'),
      ptr('c'),
      i32('batches'),
      i32('M'),
      i32('N'),
      i32('K'),
      i32('aPeriod'),
      i32('bPeriod'),
      i32('cStride'),
    ],
  },
  /** A16 rows: y[r, k] = x[r, k] − zp[r mod zpPeriod] (signed: x is i8). */
  q_widen: {
    module: 'qpack',
    params: [ptr('x'), i32('signed'), ptr('zp'), i32('zpPeriod'), ptr('y'), i32('rows'), i32('K')],
  },
  /** Packed B of each batch of B [K, N]: B[k, n] − zp[zpPerColumn ? n : 0]. */
  q_pack_b: {
    module: 'qpack',
    params: [ptr('b'), i32('signed'), ptr('zp'), i32('zpPerColumn'), ptr('packed'), i32('batches'), i32('K'), i32('N')],
  },
  /** A convolution's im2col of channels c0..c0+cn of each NCHW image, packed as B [cn·KH·KW, OH·OW]. */
  q_im2col: {
    module: 'qpack',
    params: [
      ptr('x'),
      i32('signed'),
      ptr('zp'),
      ptr('col'),
      i32('images'),
      i32('C'),
      i32('H'),
      i32('W'),
      i32('c0'),
      i32('cn'),
      ...WINDOW,
    ],
  },
  /** i32 sums [outer, channels, inner] (+ bias[c]) · xScale·wScale[c]/yScale, rounded, + yZp, to u8 / i8. */
  q_requantize_u8: { module: 'requantize', params: REQUANTIZE },
  q_requantize_i8: { module: 'requantize', params: REQUANTIZE },
} as const satisfies Record<string, KernelSpec>;
