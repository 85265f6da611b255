/**
 * Kernels of the indexing family (assembly/gather_scatter.ts, select.ts, topk.ts, cumsum.ts,
 * positional.ts): their ABI table entries, spread into KERNELS (kernels.ts). Element kinds are
 * CODES.ELEM, scatter reductions CODES.SCATTER; indices are i32 or i64 (`idxBytes`). Kernels that return
 * i32 validate their data: 0, or 1 + the position of the first value they cannot use (the op handler
 * sets Step.valueCheck). Kernels that take `count` and `max` write a size only the data tells into a
 * symbol's slot (compiler/program.ts `slot`) and their outputs only when it is at most `max`.
 *
 * What an op handler passes (x dims d, rank r, axis a; outer = Π d[<a], inner = Π d[>a]):
 * - GatherElements → gather_elements: table [indices dims…, data dims…]; ScatterElements / Scatter →
 *   copy data into y, then scatter_elements (table [indices dims…, data dims…]).
 * - GatherND (batch_dims b, indices [B…, I…, q]) → gather_nd: batches = Π d[<b], count = Π I, table =
 *   d[b..b+q), slice = Π d[≥b+q]. ScatterND → copy, then scatter_nd (count = Π indices dims but the
 *   last, table = d[0..q), slice = Π d[≥q]).
 * - NonZero → nonzero (n = Π d, table = d); Compress → compress (axis given: [outer, d[a], inner];
 *   none: [1, Π d, 1]); Unique → unique (same views; scratch 3·len i32).
 * - TopK → topk_axis (K from a size, or read_count of the K tensor into a computed symbol; scratch 2·len
 *   i32); CumSum → cumsum (the axis tensor's address, constant or run time; table = d).
 * - Range → range (run-time scalars) or iota (sizes known as expressions); OneHot → one_hot_axis
 *   (values = [off, on]; depth from a size or read_count); Trilu → trilu (k: an i64's address);
 *   ReverseSequence → reverse_sequence.
 */
import { i32, ptr, type KernelSpec } from './spec.js';

export const INDEXING_KERNELS = {
  /** y[c] = x[c with c_axis := idx[c]] (GatherElements); table = [out dims…, x dims…]. */
  gather_elements: {
    module: 'gather_scatter',
    params: [ptr('x'), ptr('idx'), ptr('y'), i32('rank'), ptr('table'), i32('axis'), i32('idxBytes'), i32('elemBytes')],
    returns: 'i32',
    valid: 0,
  },
  /** y[c with c_axis := idx[c]] ⊕= upd[c] in place (ScatterElements, Scatter); table = [idx dims…, y dims…]. */
  scatter_elements: {
    module: 'gather_scatter',
    params: [
      ptr('y'),
      ptr('idx'),
      ptr('upd'),
      i32('rank'),
      ptr('table'),
      i32('axis'),
      i32('idxBytes'),
      i32('kind'),
      i32('reduction'),
    ],
    returns: 'i32',
    valid: 0,
  },
  /** y[b, c, :] = x[b, idx[b, c, :], :] over x [batches, table dims…, slice] (GatherND). */
  gather_nd: {
    module: 'gather_scatter',
    params: [
      ptr('x'),
      ptr('idx'),
      ptr('y'),
      i32('batches'),
      i32('count'),
      i32('q'),
      i32('slice'),
      ptr('table'),
      i32('idxBytes'),
      i32('elemBytes'),
    ],
    returns: 'i32',
    valid: 0,
  },
  /** y[idx[c, :], :] ⊕= upd[c, :] in place over y [table dims…, slice] (ScatterND). */
  scatter_nd: {
    module: 'gather_scatter',
    params: [
      ptr('y'),
      ptr('idx'),
      ptr('upd'),
      i32('count'),
      i32('q'),
      i32('slice'),
      ptr('table'),
      i32('idxBytes'),
      i32('kind'),
      i32('reduction'),
    ],
    returns: 'i32',
    valid: 0,
  },
  /** *count = the scalar at x as a size (+ wrap when negative). */
  read_count: { module: 'select', params: [ptr('x'), i32('kind'), i32('wrap'), ptr('count')] },
  /** y = i64 [rank, count]: coordinates of x's non-zero elements (NonZero). */
  nonzero: {
    module: 'select',
    params: [ptr('x'), ptr('y'), i32('n'), i32('rank'), ptr('table'), i32('kind'), ptr('count'), i32('max')],
  },
  /** y [outer, count, inner]: the slices of x [outer, len, inner] whose cond is true (Compress). */
  compress: {
    module: 'select',
    params: [
      ptr('x'),
      ptr('cond'),
      ptr('y'),
      i32('outer'),
      i32('len'),
      i32('inner'),
      i32('condLen'),
      i32('elemBytes'),
      ptr('count'),
      i32('max'),
    ],
  },
  /** y [count]: start, start + delta, … below limit, from run-time scalars (Range). */
  range: {
    module: 'select',
    params: [ptr('start'), ptr('limit'), ptr('delta'), ptr('y'), i32('kind'), ptr('count'), i32('max')],
    returns: 'i32',
    valid: 0,
  },
  /** y[i] = start + i·delta, i < n (Range over sizes). */
  iota: { module: 'select', params: [ptr('y'), i32('n'), i32('start'), i32('delta'), i32('kind')] },
  /** Distinct slices of x [outer, len, inner] with first indices, inverse indices and counts (Unique). */
  unique: {
    module: 'select',
    params: [
      ptr('x'),
      ptr('y'),
      ptr('first'),
      ptr('inverse'),
      ptr('counts'),
      i32('outer'),
      i32('len'),
      i32('inner'),
      i32('sorted'),
      i32('kind'),
      ptr('scratch'),
      ptr('count'),
      i32('max'),
    ],
  },
  /** The K best of every column of x [outer, len, inner], best first, with their positions (TopK). */
  topk_axis: {
    module: 'topk',
    params: [
      ptr('x'),
      ptr('vals'),
      ptr('idx'),
      i32('outer'),
      i32('len'),
      i32('inner'),
      i32('K'),
      i32('largest'),
      i32('kind'),
      i32('idxBytes'),
      ptr('scratch'),
    ],
  },
  /** CumSum along the axis at `axis` (read at run time) of x with dims table. */
  cumsum: {
    module: 'cumsum',
    params: [
      ptr('x'),
      ptr('y'),
      i32('rank'),
      ptr('table'),
      ptr('axis'),
      i32('axisBytes'),
      i32('exclusive'),
      i32('reverse'),
      i32('kind'),
    ],
    returns: 'i32',
    valid: 0,
  },
  /** Upper or lower triangles of x [batches, N, M] from diagonal k (Trilu). */
  trilu: {
    module: 'positional',
    params: [ptr('x'), ptr('y'), i32('batches'), i32('N'), i32('M'), ptr('k'), i32('upper'), i32('elemBytes')],
  },
  /** y [outer, depth, inner] = on where d = idx[outer, inner], off elsewhere (OneHot). */
  one_hot_axis: {
    module: 'positional',
    params: [
      ptr('idx'),
      ptr('values'),
      ptr('y'),
      i32('outer'),
      i32('depth'),
      i32('inner'),
      i32('kind'),
      i32('elemBytes'),
    ],
  },
  /** The first lens[b] time steps of every batch entry reversed (ReverseSequence). */
  reverse_sequence: {
    module: 'positional',
    params: [
      ptr('x'),
      ptr('y'),
      ptr('lens'),
      i32('T'),
      i32('B'),
      i32('inner'),
      i32('timeAxis'),
      i32('lensBytes'),
      i32('elemBytes'),
    ],
    returns: 'i32',
    valid: 0,
  },
} as const satisfies Record<string, KernelSpec>;
