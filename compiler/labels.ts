import { CompileError } from './errors.js';

export { labelCounts } from '../runtime/meta-check.js';

/**
 * Labels must name the model's classes one to one: two labels for a three-class model would show
 * "a, b, Class 2". `counts` are what the outputs can take (runtime/meta-check.ts `labelCounts`: the
 * classes, or a regressor's targets); empty when nothing can be checked (a symbolic size).
 */
export function checkLabels(labels: readonly string[] | undefined, counts: readonly number[], given: boolean): void {
  if (!labels || !counts.length || counts.includes(labels.length)) return;
  const from = given ? '--labels gives' : 'The ONNX metadata "labels" gives';
  throw new CompileError(
    'labels',
    `${from} ${labels.length} label${labels.length === 1 ? '' : 's'}, but the model's output has ${counts[0]} classes: give one label per class, in the order of the model's outputs.`,
  );
}
