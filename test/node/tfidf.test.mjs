// TfIdfVectorizer against onnxruntime-node: TF, IDF and TFIDF (with and without weights), n-gram lengths
// 1 to 3, skips, output positions out of pool order, int32 and int64 ids (negative and beyond 32 bits),
// [C] and [N, C] inputs, a constant input folded; string pools and bad attributes refused by name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compile } from '../../dist/compiler/index.js';
import { loadModel } from '../../dist/runtime/index.js';
import { mismatch } from './helpers.mjs';
import { floats, model, ortOutputs, runFeeds, tensor } from './onnx-graph.mjs';
import { rng } from './rng.mjs';

// Unigrams 2, 3, 5, 4; bigrams (5, 6), (7, 8), (6, 7); trigrams (6, 7, 5), (-3, 2 ** 33, 6).
const POOL = [2, 3, 5, 4, 5, 6, 7, 8, 6, 7, 6, 7, 5, -3, 2 ** 33, 6];
const COUNTS = [0, 4, 10];
const INDEXES = [8, 0, 3, 1, 2, 7, 4, 6, 5];

function tfidfModel(dtype, dims, attrs, constant) {
  const node = { op: 'TfIdfVectorizer', inputs: ['x'], outputs: ['y'], attrs };
  const tokens = [2, 3, 5, 4, 6, 7, 8, -3, 2 ** 33, 1].filter((t) => dtype === 'int64' || Math.abs(t) < 2 ** 31);
  const random = rng(dims.length * 31 + dims[dims.length - 1]);
  const n = dims.reduce((a, b) => a * b, 1);
  const x = tensor(
    dtype,
    dims,
    Array.from({ length: n }, () => tokens[Math.floor(random() * tokens.length)]),
  );
  return {
    bytes: model({
      opset: 9,
      inputs: constant ? [] : [['x', dtype, dims]],
      outputs: [['y', 'float32']],
      nodes: [node],
      inits: constant ? { x } : {},
    }),
    feeds: constant ? {} : { x },
  };
}

const base = (over) => ({
  pool_int64s: POOL,
  ngram_counts: COUNTS,
  ngram_indexes: INDEXES,
  mode: 'TF',
  min_gram_length: 1,
  max_gram_length: 3,
  max_skip_count: 0,
  ...over,
});

async function same({ bytes, feeds }) {
  const ours = runFeeds(await loadModel((await compile(bytes)).wasm), feeds).y;
  const theirs = (await ortOutputs(bytes, feeds)).y;
  assert.deepEqual(ours.shape, theirs.shape);
  assert.equal(mismatch(ours.data, theirs.data, { rtol: 1e-6, atol: 1e-6 }), null);
}

const WEIGHTS = floats([0.5, 2, 1.5, 0.25, 3, 1, 0.75, 2.5, 1.25]);

describe('TfIdfVectorizer against onnxruntime-node', () => {
  for (const mode of ['TF', 'IDF', 'TFIDF']) {
    for (const weights of [undefined, WEIGHTS]) {
      for (const [minN, maxN, skip] of [
        [1, 1, 0],
        [1, 3, 0],
        [2, 3, 2],
        [1, 2, 4],
        [3, 3, 1],
      ]) {
        const attrs = base({ mode, min_gram_length: minN, max_gram_length: maxN, max_skip_count: skip });
        if (weights) attrs.weights = weights;
        test(`${mode}${weights ? ' weighted' : ''}, ${minN}..${maxN}-grams, skip ≤ ${skip}, int64 [3, 17]`, () =>
          same(tfidfModel('int64', [3, 17], attrs)));
      }
    }
  }
  test('int32 ids, a [C] input', () => same(tfidfModel('int32', [23], base({ max_skip_count: 3 }))));
  test('a constant input is folded', () =>
    same(tfidfModel('int64', [2, 11], base({ mode: 'TFIDF', weights: WEIGHTS }), true)));
});

describe('TfIdfVectorizer refuses what it cannot compute, by name', () => {
  const refused = async (attrs, message) => {
    const { bytes } = tfidfModel('int64', [2, 5], attrs);
    await assert.rejects(compile(bytes), (e) => e.problems?.[0]?.op === 'TfIdfVectorizer' && message.test(e.message));
  };
  test('a string pool', () =>
    refused(
      { ...base({}), pool_int64s: [], pool_strings: 'unused', ngram_counts: [0], ngram_indexes: [0] },
      /pool_strings needs string tensors, which ml-widgets does not have/,
    ));
  test('an unknown mode', () => refused(base({ mode: 'BM25' }), /"mode" is "BM25"; it must be TF, IDF or TFIDF/));
  test('counts that do not cut the pool', () =>
    refused(base({ ngram_counts: [0, 3, 10] }), /do not cut pool_int64s \(16 ids\) into whole 2-grams/));
  test('indexes that do not match the pool', () =>
    refused(base({ ngram_indexes: [0, 1] }), /ngram_indexes has 2 entries for the pool's 9 n-grams/));
});
