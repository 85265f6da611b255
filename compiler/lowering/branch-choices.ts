import { CompileError } from '../errors.js';
import type { OnnxNode } from '../onnx.js';

/**
 * Ifs whose branches give outputs of different ranks, on a condition known only at run time. ONNX allows
 * them (PyTorch exports `x.squeeze(-1)` as "if the last size is 1, Squeeze, else Identity"), but what reads
 * the output needs one rank. Such an If is compiled for one branch, inlined, behind a run-time check that
 * the condition takes it (ops/control.ts); which branch is the one what follows can take (the consumer's
 * needs): the lowering is tried with the then branch, and again with the else branch when the rest of the
 * graph does not compile, over every such If in turn (a depth-first search, in the order the Ifs are met).
 * When no choice compiles, the If is lowered as any other and its rank problem is reported.
 */
export class BranchChoices {
  /** The branch each If is compiled for (true: then). */
  private readonly chosen = new Map<OnnxNode, boolean>();
  /** Ifs in the order their choice was made. */
  private order: OnnxNode[] = [];
  /** Ifs met in this attempt that had no choice yet. */
  private fresh: OnnxNode[] = [];
  /** Ifs no choice worked for: their rank problem is reported. */
  private readonly refused = new Set<OnnxNode>();
  private attempts = 0;

  /** The last attempt compiled Ifs for one branch, and met no other If that needs a choice. */
  get choosing(): boolean {
    return this.order.length > 0 && this.fresh.length === 0;
  }

  /** The branch `node` is compiled for, if one was chosen. */
  choice(node: OnnxNode): boolean | undefined {
    return this.chosen.get(node);
  }

  /**
   * `node`'s branches differ in rank and its condition is known only at run time: true when a later attempt
   * will choose a branch for it (this attempt fails), false when its problem is to be reported.
   */
  meet(node: OnnxNode): boolean {
    if (this.refused.has(node)) return false;
    if (!this.fresh.includes(node)) this.fresh.push(node);
    return true;
  }

  /** The attempt failed: choose again; false when every choice was tried (report the failure). */
  retry(): boolean {
    if (++this.attempts > MAX_ATTEMPTS) return this.refuseAll();
    if (this.fresh.length) {
      for (const node of this.fresh) {
        this.chosen.set(node, true);
        this.order.push(node);
      }
      this.fresh = [];
      return true;
    }
    for (let i = this.order.length - 1; i >= 0; i--) {
      const node = this.order[i];
      if (this.chosen.get(node) !== true) continue;
      // The Ifs chosen after this one may not even be met on the other branch: they are chosen anew.
      for (const later of this.order.slice(i + 1)) this.chosen.delete(later);
      this.order = this.order.slice(0, i + 1);
      this.chosen.set(node, false);
      return true;
    }
    return this.refuseAll();
  }

  /** Every If chosen for is reported instead; true when that changes anything (one more attempt). */
  private refuseAll(): boolean {
    const changed = this.order.length > 0 || this.fresh.length > 0;
    for (const node of [...this.order, ...this.fresh]) this.refused.add(node);
    this.chosen.clear();
    this.order = [];
    this.fresh = [];
    return changed;
  }
}

/** Lowerings tried before the Ifs' rank problems are reported (each If met doubles the choices). */
const MAX_ATTEMPTS = 16;

/**
 * The failure to report when no choice compiled: the Ifs' rank problems (`final`), and what failed after
 * them with the branches first chosen (`chosen`), which may be the real cause (an op that fails anyway).
 */
export function withChosenProblems(final: CompileError, chosen: CompileError): CompileError {
  const seen = new Set(final.problems.map((p) => `${p.node}\n${p.message}`));
  const problems = [...final.problems, ...chosen.problems.filter((p) => !seen.has(`${p.node}\n${p.message}`))];
  if (problems.length === final.problems.length) return final;
  const code = final.code === chosen.code ? final.code : 'unsupported-ops';
  return new CompileError(code, `The model has ${problems.length} node(s) ml-widgets cannot compile:`, problems);
}
