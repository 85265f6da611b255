import { NodeProblem } from '../errors.js';
import type { NodeContext } from '../lowering/context.js';
import { toPlain } from '../lowering/layout.js';
import { materialize } from '../lowering/materialize.js';
import type { OnnxGraph } from '../onnx.js';
import {
  buf,
  ELEMENT_BYTES,
  i32,
  onnxTypeOf,
  sizeOf,
  type Condition,
  type RtValue,
  type Storage,
  type Value,
} from '../program.js';
import { shapeToString } from '../shape/shapes.js';
import { isConst, mul, product, sameSize, symbolName, type Size } from '../shape/size.js';
import type { OpHandler } from './op.js';

/**
 * Control flow. If: a condition known at compile time (a constant, or an input fixed with --const) keeps
 * only the branch taken, inlined; otherwise both branches are compiled and the emitted code runs one.
 * Loop and Scan are in ./loop.ts.
 */

/** A graph attribute (a branch, a body). */
export function graphAttr(ctx: NodeContext, name: string): OnnxGraph {
  const g = ctx.attr(name);
  if (!g || typeof g !== 'object' || !('nodes' in g))
    throw new NodeProblem(`the "${name}" subgraph is missing`, 'invalid-graph');
  return g;
}

export function subgraphs(ctx: NodeContext) {
  if (!ctx.subgraphs) throw new Error('internal error: no subgraph lowering here');
  return ctx.subgraphs;
}

/** A scalar condition: true/false at compile time, or what the emitted code tests. */
export function conditionOf(ctx: NodeContext, v: Value, what: string): boolean | Condition {
  if (v.kind === 'const') {
    if (v.tensor.size !== 1)
      throw new NodeProblem(`${what} has ${v.tensor.size} values; it must be one`, 'invalid-graph');
    return v.tensor.numbers[0] !== 0;
  }
  if (v.kind === 'shape') {
    if (v.values.length !== 1)
      throw new NodeProblem(`${what} has ${v.values.length} values; it must be one`, 'invalid-graph');
    const s = v.values[0];
    return isConst(s) ? s !== 0 : { kind: 'size', size: s };
  }
  const n = product(v.dims);
  if (isConst(n) && n !== 1)
    throw new NodeProblem(`${what} has shape ${shapeToString(v.dims)}; it must hold one value`, 'invalid-graph');
  ctx.require(n, 1, `${what} must hold one value`);
  return { kind: 'value', value: toPlain(ctx.program, v) };
}

/** A subgraph's output as a plain run-time tensor (a constant one is copied from the data segment). */
export function plainValue(ctx: NodeContext, v: Value): RtValue {
  return v.kind === 'rt' ? toPlain(ctx.program, v) : materialize(ctx.program, v);
}

const SHORT = { float32: 'f32', int32: 'i32', int64: 'i64', uint8: 'u8', int8: 'i8' } as const;

/** `x` held as `storage` (a bool computed as 1/0 floats, written into a uint8 state): a cast, or x itself. */
export function asStorage(ctx: NodeContext, x: RtValue, storage: Storage): RtValue {
  if (x.dtype === storage) return x;
  const y: RtValue = { ...ctx.newValue(x.dims, storage), onnx: x.onnx ?? x.dtype, rowAxis: x.rowAxis };
  if (y.onnx === storage) y.onnx = undefined;
  const kernel = `cast_${SHORT[x.dtype]}_${SHORT[storage]}` as 'cast_f32_u8';
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n: i32(sizeOf(x)) }), [x], [y]);
  return y;
}

/** y := x, all its bytes. */
export function copyInto(ctx: NodeContext, x: RtValue, y: RtValue, at: Size = 0): void {
  if (x.buffer === y.buffer && sameSize(at, 0)) return;
  ctx.program.addStep(
    'copy',
    () => ({ x: buf(x), y: buf(y, at), nbytes: i32(mul(sizeOf(x), ELEMENT_BYTES[x.dtype])) }),
    [x],
    [y],
  );
}

const ifOp: OpHandler = {
  inputs: 'cond',
  lower(ctx) {
    const then = graphAttr(ctx, 'then_branch');
    const otherwise = graphAttr(ctx, 'else_branch');
    const cond = conditionOf(ctx, ctx.input(0)!, 'the condition');
    const lowerBranch = (g: OnnxGraph) => subgraphs(ctx).lower(g, []);
    if (typeof cond === 'boolean') {
      // Decided now: only the branch taken is compiled, and what it computes folds on from here.
      lowerBranch(cond ? then : otherwise).forEach((v, i) => ctx.output(i, v));
      return;
    }
    const chosen = subgraphs(ctx).choices.choice(ctx.node);
    if (chosen !== undefined) {
      guardBranch(ctx, cond, chosen);
      lowerBranch(chosen ? then : otherwise).forEach((v, i) => ctx.output(i, v));
      return;
    }
    const program = ctx.program;
    program.addControl({ op: 'if', cond }, cond.kind === 'value' ? [cond.value] : []);
    const a = lowerBranch(then).map((v) => plainValue(ctx, v));
    const elseStep = program.addControl({ op: 'else' });
    const b = lowerBranch(otherwise).map((v, i) =>
      a[i] ? asStorage(ctx, plainValue(ctx, v), a[i].dtype) : plainValue(ctx, v),
    );
    if (a.length !== b.length || a.length < ctx.node.outputs.length)
      throw new NodeProblem(
        `the branches have ${a.length} and ${b.length} outputs for the node's ${ctx.node.outputs.length}`,
        'invalid-graph',
      );
    // One output value per output, written by whichever branch runs; where the branches' sizes differ, the
    // size is set by the branch too.
    const outputs = a.map((x, i) => {
      const y = b[i];
      if (onnxTypeOf(x) !== onnxTypeOf(y))
        throw new NodeProblem(
          `output ${i} is ${onnxTypeOf(x)} in one branch and ${onnxTypeOf(y)} in the other`,
          'invalid-graph',
        );
      if (x.dims.length !== y.dims.length) {
        const ranks = `output ${i} has rank ${x.dims.length} in the then branch and ${y.dims.length} in the else branch`;
        // A later lowering compiles it for one branch (lowering/branch-choices.ts), unless none worked.
        throw new NodeProblem(
          subgraphs(ctx).choices.meet(ctx.node)
            ? `${ranks}; compiled for one branch at a time`
            : `${ranks}, and its condition is known only at run time. ml-widgets compiles such an If for one branch, but what follows it compiles with neither (the problems listed after this one are what fails with the branch first chosen); fix the sizes or inputs the condition reads (--dim, --const) to decide it at compile time`,
        );
      }
      const dims = x.dims.map((d, k) =>
        sameSize(d, y.dims[k])
          ? d
          : ctx.symbols.computed(
              `${ctx.node.name}:${i}[${k}]`,
              Math.max(ctx.symbols.upper(d), ctx.symbols.upper(y.dims[k])),
            ),
      );
      const out: RtValue = {
        ...ctx.newValue(dims, x.dtype),
        onnx: x.onnx,
        rowAxis: x.rowAxis === y.rowAxis ? x.rowAxis : undefined,
      };
      return out;
    });
    const finish = (branch: RtValue[]) =>
      outputs.forEach((out, i) => {
        out.dims.forEach((d, k) => {
          const name = symbolName(d);
          if (!sameSize(d, branch[i].dims[k]) && name)
            program.addControl({ op: 'set', symbol: name, value: branch[i].dims[k] });
        });
        copyInto(ctx, branch[i], out);
      });
    finish(b); // the else branch is last in the step list (its pending checks go with it)
    program.insertBefore(elseStep, () => finish(a));
    program.addControl({ op: 'end' });
    outputs.forEach((out, i) => ctx.output(i, out));
  },
};

/**
 * An If compiled for one branch (its branches' outputs differ in rank, and what follows takes only the
 * `chosen` one's): a call whose condition takes the other branch fails before the branch runs, with a
 * message naming the If, never computing with a shape the plan does not have.
 */
function guardBranch(ctx: NodeContext, cond: Condition, chosen: boolean): void {
  const program = ctx.program;
  const [taken, other] = chosen ? ['then', 'else'] : ['else', 'then'];
  program.addControl({ op: 'if', cond }, cond.kind === 'value' ? [cond.value] : []);
  if (chosen) program.addControl({ op: 'else' });
  program.requireBeforeNextStep(
    0,
    1,
    `If "${ctx.node.name}" takes its ${other} branch for these inputs, but the model was compiled for its ${taken} branch (the branches' outputs differ in rank, and what follows the If takes only the ${taken} branch's)`,
  );
  program.addControl({ op: 'end' });
}

export const CONTROL_OPS: Record<string, OpHandler> = { If: ifOp };
