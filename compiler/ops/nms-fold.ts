/**
 * NonMaxSuppression on constants: the same selection as the kernel (assembly/nms.ts), in the same f32
 * arithmetic (Math.fround after every operation) and the same heap order (equal scores by the lower box
 * index; libstdc++'s make_heap / pop_heap, which onnxruntime's std::priority_queue uses, for NaN scores).
 */

const f = Math.fround;
/** onnxruntime's MaxMin: lhs >= rhs decides. */
const lo = (a: number, b: number) => (a >= b ? b : a);
const hi = (a: number, b: number) => (a >= b ? a : b);
/** The intersection's max and min as onnxruntime's build computes them: NaN on either side gives NaN. */
const stdMax = (a: number, b: number) => Math.max(a, b);
const stdMin = (a: number, b: number) => Math.min(a, b);

/** A box as onnxruntime's BoxInfo holds it: sides from sorted corners (or center ± half size), its area. */
function boxInfo(
  p: ArrayLike<number>,
  center: boolean,
): { x0: number; x1: number; y0: number; y1: number; area: number } {
  if (center) {
    const [w, h] = [f(p[2] / 2), f(p[3] / 2)];
    return { x0: f(p[0] - w), x1: f(p[0] + w), y0: f(p[1] - h), y1: f(p[1] + h), area: f(p[2] * p[3]) };
  }
  const [x0, x1, y0, y1] = [lo(p[1], p[3]), hi(p[1], p[3]), lo(p[0], p[2]), hi(p[0], p[2])];
  return { x0, x1, y0, y1, area: f(f(y1 - y0) * f(x1 - x0)) };
}

/** Whether candidate box `c` overlaps kept box `k` by an IoU above `threshold` (BoxInfo::SuppressByIOU). */
function suppresses(c: ArrayLike<number>, k: ArrayLike<number>, center: boolean, threshold: number): boolean {
  const [a, b] = [boxInfo(c, center), boxInfo(k, center)];
  const ix0 = stdMax(a.x0, b.x0);
  const ix1 = stdMin(a.x1, b.x1);
  if (ix1 <= ix0) return false;
  const iy0 = stdMax(a.y0, b.y0);
  const iy1 = stdMin(a.y1, b.y1);
  if (iy1 <= iy0) return false;
  const inter = f(f(ix1 - ix0) * f(iy1 - iy0));
  if (inter <= 0) return false;
  const union = f(f(a.area + b.area) - inter);
  return f(inter / union) > threshold;
}

interface Entry {
  score: number;
  index: number;
}

/** onnxruntime's ScoreIndexPair `<`. */
const below = (a: Entry, b: Entry) => a.score < b.score || (a.score === b.score && a.index > b.index);

function pushHeap(h: Entry[], hole: number, top: number, e: Entry): void {
  let parent = Math.trunc((hole - 1) / 2);
  while (hole > top && below(h[parent], e)) {
    h[hole] = h[parent];
    hole = parent;
    parent = Math.trunc((hole - 1) / 2);
  }
  h[hole] = e;
}

/** libstdc++ __adjust_heap: fill the hole at `hole` from below, then put `e` in from above. */
function adjustHeap(h: Entry[], hole: number, len: number, e: Entry): void {
  const top = hole;
  let child = hole;
  while (child < Math.trunc((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (below(h[child], h[child - 1])) child--;
    h[hole] = h[child];
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.trunc((len - 2) / 2)) {
    child = 2 * (child + 1);
    h[hole] = h[child - 1];
    hole = child - 1;
  }
  pushHeap(h, hole, top, e);
}

/** libstdc++ make_heap (std::priority_queue's constructor from a vector). */
function makeHeap(h: Entry[]): void {
  if (h.length < 2) return;
  for (let parent = Math.trunc((h.length - 2) / 2); parent >= 0; parent--) adjustHeap(h, parent, h.length, h[parent]);
}

/** Removes and returns the top of the heap `h` (libstdc++ pop_heap, then pop_back). */
function popHeap(h: Entry[]): Entry {
  const n = h.length - 1;
  if (n > 0) {
    const value = h[n];
    h[n] = h[0];
    adjustHeap(h, 0, n, value);
  }
  return h.pop()!;
}

export interface NmsArgs {
  boxes: ArrayLike<number>;
  scores: ArrayLike<number>;
  B: number;
  C: number;
  S: number;
  center: boolean;
  maxPerClass: number;
  iou: number;
  scoreThreshold?: number;
}

/** The selected (batch, class, box) triples, flattened, in onnxruntime's order. */
export function nonMaxSuppression(a: NmsArgs): number[] {
  const out: number[] = [];
  if (a.maxPerClass <= 0) return out;
  const box = (b: number, s: number) => Array.from({ length: 4 }, (_, k) => a.boxes[(b * a.S + s) * 4 + k]);
  for (let b = 0; b < a.B; b++)
    for (let c = 0; c < a.C; c++) {
      const heap: Entry[] = [];
      for (let s = 0; s < a.S; s++) {
        const score = a.scores[(b * a.C + c) * a.S + s];
        if (a.scoreThreshold !== undefined && !(score > a.scoreThreshold)) continue;
        heap.push({ score, index: s });
      }
      makeHeap(heap);
      const kept: number[] = [];
      while (heap.length) {
        const { index } = popHeap(heap);
        if (kept.some((k) => suppresses(box(b, index), box(b, k), a.center, a.iou))) continue;
        if (kept.length >= a.maxPerClass) break;
        kept.push(index);
        out.push(b, c, index);
      }
    }
  return out;
}
