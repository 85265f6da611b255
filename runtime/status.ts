import { STATUS } from './abi.js';
import { ModelError } from './errors.js';
import type { ModelMeta } from './meta.js';

/** The error a model's run() reported through its status record (runtime/abi.ts), in words a caller can act on. */
export function statusError(meta: ModelMeta, header: Int32Array, code: number): ModelError {
  const [, a, b, c, d, e] = header;
  const input = meta.inputs[a];
  const dim = input?.shape[b];
  const where = input
    ? `Input "${input.name}" dimension ${b}${typeof dim === 'string' ? ` (${dim})` : ''}`
    : `Input ${a}`;
  switch (code) {
    case STATUS.DIM_MISMATCH:
      return new ModelError('shape-mismatch', `${where} must be ${c}, not ${d}.`);
    case STATUS.OUT_OF_BOUNDS:
      return new ModelError(
        'shape-out-of-bounds',
        `${where} is ${d}; the model was compiled for ${e}..${c}. Compile it with --dim ${dim ?? '…'}=..${Math.max(c, d)} to allow it.`,
      );
    case STATUS.DIM_INCONSISTENT:
      return new ModelError('shape-mismatch', `${where} is ${d}, but another input gave ${dim ?? 'it'} the size ${c}.`);
    case STATUS.CHECK_FAILED:
      return new ModelError(
        'shape-mismatch',
        `The inputs' sizes do not fit together: ${meta.checks?.[a] ?? 'a run-time check failed'} (${c} ≠ ${d}).`,
      );
    case STATUS.COMPUTED_OUT_OF_BOUNDS: {
      const s = meta.symbols.find((x) => x.kind === 'computed' && meta.symbols.indexOf(x) === a);
      // A negative size: the data gives one (a Resize's sizes), or a kernel refuses a value (NMS's iou_threshold).
      if (d < 0)
        return new ModelError(
          'bad-input',
          s?.name.startsWith('selected')
            ? `An input holds a value NonMaxSuppression refuses: it needs an iou_threshold in [0, 1].`
            : `A size the model computes from its inputs' data${s ? ` (${s.name})` : ''} is ${d}: a size cannot be negative. Check the data that gives it.`,
        );
      return new ModelError(
        'shape-out-of-bounds',
        `A size the model computes${s ? ` (${s.name})` : ''} is ${d}, beyond the ${c} it was compiled for${s ? `: compile it with --dim ${s.name}=..${d}` : ''}.`,
      );
    }
    case STATUS.VALUE_INVALID: {
      const message = meta.checks?.[a] ?? 'an input holds a value the model cannot use (entry {index})';
      const filled = message
        .replaceAll('{index}', String(b))
        .replaceAll('{lo}', String(c))
        .replaceAll('{hi}', String(d));
      return new ModelError('bad-input', `${filled}.`);
    }
    default:
      return new ModelError('bad-meta', `The model's run() returned the unknown status ${code}.`);
  }
}
