import { buf, i32, type I32Arg, type Program, type RtValue } from '../program.js';
import { product, type Size } from '../shape/size.js';

/**
 * Image tensors run channels-last (NHWC) between convolutions: 1×1 convs are then exactly the packed
 * GEMM and depthwise convs vectorise over channels. Values keep their logical ONNX dims ([N, C, H, W]
 * or [N, C, L]); `layout: 'nhwc'` says memory holds them as [N, H, W, C]. Ops that are not
 * layout-aware get a plain copy, made once per value.
 */
const plainCopies = new WeakMap<RtValue, Copy>();
const SHARED = 1 << 30;
const nhwcCopies = new WeakMap<RtValue, Copy>();

/**
 * A layout copy, and the control epoch it was made in (Program.controlEpoch): a copy made inside an If
 * branch or a loop body (or before one) is not reused across the boundary, where it may not have run.
 */
interface Copy {
  value: RtValue;
  epoch: number;
}

function cached(cache: WeakMap<RtValue, Copy>, program: Program, x: RtValue): RtValue | undefined {
  const c = cache.get(x);
  return c && c.epoch === program.controlEpoch ? c.value : undefined;
}

/** Images × spatial size × channels of an image value [N, C, …spatial]. */
export function imageGeometry(x: RtValue): { images: I32Arg; C: Size; HW: Size } {
  return { images: i32(x.dims[0]), C: x.dims[1], HW: product(x.dims.slice(2)) };
}

/** The value in plain (NCHW) memory order. */
export function toPlain(program: Program, x: RtValue): RtValue {
  if (x.layout !== 'nhwc') return x;
  const { images, C, HW } = imageGeometry(x);
  if (HW === 1 || C === 1) return { ...x, layout: undefined }; // same bytes either way
  let y = cached(plainCopies, program, x);
  if (!y) {
    y = { ...program.newValue(x.dims, x.dtype), rowAxis: x.rowAxis };
    y.buffer.pendingReads = SHARED; // other consumers of x may read this copy later: never overwrite it
    const out = y;
    program.addStep('nhwc_to_nchw', () => ({ x: buf(x), y: buf(out), images, C: i32(C), HW: i32(HW) }), [x], [out]);
    plainCopies.set(x, { value: y, epoch: program.controlEpoch });
  }
  return y;
}

/** The value in channels-last memory order (for convolutions and pools). */
export function toNHWC(program: Program, x: RtValue): RtValue {
  if (x.layout === 'nhwc') return x;
  const { images, C, HW } = imageGeometry(x);
  if (HW === 1 || C === 1) return { ...x, layout: 'nhwc' };
  let y = cached(nhwcCopies, program, x);
  if (!y) {
    const out: RtValue = { ...program.newValue(x.dims, x.dtype), layout: 'nhwc', rowAxis: x.rowAxis };
    out.buffer.pendingReads = SHARED;
    program.addStep('nchw_to_nhwc', () => ({ x: buf(x), y: buf(out), images, C: i32(C), HW: i32(HW) }), [x], [out]);
    nhwcCopies.set(x, { value: out, epoch: program.controlEpoch });
    y = out;
  }
  return y;
}

/** Logical dims → memory order for an NHWC value: [k, C, …S] → [k, …S, C]. */
export const physicalDims = (dims: Size[]): Size[] => [dims[0], ...dims.slice(2), dims[1]];

/** Memory-order permutation of a logical axis list of an NHWC value. */
export const physicalPerm = (rank: number): number[] => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
