// NonMaxSuppression (opsets 10, 11) as onnxruntime's CPU kernel runs it, so that the selection and its order
// match it exactly, ties and NaN included: per batch and class, the boxes above the score threshold make a
// max-heap on the score, equal scores by the lower box index first (onnxruntime's BoxInfo order; libstdc++'s
// make_heap / pop_heap are reproduced below so that incomparable NaN scores come out in its order too); each
// popped box is kept unless its IoU with a box already kept for that class exceeds the threshold, until
// max_output_boxes_per_class are kept. IoU in f32 as onnxruntime computes it (BoxInfo: sorted corners, the
// area from them, or width · height in the center format).

const KEEP_NONE: i32 = -1;

/** The min and max of two coordinates as onnxruntime's MaxMin takes them (lhs >= rhs decides). */
// @ts-ignore: decorator
@inline
function lo(a: f32, b: f32): f32 {
  return a >= b ? b : a;
}
// @ts-ignore: decorator
@inline
function hi(a: f32, b: f32): f32 {
  return a >= b ? a : b;
}
/**
 * The max and min of the intersection as onnxruntime's x86 build computes them (std::max / std::min compiled
 * so that a NaN on either side gives NaN, which then suppresses nothing): wasm's f32.max / f32.min.
 */
// @ts-ignore: decorator
@inline
function stdMax(a: f32, b: f32): f32 {
  return max<f32>(a, b);
}
// @ts-ignore: decorator
@inline
function stdMin(a: f32, b: f32): f32 {
  return min<f32>(a, b);
}

// A box's sides and area as onnxruntime's BoxInfo holds them: corners sorted by MaxMin, the area from them;
// center format: center ± half the size, the area width · height.
// @ts-ignore: decorator
@inline
function x0(p: usize, center: bool): f32 {
  return center ? load<f32>(p) - load<f32>(p, 8) / 2 : lo(load<f32>(p, 4), load<f32>(p, 12));
}
// @ts-ignore: decorator
@inline
function x1(p: usize, center: bool): f32 {
  return center ? load<f32>(p) + load<f32>(p, 8) / 2 : hi(load<f32>(p, 4), load<f32>(p, 12));
}
// @ts-ignore: decorator
@inline
function y0(p: usize, center: bool): f32 {
  return center ? load<f32>(p, 4) - load<f32>(p, 12) / 2 : lo(load<f32>(p), load<f32>(p, 8));
}
// @ts-ignore: decorator
@inline
function y1(p: usize, center: bool): f32 {
  return center ? load<f32>(p, 4) + load<f32>(p, 12) / 2 : hi(load<f32>(p), load<f32>(p, 8));
}
// @ts-ignore: decorator
@inline
function area(p: usize, center: bool): f32 {
  return center ? load<f32>(p, 8) * load<f32>(p, 12) : (y1(p, false) - y0(p, false)) * (x1(p, false) - x0(p, false));
}

/** Whether candidate box `c` overlaps kept box `k` by an IoU above `threshold` (BoxInfo::SuppressByIOU). */
function suppresses(c: usize, k: usize, center: bool, threshold: f32): bool {
  const ix0 = stdMax(x0(c, center), x0(k, center));
  const ix1 = stdMin(x1(c, center), x1(k, center));
  if (ix1 <= ix0) return false;
  const iy0 = stdMax(y0(c, center), y0(k, center));
  const iy1 = stdMin(y1(c, center), y1(k, center));
  if (iy1 <= iy0) return false;
  const inter: f32 = (ix1 - ix0) * (iy1 - iy0);
  if (inter <= 0) return false;
  const union: f32 = area(c, center) + area(k, center) - inter;
  return inter / union > threshold;
}

// The heap: scores f32 at `hs`, box indices i32 at `hx`, entry k at byte k·4 of each.

/** onnxruntime's BoxInfo `<`: a lower score, or an equal score and a higher box index. */
// @ts-ignore: decorator
@inline
function below(scoreA: f32, indexA: i32, scoreB: f32, indexB: i32): bool {
  return scoreA < scoreB || (scoreA == scoreB && indexA > indexB);
}

/** libstdc++ __push_heap: move the hole at `hole` up while its parent is below the entry (score, index). */
function pushHeap(hs: usize, hx: usize, hole: i32, top: i32, score: f32, index: i32): void {
  let parent = (hole - 1) / 2;
  while (hole > top && below(load<f32>(hs + (<usize>parent << 2)), load<i32>(hx + (<usize>parent << 2)), score, index)) {
    store<f32>(hs + (<usize>hole << 2), load<f32>(hs + (<usize>parent << 2)));
    store<i32>(hx + (<usize>hole << 2), load<i32>(hx + (<usize>parent << 2)));
    hole = parent;
    parent = (hole - 1) / 2;
  }
  store<f32>(hs + (<usize>hole << 2), score);
  store<i32>(hx + (<usize>hole << 2), index);
}

/** libstdc++ __adjust_heap: fill the hole at `hole` from below, then put (score, index) in from above. */
function adjustHeap(hs: usize, hx: usize, hole: i32, len: i32, score: f32, index: i32): void {
  const top = hole;
  let child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    const right = <usize>child << 2;
    const left = <usize>(child - 1) << 2;
    if (below(load<f32>(hs + right), load<i32>(hx + right), load<f32>(hs + left), load<i32>(hx + left))) child--;
    store<f32>(hs + (<usize>hole << 2), load<f32>(hs + (<usize>child << 2)));
    store<i32>(hx + (<usize>hole << 2), load<i32>(hx + (<usize>child << 2)));
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    store<f32>(hs + (<usize>hole << 2), load<f32>(hs + (<usize>(child - 1) << 2)));
    store<i32>(hx + (<usize>hole << 2), load<i32>(hx + (<usize>(child - 1) << 2)));
    hole = child - 1;
  }
  pushHeap(hs, hx, hole, top, score, index);
}

/** libstdc++ make_heap over `len` entries (what std::priority_queue's constructor from a vector does). */
function makeHeap(hs: usize, hx: usize, len: i32): void {
  if (len < 2) return;
  for (let parent = (len - 2) / 2; parent >= 0; parent--)
    adjustHeap(hs, hx, parent, len, load<f32>(hs + (<usize>parent << 2)), load<i32>(hx + (<usize>parent << 2)));
}

/** libstdc++ pop_heap over `len` entries: the top goes to entry len−1, the rest stays a heap. */
function popHeap(hs: usize, hx: usize, len: i32): void {
  if (len <= 1) return;
  const last = len - 1;
  const score = load<f32>(hs + (<usize>last << 2));
  const index = load<i32>(hx + (<usize>last << 2));
  store<f32>(hs + (<usize>last << 2), load<f32>(hs));
  store<i32>(hx + (<usize>last << 2), load<i32>(hx));
  adjustHeap(hs, hx, 0, last, score, index);
}

/**
 * boxes f32 [B, S, 4] ([y1, x1, y2, x2] any two opposite corners, or centerPointBox 1: [xc, yc, w, h]);
 * scores f32 [B, C, S]; maxPerClass → one integer of maxBytes (8: i64, 4: i32), or 0 (none: no output);
 * iou → f32 (0: threshold 0); scoreThreshold → f32 (0: no threshold, every box a candidate).
 * Writes the selected (batch, class, box) triples as i64 rows into y, in onnxruntime's order (batch, class,
 * then selection), at most `bound` rows (it counts on past the bound without writing), and their count into
 * `count` (i32); an IoU threshold outside [0, 1] (onnxruntime's error) writes count −1 and nothing else.
 * scratch: ≥ 3·S i32 words. No pointer may overlap another.
 */
export function non_max_suppression(
  boxes: usize,
  scores: usize,
  maxPerClass: usize,
  iou: usize,
  scoreThreshold: usize,
  y: usize,
  count: usize,
  scratch: usize,
  B: i32,
  C: i32,
  S: i32,
  centerPointBox: i32,
  maxBytes: i32,
  bound: i32,
): void {
  let keepMax: i64 = 0;
  if (maxPerClass) keepMax = maxBytes == 8 ? load<i64>(maxPerClass) : <i64>load<i32>(maxPerClass);
  const threshold: f32 = iou ? load<f32>(iou) : 0;
  if (!(threshold >= 0 && threshold <= 1)) {
    store<i32>(count, KEEP_NONE);
    return;
  }
  if (keepMax <= 0) {
    store<i32>(count, 0);
    return;
  }
  const perClass = keepMax < <i64>S ? <i32>keepMax : S;
  const hasScore = scoreThreshold != 0;
  const minScore: f32 = hasScore ? load<f32>(scoreThreshold) : 0;
  const center = centerPointBox != 0;
  const hs = scratch;
  const hx = scratch + (<usize>S << 2);
  const kept = scratch + (<usize>S << 3);
  let total = 0;
  for (let b = 0; b < B; b++) {
    const batchBoxes = boxes + ((<usize>b * <usize>S) << 4);
    for (let c = 0; c < C; c++) {
      const classScores = scores + ((<usize>(b * C + c) * <usize>S) << 2);
      let len = 0;
      for (let s = 0; s < S; s++) {
        const v = load<f32>(classScores + (<usize>s << 2));
        if (hasScore && !(v > minScore)) continue;
        store<f32>(hs + (<usize>len << 2), v);
        store<i32>(hx + (<usize>len << 2), s);
        len++;
      }
      makeHeap(hs, hx, len);
      let keptCount = 0;
      while (len > 0) {
        popHeap(hs, hx, len);
        len--;
        const box = load<i32>(hx + (<usize>len << 2));
        const candidate = batchBoxes + (<usize>box << 4);
        let keep = true;
        for (let k = 0; k < keptCount; k++) {
          const other = batchBoxes + (<usize>load<i32>(kept + (<usize>k << 2)) << 4);
          if (suppresses(candidate, other, center, threshold)) {
            keep = false;
            break;
          }
        }
        if (!keep) continue;
        if (keptCount >= perClass) break;
        store<i32>(kept + (<usize>keptCount << 2), box);
        keptCount++;
        if (total < bound) {
          const row = y + <usize>total * 24;
          store<i64>(row, <i64>b);
          store<i64>(row, <i64>c, 8);
          store<i64>(row, <i64>box, 16);
        }
        total++;
      }
    }
  }
  store<i32>(count, total);
}
