// vision.html: a sketch pad feeding the digits CNN (with a view of the 8×8 input it sends), and an
// image classifier with sample pictures drawn here.
import '../components/index.js';
import type { MlImageClassifier, MlSketchPad } from '../components/index.js';

const pad = document.querySelector<MlSketchPad>('#pad')!;
const seen = document.querySelector<HTMLCanvasElement>('#seen')!;
const colors = document.querySelector<MlImageClassifier>('#colors')!;

// ---- what the model sees: the pad's 8×8 input, ink dark ------------------------------------------------
const seenCtx = seen.getContext('2d')!;
const seenImage = seenCtx.createImageData(8, 8);
pad.addEventListener('ml-sketch', (e) => {
  const { pixels } = e.detail;
  for (let i = 0; i < 64; i++) {
    const v = Math.round(255 * (1 - Math.min(1, Math.max(0, pixels[i])))); // 1 = full ink
    seenImage.data.set([v, v, v, 255], i * 4);
  }
  seenCtx.putImageData(seenImage, 0, 0);
});

// ---- sample pictures for the colour classifier ------------------------------------------------------
const SAMPLES: [string, string][] = [
  ['Red square', 'rgb(220,30,30)'],
  ['Green square', 'rgb(30,200,40)'],
  ['Blue square', 'rgb(30,50,220)'],
  ['Yellow square', 'rgb(230,220,30)'],
];
const samples = document.querySelector('#samples')!;
for (const [name, colour] of SAMPLES) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = name;
  button.addEventListener('click', () => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 96;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = 'rgb(110,110,110)';
    ctx.fillRect(0, 0, 96, 96);
    ctx.fillStyle = colour;
    const s = 36 + Math.floor(Math.random() * 30);
    const x = Math.floor(Math.random() * (96 - s));
    const y = Math.floor(Math.random() * (96 - s));
    ctx.fillRect(x, y, s, s);
    colors.alt = `${name} on grey`;
    colors.image = canvas;
  });
  samples.append(button);
}

colors.addEventListener('ml-load', (e) => {
  const { meta } = e.detail;
  const p = meta.preprocessing!;
  document.querySelector('#colors-info')!.textContent =
    `${(meta.weightBytes / 1024).toFixed(1)} KB of weights · input ${p.width}×${p.height} ${p.channels} ${p.layout}, mean ${p.mean.join('/')}, std ${p.std.join('/')} · ops ${meta.ops.join(', ')}`;
});
