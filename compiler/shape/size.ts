/**
 * Sizes: a dimension, element count or offset that is either an integer known at compile time or an
 * expression over the model's symbolic dimensions (a sequence length, an image height, the batch). The
 * kernels read sizes at run time, so most of the compiler only adds and multiplies them; the emitter turns
 * an expression into a few i32 instructions, the memory planner takes its upper bound.
 *
 * An expression is a polynomial with integer coefficients over atoms: symbols, and the few operations a
 * polynomial cannot express (floor division, modulo, min, max) with polynomial arguments. The polynomial
 * is kept canonical (terms by key), so two sizes that are equal as polynomials compare equal.
 */
export type Size = number | Sym;

/** An atom: a symbol (named dimension or a size the model computes at run time) or an operation. */
export type Atom =
  | { kind: 'symbol'; key: string; name: string }
  | { kind: 'floordiv' | 'mod' | 'min' | 'max'; key: string; a: Size; b: Size };

/** A polynomial over atoms: monomial (atom keys, sorted, joined) → non-zero integer coefficient. */
export class Sym {
  constructor(
    readonly terms: ReadonlyMap<string, number>,
    /** Every atom the terms mention, by key. */
    readonly atoms: ReadonlyMap<string, Atom>,
  ) {}

  get key(): string {
    return [...this.terms].map(([m, c]) => `${c}*${m}`).join('+');
  }

  toString(): string {
    return sizeToString(this);
  }
}

const ONE = ''; // the monomial of the constant term

export function symbol(name: string): Sym {
  const atom: Atom = { kind: 'symbol', key: `$${name}`, name };
  return new Sym(new Map([[atom.key, 1]]), new Map([[atom.key, atom]]));
}

export const isConst = (s: Size): s is number => typeof s === 'number';

/** The name of the symbol `s` is, when it is exactly one symbol (not `2*N`, not `N + 1`). */
export function symbolName(s: Size): string | undefined {
  if (typeof s === 'number' || s.terms.size !== 1) return undefined;
  const [[monomial, coefficient]] = [...s.terms];
  const atom = s.atoms.get(monomial);
  return coefficient === 1 && atom?.kind === 'symbol' ? atom.name : undefined;
}

function poly(s: Size): Sym {
  if (typeof s !== 'number') return s;
  if (!Number.isInteger(s)) throw new RangeError(`size ${s} is not an integer`);
  return new Sym(s === 0 ? new Map() : new Map([[ONE, s]]), new Map());
}

/** A polynomial that is a constant becomes a number again. */
function normal(terms: Map<string, number>, atoms: Map<string, Atom>): Size {
  for (const [m, c] of terms) if (c === 0) terms.delete(m);
  if (terms.size === 0) return 0;
  if (terms.size === 1 && terms.has(ONE)) return terms.get(ONE)!;
  const sorted = new Map([...terms].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const used = new Map<string, Atom>();
  for (const m of sorted.keys()) for (const k of m ? m.split('·') : []) used.set(k, atoms.get(k)!);
  return new Sym(sorted, used);
}

export function add(a: Size, b: Size): Size {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const [pa, pb] = [poly(a), poly(b)];
  const terms = new Map(pa.terms);
  for (const [m, c] of pb.terms) terms.set(m, (terms.get(m) ?? 0) + c);
  return normal(terms, new Map([...pa.atoms, ...pb.atoms]));
}

export const neg = (a: Size): Size => mul(a, -1);
export const sub = (a: Size, b: Size): Size => add(a, neg(b));

export function mul(a: Size, b: Size): Size {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const [pa, pb] = [poly(a), poly(b)];
  const terms = new Map<string, number>();
  for (const [ma, ca] of pa.terms) {
    for (const [mb, cb] of pb.terms) {
      const m = [...(ma ? ma.split('·') : []), ...(mb ? mb.split('·') : [])].sort().join('·');
      terms.set(m, (terms.get(m) ?? 0) + ca * cb);
    }
  }
  return normal(terms, new Map([...pa.atoms, ...pb.atoms]));
}

export const product = (sizes: readonly Size[]): Size => sizes.reduce<Size>((p, s) => mul(p, s), 1);
export const sum = (sizes: readonly Size[]): Size => sizes.reduce<Size>((p, s) => add(p, s), 0);

function atomOf(kind: 'floordiv' | 'mod' | 'min' | 'max', a: Size, b: Size): Sym {
  const key = `${kind}(${keyOf(a)},${keyOf(b)})`;
  const atom: Atom = { kind, key, a, b };
  return new Sym(new Map([[key, 1]]), new Map([[key, atom]]));
}

// Nested keys write their products as '∘', so an atom's key never holds the monomial separator '·'.
const keyOf = (s: Size): string => (typeof s === 'number' ? String(s) : `[${s.key.replaceAll('·', '∘')}]`);

/** ⌊a / b⌋ (b > 0). Exact when b divides every coefficient. */
export function floorDiv(a: Size, b: Size): Size {
  if (typeof a === 'number' && typeof b === 'number') return Math.floor(a / b);
  if (b === 1) return a;
  if (typeof b === 'number' && typeof a !== 'number' && [...a.terms.values()].every((c) => c % b === 0)) {
    return normal(new Map([...a.terms].map(([m, c]) => [m, c / b])), new Map(a.atoms));
  }
  if (typeof a !== 'number' && typeof b !== 'number' && a.key === b.key) return 1;
  const exact = typeof b !== 'number' ? divideByMonomial(poly(a), b) : undefined;
  if (exact !== undefined) return exact;
  return atomOf('floordiv', a, b);
}

/** a / b when b is one term (c·atoms) that divides every term of a exactly, else undefined. */
function divideByMonomial(a: Sym, b: Sym): Size | undefined {
  if (b.terms.size !== 1) return undefined;
  const [[bm, bc]] = [...b.terms];
  if (bc <= 0) return undefined;
  const divisor = bm ? bm.split('·') : [];
  const terms = new Map<string, number>();
  for (const [m, c] of a.terms) {
    if (c % bc !== 0) return undefined;
    const rest = m ? m.split('·') : [];
    for (const atom of divisor) {
      const at = rest.indexOf(atom);
      if (at < 0) return undefined;
      rest.splice(at, 1);
    }
    terms.set(rest.join('·'), c / bc);
  }
  return normal(terms, new Map(a.atoms));
}

/** ⌈a / b⌉ (b > 0). */
export const ceilDiv = (a: Size, b: Size): Size => neg(floorDiv(neg(a), b));

/** a mod b with the sign of b (b > 0): a − b·⌊a / b⌋. */
export function mod(a: Size, b: Size): Size {
  if (typeof a === 'number' && typeof b === 'number') return ((a % b) + b) % b;
  if (typeof b === 'number' && typeof a !== 'number' && [...a.terms.values()].every((c) => c % b === 0)) return 0;
  return atomOf('mod', a, b);
}

export function min(a: Size, b: Size): Size {
  const d = sub(a, b);
  if (typeof d === 'number') return d <= 0 ? a : b;
  if (nonNegative(d)) return b;
  if (nonNegative(neg(d))) return a;
  return keyOf(a) < keyOf(b) ? atomOf('min', a, b) : atomOf('min', b, a);
}

export function max(a: Size, b: Size): Size {
  const d = sub(a, b);
  if (typeof d === 'number') return d >= 0 ? a : b;
  if (nonNegative(d)) return a;
  if (nonNegative(neg(d))) return b;
  return keyOf(a) < keyOf(b) ? atomOf('max', a, b) : atomOf('max', b, a);
}

/**
 * Surely ≥ 0 whatever the symbols are: a sum of positive multiples of atoms that are never negative (a
 * symbol is a size; so are ⌊x / b⌋ and max(x, …) of such, and a mod b). So a Slice's clamps of a full
 * range, min(0, N) and max(0, N), are 0 and N again.
 */
function nonNegative(s: Size): boolean {
  if (typeof s === 'number') return s >= 0;
  for (const [m, c] of s.terms) {
    if (c < 0) return false;
    for (const key of m ? m.split('·') : []) {
      const atom = s.atoms.get(key)!;
      const ok =
        atom.kind === 'symbol' ||
        atom.kind === 'mod' ||
        (atom.kind === 'floordiv' && nonNegative(atom.a)) ||
        (atom.kind === 'max' && (nonNegative(atom.a) || nonNegative(atom.b))) ||
        (atom.kind === 'min' && nonNegative(atom.a) && nonNegative(atom.b));
      if (!ok) return false;
    }
  }
  return true;
}

/** Equal as polynomials (so surely equal at run time); false means unknown, not different. */
export const sameSize = (a: Size, b: Size): boolean => sub(a, b) === 0;

export const sameSizes = (a: readonly Size[], b: readonly Size[]): boolean =>
  a.length === b.length && a.every((d, i) => sameSize(d, b[i]));

/** The symbols an expression depends on, by name. */
export function symbolsOf(s: Size, out = new Set<string>()): Set<string> {
  if (typeof s === 'number') return out;
  for (const atom of s.atoms.values()) {
    if (atom.kind === 'symbol') out.add(atom.name);
    else {
      symbolsOf(atom.a, out);
      symbolsOf(atom.b, out);
    }
  }
  return out;
}

/** The value of a size given every symbol's value. */
export function evaluate(s: Size, value: (symbol: string) => number): number {
  if (typeof s === 'number') return s;
  let total = 0;
  for (const [m, c] of s.terms) {
    let term = c;
    for (const k of m ? m.split('·') : []) term *= evaluateAtom(s.atoms.get(k)!, value);
    total += term;
  }
  return total;
}

function evaluateAtom(atom: Atom, value: (symbol: string) => number): number {
  if (atom.kind === 'symbol') return value(atom.name);
  const [a, b] = [evaluate(atom.a, value), evaluate(atom.b, value)];
  switch (atom.kind) {
    case 'floordiv':
      return Math.floor(a / b);
    case 'mod':
      return ((a % b) + b) % b;
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
  }
}

export type Interval = readonly [lo: number, hi: number];

/** Bounds of a size given every symbol's bounds (interval arithmetic: safe, not always tight). */
export function boundsOf(s: Size, range: (symbol: string) => Interval): Interval {
  if (typeof s === 'number') return [s, s];
  let lo = 0;
  let hi = 0;
  for (const [m, c] of s.terms) {
    let t: Interval = [c, c];
    for (const k of m ? m.split('·') : []) t = mulInterval(t, atomBounds(s.atoms.get(k)!, range));
    lo += t[0];
    hi += t[1];
  }
  return [lo, hi];
}

function mulInterval(a: Interval, b: Interval): Interval {
  const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
  return [Math.min(...p), Math.max(...p)];
}

function atomBounds(atom: Atom, range: (symbol: string) => Interval): Interval {
  if (atom.kind === 'symbol') return range(atom.name);
  const [a, b] = [boundsOf(atom.a, range), boundsOf(atom.b, range)];
  switch (atom.kind) {
    case 'floordiv': {
      const lo = Math.max(b[0], 1);
      const q = [a[0] / lo, a[0] / b[1], a[1] / lo, a[1] / b[1]].map(Math.floor);
      return [Math.min(...q), Math.max(...q)];
    }
    case 'mod':
      return [0, Math.max(b[1] - 1, 0)];
    case 'min':
      return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
    case 'max':
      return [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  }
}

/** A readable form: `N`, `2*N`, `N*seq`, `seq - 1`, `floor((H + 1) / 2)`. */
export function sizeToString(s: Size): string {
  if (typeof s === 'number') return String(s);
  const parts: string[] = [];
  // Symbols first, the constant term last: `2*N - 1`.
  const terms = [...s.terms].sort(([a], [b]) => (a === ONE ? 1 : 0) - (b === ONE ? 1 : 0));
  for (const [m, c] of terms) {
    const atoms = m ? m.split('·').map((k) => atomToString(s.atoms.get(k)!)) : [];
    const mag = Math.abs(c);
    const body = atoms.length === 0 ? String(mag) : mag === 1 ? atoms.join('*') : `${mag}*${atoms.join('*')}`;
    parts.push(parts.length === 0 ? (c < 0 ? `-${body}` : body) : `${c < 0 ? '-' : '+'} ${body}`);
  }
  return parts.join(' ');
}

function atomToString(atom: Atom): string {
  if (atom.kind === 'symbol') return atom.name;
  const [a, b] = [sizeToString(atom.a), sizeToString(atom.b)];
  const wrap = (t: string) => (/[ +*-]/.test(t) ? `(${t})` : t);
  if (atom.kind === 'floordiv') return `floor(${wrap(a)} / ${wrap(b)})`;
  if (atom.kind === 'mod') return `${wrap(a)} mod ${wrap(b)}`;
  return `${atom.kind}(${a}, ${b})`;
}
