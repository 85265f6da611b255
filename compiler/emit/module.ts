import binaryen from 'binaryen';
import { headerWords } from '../../runtime/abi.js';
import { MAX_MODEL_MEMORY } from '../../runtime/meta.js';
import { CompileError } from '../errors.js';
import type { Program, RtValue } from '../program.js';
import { buildRun, type MemoryLayout } from './run.js';
import { buildThreadExports, type ThreadsMeta } from './threads.js';

export interface EmitInput {
  kernels: Uint8Array;
  relaxedSimd: boolean;
  program: Program;
  inputs: RtValue[];
  outputs: RtValue[];
  /** Rows one call may take (the row symbol's bound), or 1. */
  maxBatch: number;
  arenaBytes: number;
  /** Bytes of the run-time tables (RuntimeTable.offset is into them). */
  tableBytes: number;
  /** Also export each kernel call as `step<i>:<kernel>()`, for profiling (bench/profile.mjs). */
  exportSteps?: boolean;
  /** false: no exports for running on several threads (emit/threads.ts); default true. */
  threads?: boolean;
  /** Called with the final memory layout, returns the ml.meta JSON bytes. */
  meta(layout: {
    memoryBytes: number;
    weightBytes: number;
    kernels: string[];
    checks: string[];
    threads?: ThreadsMeta;
  }): Uint8Array;
}

const PAGE = 65536;
const align = (n: number, to: number) => Math.ceil(n / to) * to;

interface DataSegmentInfo {
  offset: number | null;
  data: Uint8Array;
  passive: boolean;
}

/** The module's data segments (binaryen.js's typings lag its API: getNumDataSegments/getDataSegmentInfo). */
function dataSegments(mod: binaryen.Module): DataSegmentInfo[] {
  const m = mod as unknown as {
    getNumDataSegments(): number;
    getDataSegmentByIndex(i: number): number;
    getDataSegmentInfo(ref: number): { offset: number | null; data: ArrayBuffer; passive: boolean };
  };
  const out: DataSegmentInfo[] = [];
  for (let i = 0; i < m.getNumDataSegments(); i++) {
    const info = m.getDataSegmentInfo(m.getDataSegmentByIndex(i));
    out.push({ offset: info.offset, data: new Uint8Array(info.data), passive: info.passive });
  }
  return out;
}

/**
 * Where everything goes, after the kernel library's own static data: weights, the I/O header, the symbol
 * slots, the run-time tables, the arena.
 */
export function layoutMemory(kernels: binaryen.Module, input: Omit<EmitInput, 'kernels' | 'meta'>): MemoryLayout {
  let end = 1024;
  for (const seg of dataSegments(kernels)) end = Math.max(end, (seg.offset ?? 0) + seg.data.byteLength);
  const dataBase = align(end, 64);
  input.program.sealData();
  const headerBase = align(dataBase + input.program.dataSize, 64);
  const words = headerWords(
    input.inputs.map((v) => v.dims.length),
    input.outputs.map((v) => v.dims.length),
  ).total;
  const symbolBase = align(headerBase + words * 4, 16);
  const tableBase = align(symbolBase + input.program.symbols.all.length * 4, 16);
  const arenaBase = align(tableBase + input.tableBytes, 64);
  return { dataBase, headerBase, symbolBase, tableBase, arenaBase };
}

/**
 * Build the model module: the kernel library plus a generated `run()`, the ABI exports, the weights as a
 * data segment and the `ml.meta` section; then drop every kernel the model does not call, so a model
 * carries only its own code.
 */
export function emitModel(input: EmitInput): Uint8Array {
  const { program } = input;
  const mod = binaryen.readBinary(input.kernels);
  try {
    const features =
      binaryen.Features.MVP |
      binaryen.Features.SIMD128 |
      binaryen.Features.BulkMemory |
      binaryen.Features.BulkMemoryOpt |
      binaryen.Features.SignExt |
      binaryen.Features.MutableGlobals |
      binaryen.Features.NontrappingFPToInt |
      (input.relaxedSimd ? binaryen.Features.RelaxedSIMD : 0);
    mod.setFeatures(features);
    const layout = layoutMemory(mod, input);

    // Kernel export name → internal function name; then no library export survives.
    const kernelFunctions = new Map<string, string>();
    const exportNames: string[] = [];
    for (let i = 0; i < mod.getNumExports(); i++) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      exportNames.push(info.name);
      if (info.kind === binaryen.ExternalFunction) kernelFunctions.set(info.name, info.value);
    }
    exportNames.forEach((name) => mod.removeExport(name));

    const run = buildRun(mod, program, input.inputs, input.outputs, layout, kernelFunctions);
    const threads = input.threads === false ? undefined : buildThreadExports(mod, program, run.parts);
    if (input.exportSteps) {
      program.steps.forEach((step, i) => {
        mod.addFunction(`step${i}`, binaryen.none, binaryen.none, [], run.stepCall(i));
        mod.addFunctionExport(`step${i}`, `step${i}:${'kernel' in step ? step.kernel : step.control.op}`);
      });
    }

    const pointerTable = (name: string, ptrs: number[]) => {
      let body = mod.i32.const(ptrs.length ? ptrs[ptrs.length - 1] : 0);
      for (let i = ptrs.length - 2; i >= 0; i--) {
        body = mod.select(mod.i32.eq(mod.local.get(0, binaryen.i32), mod.i32.const(i)), mod.i32.const(ptrs[i]), body);
      }
      mod.addFunction(name, binaryen.createType([binaryen.i32]), binaryen.i32, [], body);
      mod.addFunctionExport(name, name);
    };
    const constant = (name: string, value: number) => {
      mod.addFunction(name, binaryen.none, binaryen.i32, [], mod.i32.const(value));
      mod.addFunctionExport(name, name);
    };
    pointerTable(
      'inputPtr',
      input.inputs.map((v) => layout.arenaBase + v.buffer.offset),
    );
    pointerTable(
      'outputPtr',
      input.outputs.map((v) => layout.arenaBase + v.buffer.offset),
    );
    constant('headerPtr', layout.headerBase);
    constant('maxBatch', input.maxBatch);
    // How many inputs and outputs the code was compiled for (the metadata may say none: a constant model).
    constant('inputCount', input.inputs.length);
    constant('outputCount', input.outputs.length);
    // Lets the runtime check a batch's numbers in SIMD rather than in JavaScript (optional in the ABI).
    const check = kernelFunctions.get('first_non_finite');
    if (check) mod.addFunctionExport(check, 'firstNonFinite');

    const memoryBytes = align(layout.arenaBase + input.arenaBytes, PAGE);
    if (!(memoryBytes <= MAX_MODEL_MEMORY)) {
      throw new CompileError(
        'too-large',
        `The model needs ${memoryBytes} bytes of memory; the limit is ${MAX_MODEL_MEMORY}. Lower the bounds of its symbolic dimensions (--dim NAME=..MAX).`,
      );
    }
    // setMemory replaces the data segments: keep the library's own static data first.
    const segments: binaryen.MemorySegment[] = dataSegments(mod).map((seg) => ({
      offset: mod.i32.const(seg.offset ?? 0),
      data: seg.data,
      passive: seg.passive,
    }));
    const weights = program.dataSegment();
    if (weights.byteLength) segments.push({ offset: mod.i32.const(layout.dataBase), data: weights, passive: false });
    // Initial == maximum: the model can never take more memory than its plan.
    mod.setMemory(memoryBytes / PAGE, memoryBytes / PAGE, 'memory', segments);
    if (mod.getStart()) mod.setStart(0 as unknown as binaryen.FunctionRef);

    mod.runPasses(['remove-unused-module-elements']);
    if (!mod.validate()) throw new Error('internal error: the generated module does not validate');
    const kernels = [...program.kernels].sort();
    mod.addCustomSection(
      'ml.meta',
      input.meta({ memoryBytes, weightBytes: weights.byteLength, kernels, checks: run.checks, threads }),
    );
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
