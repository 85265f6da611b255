import { CODES } from './abi/codes.js';
import {
  isKernelStep,
  resolve,
  type KernelStep,
  type Buffer,
  type GemmEpilogue,
  type Program,
  type RtValue,
  type Step,
} from './program.js';

/**
 * The fusion pass: GEMM and convolution epilogues absorb the steps that follow them. A step marked
 * `fusable` (a per-column affine map or an activation, see EpilogueOp) folds into the epilogue of the GEMM
 * that wrote its run-time input when this step is the only reader of that value and the value is no graph
 * output: the step disappears and the GEMM writes the step's result (a per-column scale is multiplied into
 * the weights when they are packed, after this pass). Nothing folds after an activation.
 *
 * Buffers are overwritten in place, so readers are counted per value written ("version"), not per buffer.
 * Returns the number of steps fused.
 */
export function fuseEpilogues(program: Program, outputs: readonly RtValue[]): number {
  const versions = valueVersions(program.steps, outputs);
  const removed = new Set<Step>();
  for (const step of program.steps) {
    const op = isKernelStep(step) ? step.fusable : undefined;
    if (!op || step.reads.length !== 1 || step.writes.length !== 1) continue;
    const input = versions.read.get(step)!;
    const epilogue = input.epilogue;
    if (!epilogue || input.readers.size !== 1 || input.isOutput || input.crossesControl) continue;
    if (epilogue.act !== CODES.ACT.NONE) continue; // an activation ends what the epilogue can absorb
    if (!absorb(epilogue, op)) continue;
    removed.add(step);
    // The GEMM now writes what the step wrote: the step's output version becomes the GEMM's.
    const output = versions.written.get(step)!;
    if (output.buffer !== input.buffer) output.buffer.mergedInto = input.buffer;
    input.readers = output.readers;
    input.isOutput = output.isOutput;
    for (const r of output.readers) versions.read.set(r, input);
  }
  const kept = program.steps.filter((s) => !removed.has(s));
  program.steps.splice(0, program.steps.length, ...kept);
  return removed.size;
}

/** Fold an affine map or an activation into an epilogue; false when the shapes do not line up. */
function absorb(epilogue: GemmEpilogue, op: NonNullable<KernelStep['fusable']>): boolean {
  if (op.kind === 'activation') {
    epilogue.act = op.act;
    epilogue.p0 = op.p0;
    epilogue.p1 = op.p1;
    return true;
  }
  if (op.channels !== epilogue.n) return false;
  if (op.scale) {
    const s = op.scale;
    epilogue.scale = (epilogue.scale ?? new Float32Array(epilogue.n).fill(1)).map((v, j) => v * s[j]);
    epilogue.bias = epilogue.bias && epilogue.bias.map((v, j) => v * s[j]);
  }
  if (op.bias) {
    const t = op.bias;
    epilogue.bias = (epilogue.bias ?? new Float32Array(epilogue.n)).map((v, j) => v + t[j]);
  }
  return true;
}

/** One value written into a buffer, and who reads it before the buffer is written again. */
interface Version {
  buffer: Buffer;
  /** Set when every step that wrote it is a GEMM/convolution sharing this epilogue. */
  epilogue: GemmEpilogue | undefined;
  readers: Set<Step>;
  isOutput: boolean;
  /** It is alive at a control step (an If's branch, a loop's body): its readers may run apart from its writer. */
  crossesControl?: boolean;
}

/**
 * Def-use over buffer versions. The GEMMs of a grouped convolution write column slices of one buffer with
 * one shared epilogue: together they write one version.
 */
function valueVersions(steps: readonly Step[], outputs: readonly RtValue[]) {
  const current = new Map<Buffer, Version>();
  const read = new Map<Step, Version>();
  const written = new Map<Step, Version>();
  for (const step of steps) {
    if (!isKernelStep(step)) for (const v of current.values()) v.crossesControl = true;
    for (const b of step.reads) {
      const buffer = resolve(b);
      let v = current.get(buffer);
      if (!v) current.set(buffer, (v = { buffer, epilogue: undefined, readers: new Set(), isOutput: false }));
      v.readers.add(step);
      read.set(step, v);
    }
    for (const b of step.writes) {
      const buffer = resolve(b);
      const v = current.get(buffer);
      const epilogue = isKernelStep(step) ? step.epilogue : undefined;
      const partOfGroup = v && epilogue && v.epilogue === epilogue && !step.reads.includes(b) && !v.crossesControl;
      const w = partOfGroup ? v : { buffer, epilogue, readers: new Set<Step>(), isOutput: false };
      current.set(buffer, w);
      written.set(step, w);
    }
  }
  for (const o of outputs) {
    const v = current.get(resolve(o.buffer));
    if (v) v.isOutput = true;
  }
  return { read, written };
}
