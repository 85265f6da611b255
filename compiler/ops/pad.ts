import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, product, stridesOf } from '../tensor.js';
import { asInts } from './args.js';
import { buf, data, ELEMENT_BYTES, f32, i32, type RtValue } from '../program.js';
import { add, isConst, type Size } from '../shape/size.js';
import { runtimePads } from './run-slice.js';

/**
 * Pad (constant, reflect, edge) over any rank and any 4- or 8-byte element type; pads and the constant
 * may be given at run time (run-slice.ts).
 */

const PAD_MODES: Record<string, number> = {
  constant: CODES.PAD.CONSTANT,
  reflect: CODES.PAD.REFLECT,
  edge: CODES.PAD.EDGE,
};

interface PadArgs {
  begin: Size[];
  end: Size[];
  mode: number;
  /** The constant: known, or given at run time (constant_value an input computed by the graph). */
  value: number | RtValue;
}

function padArgs(ctx: NodeContext, rank: number): PadArgs {
  const mode = PAD_MODES[ctx.string('mode', 'constant')];
  if (mode === undefined)
    throw new NodeProblem(`mode "${ctx.string('mode', '')}" is not supported (constant, reflect, edge)`);
  const axes = ctx.opset >= 18 ? asInts(ctx.optionalConstant(3, 'axes')) : undefined;
  const ax = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => normalizeAxis(a, rank));
  let pads: Size[];
  let value: number | RtValue;
  if (ctx.opset < 11) {
    pads = ctx.ints('pads') ?? ctx.ints('paddings') ?? [];
    value = ctx.float('value', 0);
  } else {
    pads = ctx.input(1)?.kind === 'rt' ? runtimePads(ctx, ax.length) : asInts(ctx.constant(1, 'pads'))!;
    const c = ctx.input(2);
    value = c?.kind === 'rt' ? ctx.rtAny(2) : (ctx.optionalConstant(2, 'constant_value')?.numbers[0] ?? 0);
  }
  const begin = new Array<Size>(rank).fill(0);
  const end = new Array<Size>(rank).fill(0);
  if (pads.length !== 2 * ax.length)
    throw new NodeProblem(`${pads.length} pads for ${ax.length} axes`, 'invalid-graph');
  ax.forEach((a, i) => {
    begin[a] = pads[i];
    end[a] = pads[i + ax.length];
  });
  if ([...begin, ...end].some((p) => isConst(p) && p < 0))
    throw new NodeProblem('negative pads (cropping) are not supported');
  return { begin, end, mode, value };
}

const pad: OpHandler = {
  inputs: (opset) =>
    opset >= 18 ? 'data pads constant_value? axes?!' : opset >= 11 ? 'data pads constant_value?' : 'data',
  fold(ctx, [x]) {
    // Every input is a constant here, so are the pads and the value.
    const { begin, end, mode, value } = padArgs(ctx, x!.dims.length) as PadArgs & {
      begin: number[];
      end: number[];
      value: number;
    };
    const out = x!.dims.map((d, i) => d + begin[i] + end[i]);
    const src = x!.numbers;
    const inStrides = stridesOf(x!.dims);
    const map = (i: number, n: number) =>
      i >= 0 && i < n
        ? i
        : mode === 2
          ? i < 0
            ? 0
            : n - 1
          : n === 1
            ? 0
            : ((k) => (k < n ? k : 2 * (n - 1) - k))(((i % (2 * (n - 1))) + 2 * (n - 1)) % (2 * (n - 1)));
    const values = Array.from({ length: product(out) }, (_, flat) => {
      let rem = flat;
      let at = 0;
      for (let d = out.length - 1; d >= 0; d--) {
        const i = (rem % out[d]) - begin[d];
        rem = Math.floor(rem / out[d]);
        if ((i < 0 || i >= x!.dims[d]) && mode === 0) return value;
        at += map(i, x!.dims[d]) * inStrides[d];
      }
      return src[at];
    });
    return [Tensor.fromNumbers(x!.dtype, out, values)];
  },
  lower(ctx) {
    const x = ctx.rtAny(0);
    const { begin, end, mode, value } = padArgs(ctx, x.dims.length);
    const out = x.dims.map((d, i) => add(add(d, begin[i]), end[i]));
    // Padding along the rows' axis adds rows that belong to none.
    const r = x.rowAxis;
    const rowAxis = typeof r === 'number' && (begin[r] !== 0 || end[r] !== 0) ? undefined : r;
    const y = { ...ctx.newValue(out, x.dtype), rowAxis, onnx: x.onnx };
    const bytes = ELEMENT_BYTES[x.dtype];
    if (bytes === 1) throw new NodeProblem(`padding ${x.onnx ?? x.dtype} tensors is not supported`);
    if (typeof value === 'number' && x.dtype === 'float32' && x.dims.length >= 2 && begin[0] === 0 && end[0] === 0) {
      // The kernel walks the output's first axis as rows (the batch, never padded).
      const table = ctx.program.addTable([out.length, ...out, ...x.dims, ...begin]);
      const step = () => ({ x: buf(x), y: buf(y), rows: i32(out[0]), table, mode: i32(mode), value: f32(value) });
      ctx.program.addStep('pad', step, [x], [y]);
      return ctx.output(0, y);
    }
    // Anything else pads behind a leading axis of 1 (so the first axis may be padded too), 8-byte
    // elements as two words on a last axis of 2, the constant read from memory (its bits, any dtype).
    const wide = bytes === 8;
    const dims = (ds: Size[], last: Size) => [ds.length + 1 + (wide ? 1 : 0), 1, ...ds, ...(wide ? [last] : [])];
    const table = ctx.program.addTable([
      ...dims(out, 2),
      ...dims(x.dims, 2).slice(1),
      0,
      ...begin,
      ...(wide ? [0] : []),
    ]);
    const at = typeof value === 'number' ? data(ctx.program.addData(constantBits(x, value))) : buf(value);
    if (typeof value !== 'number' && value.dtype !== x.dtype)
      throw new NodeProblem(`constant_value holds ${value.onnx ?? value.dtype}, the data ${x.onnx ?? x.dtype}`);
    if (wide && typeof value !== 'number')
      throw new NodeProblem('a run-time constant_value for 8-byte data is not supported');
    const step = () => ({ x: buf(x), y: buf(y), rows: i32(1), table, mode: i32(mode), value: at });
    ctx.program.addStep('pad_at', step, typeof value === 'number' ? [x] : [x, value], [y]);
    ctx.output(0, y);
  },
};

/** A constant's 4 bytes as the padded words hold it (an 8-byte element's two words must be equal). */
function constantBits(x: RtValue, v: number): Uint8Array {
  if (x.dtype === 'float32') return new Uint8Array(Float32Array.of(v).buffer);
  if (x.dtype === 'int32') return new Uint8Array(Int32Array.of(v).buffer);
  if (v !== 0 && v !== -1)
    throw new NodeProblem(`a constant of ${v} for ${x.onnx ?? x.dtype} data is not supported (0 or -1)`);
  return new Uint8Array(Int32Array.of(v).buffer);
}

// ---- reductions ------------------------------------------------------------------------------------

export const PAD_OPS: Record<string, OpHandler> = { Pad: pad };
