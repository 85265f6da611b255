// Which input columns a model one-hot encodes, for the `features` metadata of its inputs: forms map a
// `<select>` to the categories the encoder knows. Follows each input column through the column picks
// converters emit before an encoder (skl2onnx's ColumnTransformer: ArrayFeatureExtractor, Gather on
// axis 1, Cast) to `ai.onnx.ml` OneHotEncoder nodes with integer categories, or to the LabelEncoder an
// OrdinalEncoder exports as.
import type { FeatureMeta } from '../runtime/meta.js';
import type { OnnxModel } from './onnx.js';
import { Tensor } from './tensor.js';

/** A value's last-axis positions as [input index, column] of the graph inputs (-1: not a plain input column). */
type Columns = [number, number][];

/** Per graph input (by position), per column: the encoder's categories, or null. Undefined when there are none. */
export function categoricalFeatures(
  model: OnnxModel,
  inputNames: string[],
  widths: number[],
): ((FeatureMeta | null)[] | undefined)[] {
  const g = model.graph;
  const constants = new Map<string, Tensor>(g.initializers);
  for (const n of g.nodes) {
    const v = n.attrs.get('value');
    if (n.opType === 'Constant' && v instanceof Tensor) constants.set(n.outputs[0], v);
  }
  const columns = new Map<string, Columns>();
  inputNames.forEach((name, i) =>
    columns.set(
      name,
      Array.from({ length: widths[i] }, (_, c) => [i, c] as [number, number]),
    ),
  );
  const found: ((FeatureMeta | null)[] | undefined)[] = inputNames.map(() => undefined);

  const pick = (source: Columns, indicesName: string): Columns | undefined => {
    const t = constants.get(indicesName);
    if (!t || Array.isArray(t.data)) return undefined;
    const out: Columns = [];
    for (const i of Array.from(t.numbers)) {
      const c = source[i < 0 ? source.length + i : i];
      if (!c) return undefined;
      out.push(c);
    }
    return out;
  };

  for (const n of g.nodes) {
    const source = columns.get(n.inputs[0]);
    if (!source) continue;
    const ml = n.domain === 'ai.onnx.ml';
    let out: Columns | undefined;
    if (ml && n.opType === 'ArrayFeatureExtractor') out = pick(source, n.inputs[1]);
    else if (!ml && n.opType === 'Gather' && [1, -1].includes(Number(n.attrs.get('axis') ?? 0)))
      out = pick(source, n.inputs[1]);
    else if (!ml && (n.opType === 'Cast' || n.opType === 'Identity')) out = source;
    else if (ml && n.opType === 'OneHotEncoder') {
      const cats = n.attrs.get('cats_int64s');
      if (!Array.isArray(cats) || !cats.length || typeof cats[0] !== 'number') continue;
      const unknown = Number(n.attrs.get('zeros') ?? 1) === 1 ? 'ignore' : 'error';
      for (const [input, column] of source) {
        const list = (found[input] ??= new Array(widths[input]).fill(null));
        list[column] = { categories: (cats as number[]).slice(), unknown };
      }
    } else if (ml && n.opType === 'LabelEncoder') {
      // skl2onnx's OrdinalEncoder: one LabelEncoder per column, its keys the categories in code order; an
      // unknown value takes the default code (the encoder itself would have refused it)
      const keys = n.attrs.get('keys_floats') ?? n.attrs.get('keys_int64s');
      if (!Array.isArray(keys) || !keys.length || typeof keys[0] !== 'number' || source.length !== 1) continue;
      const [input, column] = source[0];
      (found[input] ??= new Array(widths[input]).fill(null))[column] = {
        categories: (keys as number[]).slice(),
        unknown: 'error',
      };
    }
    if (out) columns.set(n.outputs[0], out);
  }
  return found;
}
