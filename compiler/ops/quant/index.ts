import type { OpHandler } from '../op.js';
import { QCONV_OPS } from './conv.js';
import { QMATMUL_OPS } from './matmul.js';
import { QUANTIZE_OPS } from './quantize.js';

/** The quantized ops: QuantizeLinear and DequantizeLinear, the integer and QLinear products. */
export const QUANT_OPS: Record<string, OpHandler> = { ...QUANTIZE_OPS, ...QMATMUL_OPS, ...QCONV_OPS };
