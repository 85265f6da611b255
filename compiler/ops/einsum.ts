import type { OpHandler } from './op.js';
import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { buf, i32, type RtValue } from '../program.js';
import { shapeToString, stridesOf } from '../shape/shapes.js';
import { add, product, sameSize, type Size } from '../shape/size.js';
import { constantAs, stridedCopy } from './strided.js';

/**
 * Einsum (float32) as data movement and batched matrix products: each operand's repeated letters become a
 * diagonal view, letters no other operand or the output needs are summed out, then the operands are
 * contracted left to right — both transposed to [batch, free, contracted] / [batch, contracted, free] and
 * multiplied by the batched matmul kernel — and the result transposed to the output's order. Ellipses
 * stand for the same dimensions in every operand (broadcasting them against 1 is not supported).
 */

/** A tensor whose axes are named by letters (ellipsis dims get names of their own, '0', '1', …). */
interface Labeled {
  value: RtValue;
  letters: string[];
}

interface Equation {
  inputs: string[][];
  output: string[];
}

/**
 * The equation with ellipses expanded: the W dims an ellipsis stands for (W the most any operand has)
 * are named '0' … 'W−1', right-aligned, so an operand with fewer shares the last names.
 */
function parse(equation: string, ranks: number[]): Equation {
  const text = equation.replace(/\s+/g, '');
  const [lhs, rhs, extra] = text.split('->');
  const terms = lhs.split(',');
  if (extra !== undefined || terms.length !== ranks.length)
    throw new NodeProblem(`the equation "${equation}" does not fit ${ranks.length} input(s)`, 'invalid-graph');
  const split = (term: string) => {
    const parts = term.split('...');
    if (parts.length > 2 || !/^[A-Za-z]*$/.test(parts.join('')))
      throw new NodeProblem(`"${term}" in the equation "${equation}" is not a term of letters`, 'invalid-graph');
    return { before: [...parts[0]], after: parts.length === 2 ? [...parts[1]] : undefined };
  };
  const parsed = terms.map(split);
  const widths = parsed.map((p, i) => {
    const named = p.before.length + (p.after?.length ?? 0);
    const n = ranks[i] - named;
    if (p.after === undefined ? n !== 0 : n < 0)
      throw new NodeProblem(`"${terms[i]}" does not name the ${ranks[i]} axes of its input`, 'invalid-graph');
    return n;
  });
  const W = Math.max(0, ...widths);
  const dots = (n: number) => Array.from({ length: n }, (_, k) => String(W - n + k));
  const inputs = parsed.map((p, i) =>
    p.after === undefined ? p.before : [...p.before, ...dots(widths[i]), ...p.after],
  );
  let output: string[];
  if (rhs !== undefined) {
    const p = split(rhs);
    output = p.after === undefined ? p.before : [...p.before, ...dots(W), ...p.after];
  } else {
    const all = inputs.flat();
    const once = [...new Set(all)].filter((l) => !/\d/.test(l) && all.filter((m) => m === l).length === 1).sort();
    output = [...dots(W), ...once];
  }
  for (const l of output)
    if (!inputs.some((t) => t.includes(l)))
      throw new NodeProblem(`the output letter "${l}" of "${equation}" is in no input`, 'invalid-graph');
  if (new Set(output).size !== output.length)
    throw new NodeProblem(`the output of "${equation}" repeats a letter`, 'invalid-graph');
  return { inputs, output };
}

/** The size of each letter, checked to agree across operands. */
function letterSizes(ctx: NodeContext, ops: Labeled[]): Map<string, Size> {
  const sizes = new Map<string, Size>();
  for (const { value, letters } of ops)
    letters.forEach((l, i) => {
      const d = value.dims[i];
      const known = sizes.get(l);
      if (known === undefined) sizes.set(l, d);
      else if (!sameSize(known, d)) ctx.require(known, d, `the axes labelled "${l}" differ in size`);
    });
  return sizes;
}

/** Transpose a labelled tensor to the given letter order (no step when it is already in it). */
function permute(ctx: NodeContext, t: Labeled, order: string[]): Labeled {
  if (order.every((l, i) => t.letters[i] === l)) return t;
  const s = stridesOf(t.value.dims);
  const perm = order.map((l) => t.letters.indexOf(l));
  const value = stridedCopy(
    ctx,
    t.value,
    perm.map((p) => t.value.dims[p]),
    perm.map((p) => s[p]),
    0,
  );
  return { value, letters: order };
}

/** Repeated letters in one operand: its diagonal, as a strided view (one axis per letter). */
function diagonal(ctx: NodeContext, t: Labeled): Labeled {
  const unique = [...new Set(t.letters)];
  if (unique.length === t.letters.length) return t;
  const s = stridesOf(t.value.dims);
  const strides = unique.map((l) => t.letters.reduce<Size>((acc, m, i) => (m === l ? add(acc, s[i]) : acc), 0));
  const dims = unique.map((l) => t.value.dims[t.letters.indexOf(l)]);
  return { value: stridedCopy(ctx, t.value, dims, strides, 0), letters: unique };
}

/** Sum out `drop` letters: transposed to the end, one reduce_sum call. */
function sumOut(ctx: NodeContext, t: Labeled, drop: string[]): Labeled {
  if (!drop.length) return t;
  const keep = t.letters.filter((l) => !drop.includes(l));
  const p = permute(ctx, t, [...keep, ...drop]);
  const dims = keep.map((l) => p.value.dims[p.letters.indexOf(l)]);
  const y = ctx.newValue(dims);
  const len = product(drop.map((l) => p.value.dims[p.letters.indexOf(l)]));
  ctx.program.addStep(
    'reduce_sum',
    () => ({ x: buf(p.value), y: buf(y), outer: i32(product(dims)), len: i32(len), inner: i32(1) }),
    [p.value],
    [y],
  );
  return { value: y, letters: keep };
}

/** a · b over their shared letters: batch letters kept (needed later), contracted ones summed. */
function contract(ctx: NodeContext, a: Labeled, b: Labeled, later: Set<string>): Labeled {
  const shared = a.letters.filter((l) => b.letters.includes(l));
  const batch = shared.filter((l) => later.has(l));
  const summed = shared.filter((l) => !later.has(l));
  const freeA = a.letters.filter((l) => !shared.includes(l));
  const freeB = b.letters.filter((l) => !shared.includes(l));
  const pa = permute(ctx, a, [...batch, ...freeA, ...summed]);
  const pb = permute(ctx, b, [...batch, ...summed, ...freeB]);
  const size = (t: Labeled, ls: string[]) => product(ls.map((l) => t.value.dims[t.letters.indexOf(l)]));
  const letters = [...batch, ...freeA, ...freeB];
  const dimOf = (l: string) => {
    const t = a.letters.includes(l) ? pa : pb;
    return t.value.dims[t.letters.indexOf(l)];
  };
  const dims = letters.map(dimOf);
  const y = ctx.newValue(dims);
  ctx.program.addStep(
    'matmul',
    () => ({
      a: buf(pa.value),
      b: buf(pb.value),
      c: buf(y),
      batches: i32(size(pa, batch)),
      M: i32(size(pa, freeA)),
      N: i32(size(pb, freeB)),
      K: i32(size(pa, summed)),
      bPeriod: i32(0),
    }),
    [pa.value, pb.value],
    [y],
  );
  return { value: y, letters };
}

const einsum: OpHandler = {
  inputs: '...Inputs',
  lower(ctx) {
    const values = Array.from({ length: ctx.inputCount }, (_, i) => {
      const v = ctx.input(i)!;
      return v.kind === 'const' ? constantAs(ctx, v.tensor, v.tensor.dims) : ctx.rt(i);
    });
    const eq = parse(
      ctx.string('equation', ''),
      values.map((v) => v.dims.length),
    );
    let ops: Labeled[] = values.map((value, i) => ({ value, letters: eq.inputs[i] }));
    letterSizes(ctx, ops);
    ops = ops.map((t) => diagonal(ctx, t));
    // Letters only one operand has and the output does not: summed out at once.
    ops = ops.map((t, i) => {
      const elsewhere = new Set([...eq.output, ...ops.filter((_, j) => j !== i).flatMap((o) => o.letters)]);
      return sumOut(
        ctx,
        t,
        t.letters.filter((l) => !elsewhere.has(l)),
      );
    });
    let acc = ops[0];
    for (let i = 1; i < ops.length; i++) {
      const later = new Set([...eq.output, ...ops.slice(i + 1).flatMap((o) => o.letters)]);
      acc = contract(ctx, acc, ops[i], later);
      acc = sumOut(
        ctx,
        acc,
        acc.letters.filter((l) => !later.has(l)),
      );
    }
    acc = sumOut(
      ctx,
      acc,
      acc.letters.filter((l) => !eq.output.includes(l)),
    );
    const out = permute(ctx, acc, eq.output);
    if (out.value.dims.length !== eq.output.length)
      throw new NodeProblem(`internal error: Einsum gave ${shapeToString(out.value.dims)}`);
    ctx.output(0, out.value);
  },
};

export const EINSUM_OPS: Record<string, OpHandler> = { Einsum: einsum };
