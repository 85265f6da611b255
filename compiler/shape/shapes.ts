import { isConst, mul, sameSize, sizeToString, type Size } from './size.js';

/** Shapes whose dimensions are sizes: strides, broadcasting, display. */

/** Row-major strides of a shape, in elements. */
export function stridesOf(dims: readonly Size[]): Size[] {
  const s = new Array<Size>(dims.length);
  let acc: Size = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc = mul(acc, dims[i]);
  }
  return s;
}

/** A size that must hold at run time: `a` equals `b` (checked before the step that relies on it). */
export interface SizeCheck {
  a: Size;
  b: Size;
  message: string;
}

/**
 * Numpy broadcast of two shapes, or null when they surely do not broadcast. Two different symbolic sizes
 * (or a symbol against a number other than 1) are taken to be equal, with a run-time check that says so
 * when they are not: a symbolic size that is 1 at run time, to broadcast, is not supported.
 */
export function broadcastShapes(a: readonly Size[], b: readonly Size[], checks?: SizeCheck[]): Size[] | null {
  const rank = Math.max(a.length, b.length);
  const out = new Array<Size>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (sameSize(da, db) || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (isConst(da) && isConst(db)) return null;
    else {
      // One side is symbolic: they must be equal at run time (a constant side decides the size).
      out[i] = isConst(db) ? db : da;
      checks?.push({
        a: da,
        b: db,
        message: `dimensions ${sizeToString(da)} and ${sizeToString(db)} must be equal to broadcast`,
      });
    }
  }
  return out;
}

/** Strides (elements) of `dims` read as if broadcast to `out`: 0 along broadcast axes. */
export function broadcastStrides(dims: readonly Size[], out: readonly Size[]): Size[] {
  const own = stridesOf(dims);
  const pad = out.length - dims.length;
  return out.map((o, i) => (i < pad || (dims[i - pad] === 1 && o !== 1) ? 0 : dims[i - pad] === 1 ? 0 : own[i - pad]));
}

export const shapeToString = (dims: readonly Size[]): string => `[${dims.map(sizeToString).join(', ')}]`;

/** The numbers of a shape whose sizes are all known, or null. */
export const staticDims = (dims: readonly Size[]): number[] | null => (dims.every(isConst) ? (dims as number[]) : null);
