// TfIdfVectorizer over integer token ids: n-gram counts (with skips) looked up in a trie of the pool, then
// the TF, IDF or TFIDF weighting, as onnxruntime computes it. The compiler builds the trie from the
// attributes: node k = nodes[3k..3k+2] = [first edge, edge count, output index or −1]; edge e =
// edges[3e..3e+2] = [token low 32 bits, token high 32 bits, child node], each node's edges sorted by token.
// Node 0 is the root (the empty n-gram).

import { TFIDF_IDF, TFIDF_TFIDF } from "./generated/abi";

/** The child of `node` along `token`, or −1: a binary search of its sorted edges. */
// @ts-ignore: decorator
@inline function child(nodes: usize, edges: usize, node: i32, token: i64): i32 {
  const at = nodes + <usize>node * 12;
  let lo = load<i32>(at);
  let hi = lo + load<i32>(at, 4);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = edges + <usize>mid * 12;
    const t = (<i64>load<u32>(e)) | (<i64>load<i32>(e, 4) << 32);
    if (t == token) return load<i32>(e, 8);
    if (t < token) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/**
 * x [rows, C] token ids (i64 when xBytes is 8, else i32) → y f32 [rows, outLen]. For each start position
 * and each skip in [0, maxSkip], the tokens at start, start + (skip + 1), … walk the trie; every node
 * reached at a length in [minN, maxN] with an output index counts once (unigrams only at skip 0: a skip
 * does not make another unigram). mode TFIDF_*: TF the counts; IDF weight (or 1) where the count is not 0;
 * TFIDF count · weight. weights: f32 [outLen] by output index, or 0 for ones.
 */
export function tfidf(
  x: usize, y: usize, rows: i32, C: i32, xBytes: i32, nodes: usize, edges: usize,
  minN: i32, maxN: i32, maxSkip: i32, outLen: i32, mode: i32, weights: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const yr = y + (<usize>r * <usize>outLen << 2);
    memory.fill(yr, 0, <usize>outLen << 2);
    const xr = x + <usize>r * <usize>C * <usize>xBytes;
    for (let start = 0; start < C; start++) {
      for (let skip = 0; skip <= maxSkip; skip++) {
        let node = 0;
        for (let k = 0; k < maxN; k++) {
          const pos = start + k * (skip + 1);
          if (pos >= C) break;
          const token: i64 = xBytes == 8 ? load<i64>(xr + (<usize>pos << 3)) : <i64>load<i32>(xr + (<usize>pos << 2));
          node = child(nodes, edges, node, token);
          if (node < 0) break;
          if (k + 1 < minN || (k == 0 && skip > 0)) continue;
          const out = load<i32>(nodes + <usize>node * 12, 8);
          if (out >= 0) store<f32>(yr + (<usize>out << 2), load<f32>(yr + (<usize>out << 2)) + 1);
        }
        if (maxN <= 1) break; // unigrams only: every skip would walk the same one-token n-grams
      }
    }
    if (mode != TFIDF_IDF && mode != TFIDF_TFIDF) continue;
    for (let i = 0; i < outLen; i++) {
      const at = yr + (<usize>i << 2);
      const w: f32 = weights ? load<f32>(weights + (<usize>i << 2)) : 1;
      const count = load<f32>(at);
      store<f32>(at, mode == TFIDF_IDF ? (count > 0 ? w : 0) : count * w);
    }
  }
}
