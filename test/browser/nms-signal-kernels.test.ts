// The kernels with computed output sizes (assembly/nms.ts, assembly/signal.ts) through the ABI table: the
// count they write into their slot, and that they never write past the bound they are given (canaries),
// with references written from the ONNX definitions on cases whose answer the definition settles
// (disjoint or nested boxes, window values, the mel filterbank's triangle peaks). Their full agreement with
// onnxruntime is tested in test/node/nms-ort.test.mjs and signal-ort.test.mjs. Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import { CANARY, TAIL, call } from './kernel-harness.js';
import { describeEachBuild, expectFloats } from './resample-harness.js';

describeEachBuild('NonMaxSuppression and signal kernels', (env) => {
  /** Boxes [1, S, 4] in corner format, scores [1, 1, S]; returns the selected box indices and the count. */
  function nms(boxes: number[][], scores: number[], maxPerClass: number, iou: number, bound: number) {
    const { k, arena } = env;
    arena.reset();
    const S = scores.length;
    const rows = arena.outBytes(bound * 24);
    const count = arena.putI32([CANARY]);
    call(k, 'non_max_suppression', {
      boxes: arena.put(boxes.flat()),
      scores: arena.put(scores),
      maxPerClass: arena.putTyped(BigInt64Array.of(BigInt(maxPerClass))),
      iou: arena.put([iou]),
      scoreThreshold: 0,
      y: rows,
      count,
      scratch: arena.out(3 * S),
      B: 1,
      C: 1,
      S,
      centerPointBox: 0,
      maxBytes: 8,
      bound,
    });
    const n = arena.i32(count, 1)[0];
    const written = Math.max(0, Math.min(n, bound));
    const got = arena.view(BigInt64Array, rows, written * 3);
    const tail = new Uint8Array(k.memory.buffer, rows + written * 24, (bound - written) * 24 + TAIL * 4);
    expect(
      tail.every((b) => b === 0xa5),
      'nothing written past the rows it counts within the bound',
    ).to.equal(true);
    return { n, boxes: Array.from({ length: written }, (_, i) => Number(got[i * 3 + 2])) };
  }

  // Disjoint unit squares: nothing suppresses anything, so the selection is every box by falling score.
  const disjoint = [0, 1, 2, 3, 4].map((i) => [0, 2 * i, 1, 2 * i + 1]);
  const scores = [0.2, 0.9, 0.5, 0.7, 0.1];

  it('disjoint boxes: all of them by falling score, max_output_boxes_per_class limiting them', () => {
    expect(nms(disjoint, scores, 10, 0.5, 16)).to.deep.equal({ n: 5, boxes: [1, 3, 2, 0, 4] });
    expect(nms(disjoint, scores, 2, 0.5, 16)).to.deep.equal({ n: 2, boxes: [1, 3] });
    expect(nms(disjoint, scores, 0, 0.5, 16)).to.deep.equal({ n: 0, boxes: [] });
  });

  it('a box inside a higher-scoring one with IoU 0.25: suppressed above threshold 0.2, kept at 0.3', () => {
    const boxes = [
      [0, 0, 2, 2],
      [0, 0, 1, 1],
    ];
    expect(nms(boxes, [0.9, 0.8], 10, 0.2, 4)).to.deep.equal({ n: 1, boxes: [0] });
    expect(nms(boxes, [0.9, 0.8], 10, 0.3, 4)).to.deep.equal({ n: 2, boxes: [0, 1] });
  });

  it('more selected rows than the bound: the true count, and only `bound` rows written', () => {
    expect(nms(disjoint, scores, 10, 0.5, 3)).to.deep.equal({ n: 5, boxes: [1, 3, 2] });
    expect(nms(disjoint, scores, 10, 0.5, 0)).to.deep.equal({ n: 5, boxes: [] });
  });

  it('an IoU threshold outside [0, 1]: count −1 and no rows', () => {
    expect(nms(disjoint, scores, 10, 1.5, 8)).to.deep.equal({ n: -1, boxes: [] });
    expect(nms(disjoint, scores, 10, NaN, 8)).to.deep.equal({ n: -1, boxes: [] });
  });

  function window(size: number, a: number[], periodic: boolean, bound: number) {
    const { k, arena } = env;
    arena.reset();
    const y = arena.out(bound);
    const count = arena.putI32([CANARY]);
    call(k, 'cosine_window', {
      size: arena.putTyped(BigInt64Array.of(BigInt(size))),
      y,
      count,
      sizeBytes: 8,
      bound,
      a0: a[0],
      a1: a[1],
      a2: a[2],
      periodic: periodic ? 1 : 0,
    });
    return { n: arena.i32(count, 1)[0], y };
  }

  it('Hann and Blackman windows: a0 − a1·cos(2πn/N) + a2·cos(4πn/N), periodic N = size, symmetric size − 1', () => {
    for (const [a, periodic, size] of [
      [[0.5, 0.5, 0], true, 16],
      [[0.5, 0.5, 0], false, 9],
      [[0.42, 0.5, 0.08], true, 33],
      [[0.42, 0.5, 0.08], false, 7],
    ] as [number[], boolean, number][]) {
      const { n, y } = window(size, a, periodic, 64);
      expect(n).to.equal(size);
      const N = periodic ? size : size - 1;
      const t = (2 * Math.PI) / N;
      const ref = Array.from({ length: size }, (_, i) => a[0] - a[1] * Math.cos(t * i) + a[2] * Math.cos(2 * t * i));
      // onnxruntime's π is 3.14159265: within 1e-7 of the true window
      expectFloats(env.arena, y, ref, 1e-6, 2e-7, `window ${size}`);
      for (let i = size; i < 64 + TAIL; i++)
        if (env.arena.f32(y, 64 + TAIL)[i] !== CANARY) expect.fail(`wrote y[${i}]`);
    }
  });

  it('a window longer than the bound: the count, nothing written; a negative size: −1', () => {
    for (const [size, want] of [
      [65, 65],
      [-2, -1],
    ]) {
      const { n, y } = window(size, [0.5, 0.5, 0], true, 64);
      expect(n).to.equal(want);
      expect(Array.from(env.arena.f32(y, 64 + TAIL)).every((v) => v === CANARY)).to.equal(true);
    }
  });

  it('MelWeightMatrix: [floor(dft/2) + 1, mels], every band a triangle peaking at 1; beyond the bounds nothing', () => {
    const { k, arena } = env;
    const run = (
      mels: number,
      dft: number,
      rate: number,
      lo: number,
      hi: number,
      rowBound: number,
      colBound: number,
    ) => {
      arena.reset();
      const y = arena.out(rowBound * colBound);
      const [rows, cols] = [arena.putI32([CANARY]), arena.putI32([CANARY])];
      call(k, 'mel_weight_matrix', {
        mels: arena.putTyped(BigInt64Array.of(BigInt(mels))),
        dft: arena.putTyped(BigInt64Array.of(BigInt(dft))),
        rate: arena.putTyped(BigInt64Array.of(BigInt(rate))),
        lower: arena.put([lo]),
        upper: arena.put([hi]),
        y,
        rows,
        cols,
        scratch: arena.out(colBound + 2),
        melsBytes: 8,
        dftBytes: 8,
        rateBytes: 8,
        rowBound,
        colBound,
      });
      return { rows: arena.i32(rows, 1)[0], cols: arena.i32(cols, 1)[0], y };
    };
    const got = run(10, 64, 16000, 20, 8000, 40, 16);
    expect([got.rows, got.cols]).to.deep.equal([33, 10]);
    const w = arena.f32(got.y, 33 * 10 + TAIL);
    for (let band = 0; band < 10; band++) {
      const column = Array.from({ length: 33 }, (_, j) => w[j * 10 + band]);
      expect(Math.max(...column), `band ${band} peaks at 1`).to.equal(1);
      expect(column.every((v) => v >= 0 && v <= 1)).to.equal(true);
    }
    for (let t = 0; t < TAIL; t++) expect(w[330 + t]).to.equal(CANARY);
    const over = run(10, 64, 16000, 20, 8000, 32, 16);
    expect([over.rows, over.cols]).to.deep.equal([33, 10]);
    expect(Array.from(arena.f32(over.y, 32 * 16)).every((v) => v === CANARY)).to.equal(true);
    const refused = run(10, 64, 8000, 0, 6000, 40, 16);
    expect([refused.rows, refused.cols]).to.deep.equal([-1, -1]);
  });
});
