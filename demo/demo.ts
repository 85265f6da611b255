// Demo page logic: iris presets, an 8×8 drawing pad feeding the digits classifier, an event log.
import '../components/index.js';
import type { MlClassifier } from '../components/index.js';

const iris = document.querySelector<MlClassifier>('#iris')!;
const digits = document.querySelector<MlClassifier>('#digits')!;
const form = document.querySelector<HTMLFormElement>('#iris-form')!;
const log = document.querySelector<HTMLOutputElement>('#log')!;

// ---- iris -------------------------------------------------------------------------------------------
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-iris]')) {
  button.addEventListener('click', () => {
    const values = button.dataset.iris!.split(',');
    const inputs = form.querySelectorAll<HTMLInputElement>('input');
    inputs.forEach((input, i) => (input.value = values[i]));
    form.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

const started = performance.now();
iris.addEventListener('ml-load', (e) => {
  const { meta } = e.detail;
  const kb = (meta.memoryBytes / 1024).toFixed(0);
  document.querySelector('#iris-info')!.textContent =
    `Loaded in ${Math.round(performance.now() - started)} ms · ${(meta.weightBytes / 1024).toFixed(1)} KB of weights · ops ${meta.ops.join(', ')} · ${kb} KB memory`;
});

// ---- digits: an 8×8 pad of 0–16 intensities -----------------------------------------------------------
const SIZE = 8;
const MAX = 16;
const pixels = new Uint8Array(SIZE * SIZE);
const features = new Float32Array(SIZE * SIZE);
const pad = document.querySelector<HTMLDivElement>('#pad')!;
const cells: HTMLButtonElement[] = [];
let focused = 0;

for (let i = 0; i < SIZE * SIZE; i++) {
  const cell = document.createElement('button');
  cell.type = 'button';
  cell.className = 'cell';
  cell.tabIndex = i === 0 ? 0 : -1; // one tab stop; arrows move inside the pad
  cell.dataset.index = String(i);
  cells.push(cell);
  pad.append(cell);
}

function paint(i: number, value: number): void {
  pixels[i] = value;
  const cell = cells[i];
  cell.style.setProperty('--ink', String(value / MAX));
  cell.setAttribute(
    'aria-label',
    `Row ${Math.floor(i / SIZE) + 1}, column ${(i % SIZE) + 1}: ${value === 0 ? 'blank' : `ink ${value} of ${MAX}`}`,
  );
}

function classify(): void {
  // A blank grid is no digit: no input, so the element shows no prediction.
  if (pixels.every((v) => v === 0)) {
    digits.input = undefined;
    return;
  }
  // The model was trained on scikit-learn's digits scaled to 0–1 (intensity / 16).
  for (let i = 0; i < pixels.length; i++) features[i] = pixels[i] / MAX;
  digits.input = new Float32Array(features); // a new array, so the element sees a change
}

function setAll(values: ArrayLike<number>): void {
  for (let i = 0; i < pixels.length; i++) paint(i, values[i]);
  classify();
}

// Drawing: dragging from a blank cell inks; from an inked cell erases. A soft edge makes strokes look
// like the scanned digits the model learned from. The cell under a point comes from the pad's geometry,
// so a stroke that starts or passes on a gap between cells still draws, and each move is interpolated
// from the last point, so a fast stroke leaves no cell out.
let drawing: number | undefined;
let last: { x: number; y: number } | undefined;
function paintCell(i: number): void {
  if (drawing === undefined) return;
  const r = Math.floor(i / SIZE);
  const c = i % SIZE;
  if (drawing > 0) {
    paint(i, MAX);
    for (const [dr, dc] of [
      [0, 1],
      [1, 0],
      [0, -1],
      [-1, 0],
    ]) {
      const rr = r + dr;
      const cc = c + dc;
      if (rr >= 0 && rr < SIZE && cc >= 0 && cc < SIZE) paint(rr * SIZE + cc, Math.max(pixels[rr * SIZE + cc], 6));
    }
  } else paint(i, 0);
}
/** The cell under a point (client pixels), nearest one for a point on a gap; undefined outside the grid. */
function cellAt(x: number, y: number): number | undefined {
  const first = cells[0].getBoundingClientRect();
  const end = cells[SIZE * SIZE - 1].getBoundingClientRect();
  const col = Math.floor(((x - first.left) / (end.right - first.left)) * SIZE);
  const row = Math.floor(((y - first.top) / (end.bottom - first.top)) * SIZE);
  if (col < -1 || row < -1 || col > SIZE || row > SIZE) return undefined;
  return Math.min(SIZE - 1, Math.max(0, row)) * SIZE + Math.min(SIZE - 1, Math.max(0, col));
}
/** Ink every cell along the segment from the last point to (x, y). */
function strokeTo(x: number, y: number): void {
  const from = last ?? { x, y };
  const cell = cells[0].getBoundingClientRect();
  const steps = Math.max(1, Math.ceil(Math.hypot(x - from.x, y - from.y) / (Math.min(cell.width, cell.height) / 3)));
  for (let k = 1; k <= steps; k++) {
    const i = cellAt(from.x + ((x - from.x) * k) / steps, from.y + ((y - from.y) * k) / steps);
    if (i !== undefined) paintCell(i);
  }
  last = { x, y };
  classify();
}
pad.addEventListener('pointerdown', (e) => {
  const i = cellAt(e.clientX, e.clientY);
  if (i === undefined) return;
  e.preventDefault();
  drawing = pixels[i] > MAX / 2 ? 0 : MAX;
  last = undefined;
  pad.setPointerCapture(e.pointerId);
  strokeTo(e.clientX, e.clientY);
});
pad.addEventListener('pointermove', (e) => {
  if (drawing === undefined) return;
  const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
  for (const ev of events.length ? events : [e]) strokeTo(ev.clientX, ev.clientY);
});
for (const type of ['pointerup', 'pointercancel']) pad.addEventListener(type, () => (drawing = last = undefined));

// Keyboard: arrows move, Space/Enter cycles blank → half → full ink.
pad.addEventListener('keydown', (e) => {
  const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -SIZE, ArrowDown: SIZE };
  if (e.key in moves) {
    const next = focused + moves[e.key];
    const sameRow = Math.abs(moves[e.key]) === SIZE || Math.floor(next / SIZE) === Math.floor(focused / SIZE);
    if (next >= 0 && next < SIZE * SIZE && sameRow) {
      cells[focused].tabIndex = -1;
      focused = next;
      cells[focused].tabIndex = 0;
      cells[focused].focus();
    }
    e.preventDefault();
  } else if (e.key === ' ' || e.key === 'Enter') {
    const i = Number((e.target as HTMLElement).dataset.index ?? focused);
    paint(i, pixels[i] === 0 ? MAX / 2 : pixels[i] < MAX ? MAX : 0);
    classify();
    e.preventDefault();
  }
});
pad.addEventListener('focusin', (e) => {
  const i = (e.target as HTMLElement).dataset.index;
  if (i !== undefined) focused = Number(i);
});

document.querySelector('#clear')!.addEventListener('click', () => setAll(new Uint8Array(SIZE * SIZE)));

// ---- event log ------------------------------------------------------------------------------------------
for (const type of ['ml-load', 'ml-prediction', 'ml-error'] as const) {
  document.addEventListener(type, (e) => {
    const who = (e.target as Element).id;
    const detail = (e as CustomEvent).detail;
    const what =
      type === 'ml-prediction'
        ? `${detail.predictions[0]?.label}`
        : type === 'ml-error'
          ? `${detail.code}`
          : `${detail.meta.ops.length} ops`;
    log.textContent = `${type} from #${who} (${what})`;
  });
}

// Sample digits from the held-out set (written by demo/build.mjs).
const samples: Record<string, number[]> = await fetch(new URL('./models/digit-samples.json', import.meta.url)).then(
  (r) => r.json(),
);
const sampleBox = document.querySelector('#samples')!;
for (const [digit, values] of Object.entries(samples)) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = digit;
  button.setAttribute('aria-label', `Load a sample ${digit}`);
  button.addEventListener('click', () => setAll(values));
  sampleBox.append(button);
}
setAll(samples['3'] ?? new Array(64).fill(0));
