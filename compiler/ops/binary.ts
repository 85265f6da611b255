import type { FamilyKernel } from '../abi/kernels.js';
import type { NodeContext } from '../lowering/context.js';
import { sameSizes, type Size } from '../shape/size.js';
import { NodeProblem } from '../errors.js';
import { stridedView, stridesOf as tensorStrides } from '../tensor.js';
import { physicalDims, physicalPerm, toPlain } from '../lowering/layout.js';
import {
  buf,
  countArg,
  data,
  i32,
  type ConstValue,
  type EpilogueOp,
  type PtrArg,
  type RtValue,
  type ShapeValue,
  type Value,
} from '../program.js';
import { broadcastOf, operandOf, type Operand } from './elementwise.js';

/**
 * The float32 binary kernels with numpy broadcasting (assembly/binary.ts): one broadcasting call each,
 * channels-last images kept so, a constant per-column operand marked for the GEMM epilogue; shape
 * arithmetic on sizes; floats from other run-time types. The ops themselves are in arithmetic.ts,
 * compare.ts and logical.ts.
 */

/**
 * An op on two integer vectors/scalars of which at least one is a shape value (sizes known up to
 * symbols): the elementwise result as sizes, or undefined when it cannot stay symbolic.
 */
export function foldSizes(a: Value, b: Value, f: (a: Size, b: Size) => Size | undefined): ShapeValue | undefined {
  if (a.kind === 'rt' || b.kind === 'rt' || (a.kind !== 'shape' && b.kind !== 'shape')) return undefined;
  const sizesOf = (v: ShapeValue | ConstValue): Size[] | undefined =>
    v.kind === 'shape' ? v.values : v.tensor.isFloat ? undefined : Array.from(v.tensor.numbers);
  const [va, vb] = [sizesOf(a), sizesOf(b)];
  const [da, db] = [dimsOf(a) as number[], dimsOf(b) as number[]];
  if (!va || !vb || da.length > 1 || db.length > 1) return undefined;
  const n = Math.max(va.length, vb.length);
  if ((va.length !== n && va.length !== 1) || (vb.length !== n && vb.length !== 1)) return undefined;
  const values: Size[] = [];
  for (let i = 0; i < n; i++) {
    const r = f(va[va.length === 1 ? 0 : i], vb[vb.length === 1 ? 0 : i]);
    if (r === undefined) return undefined;
    values.push(r);
  }
  return { kind: 'shape', dims: da.length || db.length ? [n] : [], values };
}

/**
 * One broadcasting binary kernel call on float32 (or int32) operands. The kernel walks an i32 table
 * [R, dims, a strides, b strides] whose dim 0 is given as its `rows` argument; the table is written at run
 * time when sizes are symbolic.
 */
export function lowerBinary(
  ctx: NodeContext,
  kernel: FamilyKernel<'binary'>,
  a: Value,
  b: Value,
  dtype: 'float32' | 'int32' = 'float32',
): RtValue {
  const nhwc = [a, b].filter((v): v is RtValue => v.kind === 'rt' && v.layout === 'nhwc');
  if (nhwc.length) {
    const rank = nhwc[0].dims.length;
    const allChannelsLast = [a, b].every((v) =>
      v.kind === 'const'
        ? v.tensor.dims.length <= rank
        : v.kind === 'rt' && v.layout === 'nhwc' && v.dims.length === rank,
    );
    if (allChannelsLast) {
      // Broadcast in memory order: constants are permuted like the images ([C,1,1] → [1,1,1,C]).
      const perm = physicalPerm(rank);
      const physical = (v: Value): Value => {
        if (v.kind === 'rt') return { ...v, dims: physicalDims(v.dims), layout: undefined };
        const t = (v as ConstValue).tensor;
        const full = t.reshape([...new Array(rank - t.dims.length).fill(1), ...t.dims]);
        const strides = tensorStrides(full.dims);
        return {
          kind: 'const',
          tensor: stridedView(
            full,
            perm.map((p) => full.dims[p]),
            perm.map((p) => strides[p]),
            0,
          ),
        };
      };
      const y = lowerBinary(ctx, kernel, physical(a), physical(b), dtype);
      const logical = [y.dims[0], y.dims[rank - 1], ...y.dims.slice(1, rank - 1)];
      return { ...y, dims: logical, layout: 'nhwc' };
    }
    a = a.kind === 'rt' ? toPlain(ctx.program, a) : a;
    b = b.kind === 'rt' ? toPlain(ctx.program, b) : b;
  }
  const [x, z] = [operandOf(ctx, a, dtype), operandOf(ctx, b, dtype)];
  const bc = broadcastOf(ctx, [x, z]);
  const reusable = [x, z].find((v): v is RtValue => v.kind === 'rt' && v.dtype === dtype && sameSizes(v.dims, bc.out));
  const y = { ...ctx.inPlaceOr(reusable, bc.out, dtype), rowAxis: bc.rowAxis };
  const ptr = (v: Operand): PtrArg => (v.kind === 'rt' ? buf(v) : v.ptr);
  const [argA, argB] = [ptr(x), ptr(z)];
  const step = ctx.program.addStep(
    kernel,
    () => ({ a: argA, b: argB, y: buf(y), rows: i32(bc.rows), table: bc.table }),
    [x, z].filter((v): v is RtValue => v.kind === 'rt'),
    [y],
  );
  step.fusable = columnAffine(kernel, a, b, bc.out);
  return y;
}

const dimsOf = (v: Value): Size[] => (v.kind === 'const' ? v.tensor.dims : v.dims);

/**
 * x + c, c + x, x − c, x · c or c · x with a constant c that varies only along x's last axis (or not at all):
 * a per-column affine map a GEMM's epilogue can apply instead, when x is its output (compiler/fuse.ts).
 * A channels-last image reaches here in memory order, its channels last.
 */
function columnAffine(kernel: FamilyKernel<'binary'>, a: Value, b: Value, out: Size[]): EpilogueOp | undefined {
  if (kernel !== 'binary_add' && kernel !== 'binary_sub' && kernel !== 'binary_mul') return undefined;
  const [x, c] =
    a.kind === 'rt' && b.kind === 'const'
      ? [a, b.tensor]
      : kernel !== 'binary_sub' && b.kind === 'rt' && a.kind === 'const'
        ? [b, a.tensor]
        : [null, null];
  if (!x || !c || x.dtype !== 'float32' || x.layout || !c.isFloat) return undefined;
  if (!sameSizes(x.dims, out)) return undefined; // x itself broadcast
  const channels = x.dims[x.dims.length - 1];
  if (typeof channels !== 'number') return undefined;
  const aligned = [...new Array(Math.max(x.dims.length - c.dims.length, 0)).fill(1), ...c.dims];
  const alongLast = c.dims.length <= x.dims.length && aligned[aligned.length - 1] === c.size;
  if (c.size !== 1 && !(c.size === channels && alongLast)) return undefined;
  const values = c.toFloat32();
  const column = Float32Array.from({ length: channels }, (_, j) => values[c.size === 1 ? 0 : j]);
  if (kernel === 'binary_mul') return { kind: 'affine', scale: column, bias: null, channels };
  return { kind: 'affine', scale: null, bias: kernel === 'binary_sub' ? column.map((v) => -v) : column, channels };
}

/** A run-time value as float32: integers and booleans convert, class indices become their class values. */
export function asFloat(ctx: NodeContext, x: RtValue): RtValue {
  if (x.dtype === 'float32') return x;
  const y = { ...ctx.newValue(x.dims), rowAxis: x.rowAxis };
  const cats = x.categories;
  const n = countArg(x);
  if (cats && cats.some((c, i) => c !== i)) {
    if (cats.some((c) => typeof c === 'string')) throw new NodeProblem('string class labels cannot be used as numbers');
    const table = ctx.program.addFloats(Float32Array.from(cats as number[]));
    ctx.program.addStep('lookup_f32', () => ({ idx: buf(x), table: data(table), y: buf(y), n }), [x], [y]);
    return y;
  }
  const kernel = ({ int32: 'cast_i32_f32', int64: 'cast_i64_f32', uint8: 'cast_u8_f32', int8: 'cast_i8_f32' } as const)[
    x.dtype
  ];
  ctx.program.addStep(kernel, () => ({ x: buf(x), y: buf(y), n }), [x], [y]);
  return y;
}
