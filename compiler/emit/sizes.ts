import binaryen from 'binaryen';
import type { Atom, Size } from '../shape/size.js';

/**
 * A size as i32 instructions: the polynomial's terms summed, each a coefficient times its atoms; a symbol
 * is a load from its slot. Floor division and modulo round toward −∞, as the shape arithmetic means them.
 */
export function sizeExpression(
  mod: binaryen.Module,
  s: Size,
  symbol: (name: string) => binaryen.ExpressionRef,
): binaryen.ExpressionRef {
  if (typeof s === 'number') return mod.i32.const(s);
  let total: binaryen.ExpressionRef | null = null;
  for (const [monomial, coeff] of s.terms) {
    let term: binaryen.ExpressionRef | null = null;
    for (const key of monomial ? monomial.split('·') : []) {
      const a = atomExpression(mod, s.atoms.get(key)!, symbol);
      term = term === null ? a : mod.i32.mul(term, a);
    }
    if (term === null) term = mod.i32.const(coeff);
    else if (coeff !== 1) term = mod.i32.mul(term, mod.i32.const(coeff));
    total = total === null ? term : mod.i32.add(total, term);
  }
  return total ?? mod.i32.const(0);
}

function atomExpression(
  mod: binaryen.Module,
  atom: Atom,
  symbol: (name: string) => binaryen.ExpressionRef,
): binaryen.ExpressionRef {
  if (atom.kind === 'symbol') return symbol(atom.name);
  const a = () => sizeExpression(mod, atom.a, symbol);
  const b = () => sizeExpression(mod, atom.b, symbol);
  // ((a rem b) + b) rem b: the remainder with the divisor's sign (b > 0).
  const modulo = () => mod.i32.rem_s(mod.i32.add(mod.i32.rem_s(a(), b()), b()), b());
  switch (atom.kind) {
    case 'floordiv':
      return mod.i32.div_s(mod.i32.sub(a(), modulo()), b());
    case 'mod':
      return modulo();
    case 'min':
      return mod.select(mod.i32.lt_s(a(), b()), a(), b());
    case 'max':
      return mod.select(mod.i32.gt_s(a(), b()), a(), b());
  }
}
