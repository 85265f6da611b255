import type { OpHandler } from './op.js';
import { CODES } from '../abi/codes.js';
import { normalizeAxis, type NodeContext } from '../lowering/context.js';
import { NodeProblem } from '../errors.js';
import { Tensor, product, stridesOf } from '../tensor.js';
import { asInts } from './args.js';
import { buf, f32, i32 } from '../program.js';
import { add } from '../shape/size.js';

/**
 * Pad (constant, reflect, edge) over any rank.
 */

const PAD_MODES: Record<string, number> = {
  constant: CODES.PAD.CONSTANT,
  reflect: CODES.PAD.REFLECT,
  edge: CODES.PAD.EDGE,
};

function padArgs(ctx: NodeContext, rank: number): { begin: number[]; end: number[]; mode: number; value: number } {
  const mode = PAD_MODES[ctx.string('mode', 'constant')];
  if (mode === undefined)
    throw new NodeProblem(`mode "${ctx.string('mode', '')}" is not supported (constant, reflect, edge)`);
  let pads: number[];
  let value: number;
  if (ctx.opset < 11) {
    pads = ctx.ints('pads') ?? ctx.ints('paddings') ?? [];
    value = ctx.float('value', 0);
  } else {
    pads = asInts(ctx.constant(1, 'pads'))!;
    value = ctx.optionalConstant(2, 'constant_value')?.numbers[0] ?? 0;
  }
  const axes = ctx.opset >= 18 ? asInts(ctx.optionalConstant(3, 'axes')) : undefined;
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  const ax = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => normalizeAxis(a, rank));
  if (pads.length !== 2 * ax.length)
    throw new NodeProblem(`${pads.length} pads for ${ax.length} axes`, 'invalid-graph');
  ax.forEach((a, i) => {
    begin[a] = pads[i];
    end[a] = pads[i + ax.length];
  });
  if (begin.some((p) => p < 0) || end.some((p) => p < 0))
    throw new NodeProblem('negative pads (cropping) are not supported');
  return { begin, end, mode, value };
}

const pad: OpHandler = {
  inputs: (opset) =>
    opset >= 18 ? 'data pads! constant_value?! axes?!' : opset >= 11 ? 'data pads! constant_value?!' : 'data',
  fold(ctx, [x]) {
    const { begin, end, mode, value } = padArgs(ctx, x!.dims.length);
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
    const x = ctx.rt(0);
    const { begin, end, mode, value } = padArgs(ctx, x.dims.length);
    const out = x.dims.map((d, i) => add(d, begin[i] + end[i]));
    if (x.dims.length < 2) throw new NodeProblem('padding a 1-D tensor is not supported');
    // Padding along the rows' axis adds rows that belong to none.
    const r = x.rowAxis;
    const rowAxis = typeof r === 'number' && (begin[r] || end[r]) ? undefined : r;
    const y = { ...ctx.newValue(out), rowAxis };
    const table = ctx.program.addTable([out.length, ...out, ...x.dims, ...begin]);
    ctx.program.addStep(
      'pad',
      () => ({ x: buf(x), y: buf(y), rows: i32(out[0]), table, mode: i32(mode), value: f32(value) }),
      [x],
      [y],
    );
    ctx.output(0, y);
  },
};

// ---- reductions ------------------------------------------------------------------------------------

export const PAD_OPS: Record<string, OpHandler> = { Pad: pad };
