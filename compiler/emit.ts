import binaryen from 'binaryen';
import { CompileError } from './errors.js';
import { MAX_MODEL_MEMORY } from '../runtime/meta.js';
import { KERNELS } from './abi/kernels.js';
import type { Arg, Program, Step } from './program.js';

export interface EmitInput {
  kernels: Uint8Array;
  relaxedSimd: boolean;
  program: Program;
  inputOffsets: number[];
  outputOffsets: number[];
  maxBatch: number;
  arenaBytes: number;
  /** Also export each kernel call as `step<i>(rows)`, for profiling (bench/profile.mjs). */
  exportSteps?: boolean;
  /** Called with the final memory layout, returns the ml.meta JSON bytes. */
  meta(layout: { memoryBytes: number; weightBytes: number; kernels: string[] }): Uint8Array;
}

export interface Layout {
  dataBase: number;
  arenaBase: number;
}

const PAGE = 65536;

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

/** Where the weights and the arena go: after the kernel library's own static data, 64-byte aligned. */
export function layoutMemory(kernels: binaryen.Module, dataBytes: number): Layout {
  let end = 1024;
  for (const seg of dataSegments(kernels)) end = Math.max(end, (seg.offset ?? 0) + seg.data.byteLength);
  const dataBase = Math.ceil(end / 64) * 64;
  return { dataBase, arenaBase: Math.ceil((dataBase + dataBytes) / 64) * 64 };
}

/**
 * Build the model module: the kernel library plus a generated straight-line `run(rows)`, the ABI
 * exports, the weights as a data segment and the `ml.meta` section; then drop every kernel the model
 * does not call, so a model carries only its own code.
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
    const layout = layoutMemory(mod, program.dataSize);

    // Kernel export name → internal function name; then no library export survives.
    const kernelFunctions = new Map<string, string>();
    const exportNames: string[] = [];
    for (let i = 0; i < mod.getNumExports(); i++) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      exportNames.push(info.name);
      if (info.kind === binaryen.ExternalFunction) kernelFunctions.set(info.name, info.value);
    }
    exportNames.forEach((name) => mod.removeExport(name));

    const rows = () => mod.local.get(0, binaryen.i32);
    const expr = (a: Arg): binaryen.ExpressionRef => {
      switch (a.t) {
        case 'i32':
          return mod.i32.const(a.v);
        case 'f32':
          return mod.f32.const(a.v);
        case 'rows':
          return a.times === 1 ? rows() : mod.i32.mul(rows(), mod.i32.const(a.times));
        case 'buf':
          return mod.i32.const(layout.arenaBase + a.b.offset + (a.off ?? 0));
        case 'data':
          return mod.i32.const(layout.dataBase + a.d.offset);
        case 'null':
          return mod.i32.const(0);
      }
    };
    /** A step's arguments in the kernel's parameter order (compiler/abi/kernels.ts). */
    const stepArgs = (step: Step): binaryen.ExpressionRef[] => {
      const args = step.args();
      const params = KERNELS[step.kernel].params;
      const extra = Object.keys(args).filter((name) => !params.some(([p]) => p === name));
      if (extra.length) throw new Error(`internal error: ${step.kernel} has no parameter ${extra.join(', ')}`);
      return params.map(([name]) => {
        if (!args[name]) throw new Error(`internal error: ${step.kernel} called without ${name}`);
        return expr(args[name]);
      });
    };
    const call = (step: Step) => {
      const fn = kernelFunctions.get(step.kernel);
      if (!fn)
        throw new CompileError(
          'kernels-missing',
          `The kernel library has no "${step.kernel}" kernel: it is older than the compiler. Rebuild it with "npm run build:kernels".`,
        );
      return mod.call(fn, stepArgs(step), binaryen.none);
    };
    const calls = program.steps.map(call);
    if (input.exportSteps) {
      // Each step again as its own function (the kernel calls are re-built: expressions cannot be shared).
      program.steps.forEach((step, i) => {
        mod.addFunction(`step${i}`, binaryen.createType([binaryen.i32]), binaryen.none, [], call(step));
        mod.addFunctionExport(`step${i}`, `step${i}:${step.kernel}`);
      });
    }
    mod.addFunction(
      'run',
      binaryen.createType([binaryen.i32]),
      binaryen.none,
      [],
      mod.block(null, calls, binaryen.none),
    );
    mod.addFunctionExport('run', 'run');

    const pointerTable = (name: string, ptrs: number[]) => {
      let body = mod.i32.const(ptrs.length ? ptrs[ptrs.length - 1] : 0);
      for (let i = ptrs.length - 2; i >= 0; i--) {
        body = mod.select(mod.i32.eq(mod.local.get(0, binaryen.i32), mod.i32.const(i)), mod.i32.const(ptrs[i]), body);
      }
      mod.addFunction(name, binaryen.createType([binaryen.i32]), binaryen.i32, [], body);
      mod.addFunctionExport(name, name);
    };
    pointerTable(
      'inputPtr',
      input.inputOffsets.map((o) => layout.arenaBase + o),
    );
    pointerTable(
      'outputPtr',
      input.outputOffsets.map((o) => layout.arenaBase + o),
    );
    mod.addFunction('maxBatch', binaryen.none, binaryen.i32, [], mod.i32.const(input.maxBatch));
    mod.addFunctionExport('maxBatch', 'maxBatch');
    // Lets the runtime check a batch's numbers in SIMD rather than in JavaScript (optional in the ABI).
    const check = kernelFunctions.get('first_non_finite');
    if (check) mod.addFunctionExport(check, 'firstNonFinite');

    const memoryBytes = Math.ceil((layout.arenaBase + input.arenaBytes) / PAGE) * PAGE;
    if (!(memoryBytes <= MAX_MODEL_MEMORY)) {
      throw new CompileError(
        'too-large',
        `The model needs ${memoryBytes} bytes of memory; the limit is ${MAX_MODEL_MEMORY}. Lower --max-batch.`,
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
    mod.addCustomSection('ml.meta', input.meta({ memoryBytes, weightBytes: weights.byteLength, kernels }));
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** Read the prebuilt kernel library that ships beside the compiler (Node: file; browser: fetch). */
export async function loadKernels(relaxed: boolean): Promise<Uint8Array> {
  const url = new URL(relaxed ? '../kernels-relaxed.wasm' : '../kernels.wasm', import.meta.url);
  try {
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      return new Uint8Array(await readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new CompileError(
      'kernels-missing',
      `The kernel library ${url.href} is missing (${(err as Error).message}); run "npm run build:kernels".`,
    );
  }
}
