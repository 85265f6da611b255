import type { Value } from '../program.js';

/**
 * Keeping track of the batch's rows (RtValue.rowAxis): an op that keeps them apart says on which axis its
 * output has them; anything else leaves them undefined (mixed), and the model then runs exactly as ONNX
 * declares it, never a batch split into chunks.
 */

/** The row axis of a value: constants and shapes never depend on the rows. */
export function rowsOf(v: Value): number | 'none' | undefined {
  return v.kind === 'rt' ? v.rowAxis : 'none';
}

/**
 * The row axis of an elementwise result over operands broadcast to `rank` dims: the operands' row axes,
 * aligned to the right, must agree (undefined if any operand's rows are mixed, or they disagree).
 */
export function broadcastRows(operands: Value[], rank: number): number | 'none' | undefined {
  let axis: number | 'none' = 'none';
  for (const v of operands) {
    const r = rowsOf(v);
    if (r === undefined) return undefined;
    if (r === 'none') continue;
    const at = r + rank - (v.kind === 'rt' ? v.dims.length : 0);
    if (axis !== 'none' && axis !== at) return undefined;
    axis = at;
  }
  return axis;
}

/** The row axis after an op removes `removed` axes and inserts nothing: undefined if it removed the rows'. */
export function rowsAfterRemoving(
  axis: number | 'none' | undefined,
  removed: readonly number[],
): number | 'none' | undefined {
  if (axis === undefined || axis === 'none') return axis;
  if (removed.includes(axis)) return undefined;
  return axis - removed.filter((a) => a < axis).length;
}
