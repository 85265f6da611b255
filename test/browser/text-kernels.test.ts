// tfidf (TfIdfVectorizer's kernel) of dist/kernels*.wasm against a reference written from the ONNX
// definition by brute force: every n-gram of every start and skip compared with every pool n-gram. The
// trie is laid out here as the ABI says (compiler/abi/text.ts); canaries catch writes past the output.
import { expect } from '@open-wc/testing';
import { CODES } from '../../compiler/abi/codes.js';
import { Arena, CANARY, TAIL, call, describeEachBuild, rng, type KernelExports as Kernels } from './kernel-harness.js';

interface Case {
  grams: bigint[][]; // the pool's n-grams, in pool order
  outs: number[]; // their output positions
  minN: number;
  maxN: number;
  maxSkip: number;
  mode: number;
  weights: number[] | null; // by output position
}

/** Counts and weighting straight from the definition. */
function reference(c: Case, x: bigint[], rows: number, C: number, outLen: number): number[] {
  const y = new Array<number>(rows * outLen).fill(0);
  for (let r = 0; r < rows; r++) {
    const row = x.slice(r * C, (r + 1) * C);
    c.grams.forEach((g, i) => {
      if (g.length < c.minN || g.length > c.maxN || c.grams.findIndex((h) => same(h, g)) !== i) return;
      for (let skip = 0; skip <= (g.length === 1 ? 0 : c.maxSkip); skip++)
        for (let start = 0; start + (g.length - 1) * (skip + 1) < C; start++)
          if (g.every((t, k) => row[start + k * (skip + 1)] === t)) y[r * outLen + c.outs[i]]++;
    });
    for (let o = 0; o < outLen; o++) {
      const w = c.weights ? c.weights[o] : 1;
      const at = r * outLen + o;
      if (c.mode === CODES.TFIDF.IDF) y[at] = y[at] > 0 ? w : 0;
      if (c.mode === CODES.TFIDF.TFIDF) y[at] *= w;
    }
  }
  return y;
}

const same = (a: bigint[], b: bigint[]) => a.length === b.length && a.every((t, i) => t === b[i]);

/** The ABI's trie: nodes [first edge, edges, output or −1], edges [token low, token high, child], sorted. */
function trie(c: Case): { nodes: number[]; edges: number[] } {
  const kids: Map<bigint, number>[] = [new Map()];
  const outs = [-1];
  c.grams.forEach((g, i) => {
    let node = 0;
    for (const t of g) {
      if (!kids[node].has(t)) {
        kids[node].set(t, kids.length);
        kids.push(new Map());
        outs.push(-1);
      }
      node = kids[node].get(t)!;
    }
    if (outs[node] < 0) outs[node] = c.outs[i];
  });
  const nodes: number[] = [];
  const edges: number[] = [];
  kids.forEach((m, k) => {
    const sorted = [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    nodes.push(edges.length / 3, sorted.length, outs[k]);
    for (const [t, child] of sorted) {
      const u = BigInt.asUintN(64, t);
      edges.push(Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0, child);
    }
  });
  return { nodes, edges };
}

describeEachBuild('tfidf', (env) => {
  let k: Kernels;
  let arena: Arena;
  before(() => {
    k = env.k as Kernels;
    arena = env.arena;
  });

  function check(c: Case, x: bigint[], rows: number, C: number, wide: boolean): void {
    arena.reset();
    const outLen = Math.max(...c.outs) + 1;
    const t = trie(c);
    const xp = wide ? arena.putTyped(BigInt64Array.from(x)) : arena.putTyped(Int32Array.from(x, Number));
    const yp = arena.out(rows * outLen);
    const weights = c.weights ? arena.put(c.weights) : 0;
    call(k, 'tfidf', {
      x: xp,
      y: yp,
      rows,
      C,
      xBytes: wide ? 8 : 4,
      nodes: arena.putI32(t.nodes),
      edges: arena.putI32(t.edges.length ? t.edges : [0, 0, 0]),
      minN: c.minN,
      maxN: c.maxN,
      maxSkip: c.maxSkip,
      outLen,
      mode: c.mode,
      weights,
    });
    const what = `${JSON.stringify({ ...c, grams: c.grams.map(String) })} rows ${rows} C ${C}`;
    const y = arena.f32(yp, rows * outLen + TAIL);
    expect(Array.from(y.subarray(0, rows * outLen)), what).to.deep.equal(reference(c, x, rows, C, outLen));
    expect(Array.from(y.subarray(rows * outLen)), `${what}: wrote past the end`).to.deep.equal(
      new Array(TAIL).fill(CANARY),
    );
  }

  it('random pools and rows: every mode, n-gram length and skip, i32 and i64 ids', () => {
    const random = rng(7);
    const tokens = [1n, 2n, 3n, -4n, 5n, 2n ** 40n, -(2n ** 35n)];
    const pick = () => tokens[Math.floor(random() * tokens.length)];
    for (let trial = 0; trial < 60; trial++) {
      const wide = trial % 2 === 0;
      const usable = wide ? tokens : tokens.filter((t) => t < 2n ** 31n && t > -(2n ** 31n));
      const any = () => (wide ? pick() : usable[Math.floor(random() * usable.length)]);
      const maxN = 1 + Math.floor(random() * 3);
      const minN = 1 + Math.floor(random() * maxN);
      const grams = Array.from({ length: 3 + Math.floor(random() * 8) }, () =>
        Array.from({ length: 1 + Math.floor(random() * 3) }, any),
      );
      const outs = grams.map(() => Math.floor(random() * 9));
      const outLen = Math.max(...outs) + 1;
      const mode = [CODES.TFIDF.TF, CODES.TFIDF.IDF, CODES.TFIDF.TFIDF][trial % 3];
      const weights = random() < 0.5 ? Array.from({ length: outLen }, () => Math.round(random() * 8) / 4) : null;
      const rows = 1 + Math.floor(random() * 3);
      const C = 1 + Math.floor(random() * 12);
      const x = Array.from({ length: rows * C }, any);
      check({ grams, outs, minN, maxN, maxSkip: Math.floor(random() * 4), mode, weights }, x, rows, C, wide);
    }
  });

  it('the spec example: [94, 17, 36, 12, 28] with 2 skips has the 2-grams (94, 12) and (17, 28)', () => {
    const c: Case = {
      grams: [
        [94n, 12n],
        [17n, 28n],
        [94n, 17n],
      ],
      outs: [0, 1, 2],
      minN: 2,
      maxN: 2,
      maxSkip: 2,
      mode: CODES.TFIDF.TF,
      weights: null,
    };
    check(c, [94n, 17n, 36n, 12n, 28n], 1, 5, true);
    arena.reset();
    // Spelled out: skip 2 finds (94, 12) and (17, 28), skip 0 finds (94, 17).
    expect(reference(c, [94n, 17n, 36n, 12n, 28n], 1, 5, 3)).to.deep.equal([1, 1, 1]);
  });
});
