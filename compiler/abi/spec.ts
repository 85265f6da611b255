/** The shape of a kernel table entry (compiler/abi/kernels.ts), and builders for parameter lists. */

/** A byte address in linear memory (usize), an i32, an f32. */
export type ParamKind = 'ptr' | 'i32' | 'f32';
export type Param = readonly [name: string, kind: ParamKind];

export interface KernelSpec {
  /** assembly/<module>.ts: where it (or its family's implementation) is written. */
  readonly module: string;
  readonly params: readonly Param[];
  /** A kernel that returns a value: checks, and kernels that validate their data (Step.valueCheck). */
  readonly returns?: 'i32';
  /**
   * A kernel that checks its data (Step.valueCheck): the result meaning every entry is valid; any other is
   * the first invalid entry's position plus `valid + 1` (−1, the default: the position itself).
   */
  readonly valid?: -1 | 0;
  /** Generated kernels: the family whose implementation it calls with its own op code. */
  readonly family?: Family;
}

/** Families of generated one-line kernels: `family_op(params) { impl(OP_CODE, params) }`. */
export type Family = 'unary' | 'binary' | 'reduce';

export const ptr = (name: string): Param => [name, 'ptr'];
export const i32 = (name: string): Param => [name, 'i32'];
export const f32 = (name: string): Param => [name, 'f32'];

/** A convolution or pooling window: kernel, strides, dilations, top/left pads, output size (H and W each). */
export const WINDOW = [
  i32('KH'),
  i32('KW'),
  i32('SH'),
  i32('SW'),
  i32('DH'),
  i32('DW'),
  i32('PT'),
  i32('PL'),
  i32('OH'),
  i32('OW'),
] as const;
