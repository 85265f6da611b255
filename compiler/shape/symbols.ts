import { CompileError } from '../errors.js';
import { boundsOf, symbol, symbolName, type Interval, type Size, type Sym } from './size.js';

/**
 * The symbolic dimensions of one model: where each gets its value at run time and the bounds the memory
 * plan is made for.
 *  - An input symbol is read from the shape of the inputs a call passes (a `dim_param`, or a dimension the
 *    export left unknown, named `input[axis]`). `--dim NAME=N` fixes it (it is then no symbol at all),
 *    `--dim NAME=..MAX` / `MIN..MAX` bounds it; unbounded ones get a default bound (compiler/plan.ts).
 *  - A computed symbol is a size the model works out at run time (a NonZero count, a Range length, a
 *    sizes input of Resize); its bound comes from what computes it.
 * Every symbol has an i32 slot in the model's memory, written once per call before anything reads it.
 */
export interface SymbolInfo {
  name: string;
  kind: 'input' | 'computed';
  min: number;
  /** Inclusive; Infinity until a bound is chosen. */
  max: number;
  /** Set by a --dim flag (as opposed to a default bound). */
  flagged: boolean;
  /** Index of its i32 slot in the symbol area. */
  slot: number;
  /** Input symbols: the first input dimension that carries it. */
  source?: { input: number; axis: number };
}

/** What `--dim` gives: a fixed size, or bounds. */
export type DimOption = { value: number } | { min?: number; max?: number };

/** The most any dimension may be: well inside i32 arithmetic on byte offsets. */
export const MAX_DIM = 2 ** 24;

export class SymbolTable {
  private readonly byName = new Map<string, SymbolInfo>();
  private readonly used = new Set<string>();

  /**
   * Pairs of input symbols the graph requires to be equal (a Concat of two inputs' rows, say), found while
   * lowering: the model is then lowered again with the second an alias of the first (see `aliases`), so
   * sizes built from them compare equal and the check moves to where the inputs are read.
   */
  readonly equalities: [string, string][] = [];

  constructor(
    private readonly options: Readonly<Record<string, DimOption>> = {},
    /** Input dimension names that stand for another's symbol (from a previous lowering's `equalities`). */
    private readonly aliases: ReadonlyMap<string, string> = new Map(),
  ) {}

  get all(): SymbolInfo[] {
    return [...this.byName.values()];
  }

  get(name: string): SymbolInfo | undefined {
    return this.byName.get(name);
  }

  /**
   * The size of an input dimension called `name`: a number when `--dim` fixes it, else its symbol
   * (made on first use: inputs that share a name share the symbol).
   */
  inputDim(dimName: string, input: number, axis: number): Size {
    this.used.add(dimName);
    let name = dimName;
    while (this.aliases.has(name)) name = this.aliases.get(name)!;
    this.used.add(name);
    const option = this.options[name];
    if (option && 'value' in option) return option.value;
    const known = this.byName.get(name);
    if (known) return symbol(name);
    const min = (option && 'min' in option ? option.min : undefined) ?? 0;
    const max = (option && 'max' in option ? option.max : undefined) ?? Infinity;
    this.add({ name, kind: 'input', min, max, flagged: !!option, slot: 0, source: { input, axis } });
    return symbol(name);
  }

  /** Record that the graph needs input symbols `a` and `b` equal (both bare input symbols; else ignored). */
  noteEquality(a: Size, b: Size): void {
    const x = symbolName(a);
    const y = symbolName(b);
    if (!x || !y || x === y) return;
    if (this.byName.get(x)?.kind !== 'input' || this.byName.get(y)?.kind !== 'input') return;
    // the later-made symbol becomes the alias, so the first input's dimension names the pair
    const [keep, drop] = this.byName.get(x)!.slot < this.byName.get(y)!.slot ? [x, y] : [y, x];
    // a dimension --dim bounds keeps its name (the flag applies to it)
    if (this.byName.get(drop)!.flagged && !this.byName.get(keep)!.flagged) this.equalities.push([drop, keep]);
    else this.equalities.push([keep, drop]);
  }

  /**
   * A size the model computes at run time, at most `max`. Infinity when what computes it has no bound of its
   * own (a Resize output length from scales in the data): it then gets the default bound, as an input symbol
   * no --dim bounds (compiler/plan.ts), and the call is refused when the data asks for more. `guessed`: `max`
   * is only a default (a window length read from an input), so `--dim NAME=..MAX` may raise it too.
   * `min`: below 0 for a signed value read from data (a Slice step, which may be negative).
   */
  computed(hint: string, max: number, guessed = false, min = 0): Sym {
    let name = hint;
    for (let i = 2; this.byName.has(name); i++) name = `${hint}#${i}`;
    // `--dim NAME=..MAX` may bound a computed size more tightly than what computes it can reach.
    const option = this.options[name];
    const flagged = !!option && 'max' in option && option.max !== undefined;
    if (option) this.used.add(name);
    const wanted = flagged ? (option as { max: number }).max : max;
    const bound = flagged ? (guessed ? wanted : Math.min(max, wanted)) : max;
    const limit = bound === Infinity ? Infinity : Math.max(0, Math.min(bound, MAX_DIM));
    this.add({ name, kind: 'computed', min: Math.max(min, -MAX_DIM), max: limit, flagged, slot: 0 });
    return symbol(name);
  }

  private add(info: SymbolInfo): void {
    info.slot = this.byName.size;
    this.byName.set(info.name, info);
  }

  range(name: string): Interval {
    const s = this.byName.get(name);
    if (!s) throw new Error(`internal error: unknown symbol ${name}`);
    return [s.min, s.max];
  }

  /** Upper bound of a size (what memory is planned for). */
  upper(s: Size): number {
    return boundsOf(s, (n) => this.range(n))[1];
  }

  lower(s: Size): number {
    return boundsOf(s, (n) => this.range(n))[0];
  }

  /** Every --dim name must name a dimension of the model. */
  checkOptionsUsed(known: string[]): void {
    const unknown = Object.keys(this.options).filter((n) => !this.used.has(n));
    if (unknown.length) {
      throw new CompileError(
        'invalid-option',
        `--dim ${unknown.join(', ')}: the model has no dimension of that name. Its symbolic dimensions are: ${known.length ? known.join(', ') : 'none (every size is fixed)'}.`,
      );
    }
  }
}

/**
 * Parse one `--dim` value: `NAME=N` fixes a dimension, `NAME=..MAX` or `NAME=MIN..MAX` bounds it.
 * Throws CompileError('invalid-option') with what is wrong and the accepted forms.
 */
export function parseDimOption(text: string): [string, DimOption] {
  const m = /^(.+?)=(?:(\d+)|(\d*)\.\.(\d+))$/.exec(text.trim());
  const forms = 'NAME=N (a fixed size), NAME=..MAX or NAME=MIN..MAX (bounds)';
  if (!m) throw new CompileError('invalid-option', `--dim "${text}" is not one of ${forms}.`);
  const [, name, fixed, lo, hi] = m;
  const check = (v: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_DIM)
      throw new CompileError('invalid-option', `--dim ${name}: ${what} ${v} is not a size from 0 to ${MAX_DIM}.`);
    return v;
  };
  if (fixed !== undefined) {
    const value = check(Number(fixed), 'the size');
    if (value === 0) throw new CompileError('invalid-option', `--dim ${name}=0: a fixed size must be at least 1.`);
    return [name, { value }];
  }
  const min = lo === '' ? 0 : check(Number(lo), 'the minimum');
  const max = check(Number(hi), 'the maximum');
  if (max < Math.max(min, 1))
    throw new CompileError(
      'invalid-option',
      `--dim ${name}=${lo}..${hi}: the maximum must be at least the minimum and 1.`,
    );
  return [name, { min, max }];
}
