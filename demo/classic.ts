// classic.html: example rows from the held-out sets fill the forms; model facts and an event log.
import '../components/index.js';
import type { MlClassifier, MlRegressor } from '../components/index.js';
import type { FeatureMeta } from '../runtime/index.js';

interface Sample {
  /** What the source library predicted for this row (a class label, or a value). */
  name: string;
  row: number[];
}
type Samples = Record<string, Sample[]>;

const log = document.querySelector<HTMLOutputElement>('#log')!;

/**
 * Put one row into a form's features in document order: number inputs, selects, radio groups. A select
 * whose options are named by text takes the option at the category's position in the model's encoder.
 */
function fill(form: HTMLFormElement, row: number[], features: (FeatureMeta | null)[] = []): void {
  let i = 0;
  const seen = new Set<string>();
  const same = (text: string, v: number) => text.trim() !== '' && Math.fround(Number(text)) === Math.fround(v);
  for (const el of Array.from(form.elements)) {
    if (el instanceof HTMLInputElement && el.type === 'radio') {
      if (seen.has(el.name)) continue;
      seen.add(el.name);
      const v = row[i++];
      form
        .querySelectorAll<HTMLInputElement>(`input[type=radio][name="${el.name}"]`)
        .forEach((r) => (r.checked = same(r.value, v)));
    } else if (el instanceof HTMLInputElement && el.type === 'number') {
      el.value = String(row[i++]);
    } else if (el instanceof HTMLSelectElement) {
      const column = i;
      const v = row[i++];
      const options = Array.from(el.options).filter((o) => o.value.trim() !== '');
      const option = options.find((o) => same(o.value, v)) ?? options[features[column]?.categories.indexOf(v) ?? -1];
      if (option) option.selected = true;
    }
  }
  form.dispatchEvent(new Event('change', { bubbles: true }));
}

function describe(el: HTMLElement, info: string): void {
  const started = performance.now();
  el.addEventListener('ml-load', (e) => {
    const { meta } = (e as CustomEvent).detail;
    document.querySelector(info)!.textContent =
      `Loaded in ${Math.round(performance.now() - started)} ms · ${(meta.weightBytes / 1024).toFixed(1)} KB of model data · ` +
      `ops ${meta.ops.join(', ')}`;
  });
}

const wine = document.querySelector<MlClassifier>('#wine')!;
const diabetes = document.querySelector<MlRegressor>('#diabetes')!;
const tips = document.querySelector<MlClassifier>('#tips');
describe(wine, '#wine-info');
describe(diabetes, '#diabetes-info');
if (tips) describe(tips, '#tips-info');

for (const type of ['ml-load', 'ml-prediction', 'ml-error'] as const) {
  document.addEventListener(type, (e) => {
    const who = (e.target as Element).id;
    const detail = (e as CustomEvent).detail;
    const what =
      type === 'ml-prediction'
        ? 'predictions' in detail
          ? detail.predictions[0]?.label
          : (e.target as MlRegressor).format(detail.value)
        : type === 'ml-error'
          ? detail.code
          : `${detail.meta.ops.length} ops`;
    log.textContent = `${type} from #${who} (${what})`;
  });
}

const samples: Samples = await fetch(new URL('./models/classic-samples.json', import.meta.url)).then((r) => r.json());
for (const [id, list] of Object.entries(samples)) {
  const box = document.querySelector(`#${id}-presets`);
  const form = document.querySelector<HTMLFormElement>(`#${id}-form`);
  if (!box || !form) continue;
  for (const sample of list) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = sample.name;
    const element = document.querySelector<MlClassifier | MlRegressor>(`[for="${form.id}"]`);
    button.addEventListener('click', () => fill(form, sample.row, element?.model?.meta.inputs[0].features));
    box.append(button);
  }
}
