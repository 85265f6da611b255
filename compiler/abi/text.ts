/**
 * Text features (assembly/text.ts): TfIdfVectorizer's n-gram counting over token ids, against a trie the
 * compiler builds from the pool (nodes and edges, i32 triples), with its weighting (mode CODES.TFIDF).
 */
import { i32, ptr, type KernelSpec } from './spec.js';

export const TEXT_KERNELS = {
  /** y f32 [rows, outLen] from x [rows, C] token ids (xBytes 8: i64, 4: i32). */
  tfidf: {
    module: 'text',
    params: [
      ptr('x'),
      ptr('y'),
      i32('rows'),
      i32('C'),
      i32('xBytes'),
      ptr('nodes'),
      ptr('edges'),
      i32('minN'),
      i32('maxN'),
      i32('maxSkip'),
      i32('outLen'),
      i32('mode'),
      ptr('weights'),
    ],
  },
} as const satisfies Record<string, KernelSpec>;
