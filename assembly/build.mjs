// Builds the kernel library twice from one source:
//   dist/kernels.wasm          SIMD
//   dist/kernels-relaxed.wasm  SIMD + relaxed SIMD (f32x4.relaxed_madd in GEMM), picked by feature detection
// after generating assembly/generated/ from the ABI table (compiler/abi/), and checks what the model
// compiler relies on: zero imports, no start function, exported memory, and exports that are exactly the
// table's kernels with the table's parameter and result types. Any failure exits non-zero.
import asc from 'assemblyscript/asc';
import { generate } from './generate.mjs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'assembly', 'generated', 'index.ts');
const outDir = path.join(root, 'dist');

const COMMON_FLAGS = [
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '--use',
  'abort=',
  '--initialMemory',
  '256',
];

const builds = [
  { file: 'kernels.wasm', flags: [] },
  { file: 'kernels-relaxed.wasm', flags: ['--enable', 'relaxed-simd'] },
];

const TYPE_SECTION = 1;
const IMPORT_SECTION = 2;
const FUNCTION_SECTION = 3;
const EXPORT_SECTION = 7;
const START_SECTION = 8;
const DATA_SECTION = 11;

/**
 * Reads the section list, import count and exports straight from the binary: Node 20 cannot compile
 * the relaxed-SIMD build, so WebAssembly.Module is not an option for it.
 */
function inspectWasm(bytes) {
  let pos = 8;
  const leb = () => {
    let result = 0,
      shift = 0,
      byte;
    do {
      byte = bytes[pos++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  };
  const info = { sections: [], importCount: 0, exports: new Map(), dataBytes: 0, types: [], functionTypes: [] };
  const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };
  const kinds = ['function', 'table', 'memory', 'global', 'tag'];
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const end = pos + size;
    info.sections.push(id);
    if (id === IMPORT_SECTION) info.importCount = leb();
    if (id === TYPE_SECTION) {
      for (let n = leb(); n > 0; n--) {
        pos++; // 0x60: a function type
        const params = Array.from({ length: leb() }, () => VALTYPES[bytes[pos++]]);
        const results = Array.from({ length: leb() }, () => VALTYPES[bytes[pos++]]);
        info.types.push({ params, results });
      }
    }
    if (id === FUNCTION_SECTION) for (let n = leb(); n > 0; n--) info.functionTypes.push(leb());
    if (id === DATA_SECTION) info.dataBytes = size;
    if (id === EXPORT_SECTION) {
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = new TextDecoder().decode(bytes.subarray(pos, pos + len));
        pos += len;
        const kind = kinds[bytes[pos++]];
        const index = leb();
        info.exports.set(name, { kind, index });
      }
    }
    pos = end;
  }
  return info;
}

function fail(message) {
  console.error(`build:kernels: ${message}`);
  process.exit(1);
}

await mkdir(outDir, { recursive: true });
const { KERNELS } = await generate();
const WASM_TYPE = { ptr: 'i32', i32: 'i32', f32: 'f32' };

/** Every export is a table kernel with the table's signature, and every table kernel is exported. */
function checkExports(file, info) {
  const problems = [];
  for (const [name, { kind, index }] of info.exports) {
    if (name === 'memory' && kind === 'memory') continue;
    const spec = KERNELS[name];
    if (!spec) {
      problems.push(`exports ${kind} "${name}", which is not in the kernel table (compiler/abi/kernels.ts)`);
      continue;
    }
    // Imports would come first in the function index space; there are none (checked above).
    const type = info.types[info.functionTypes[index]];
    const want = spec.params.map(([, k]) => WASM_TYPE[k]).join(',');
    const wantResult = spec.returns ?? '';
    if (kind !== 'function' || type.params.join(',') !== want || type.results.join(',') !== wantResult) {
      problems.push(
        `${name} is (${type?.params.join(', ')}) -> [${type?.results.join(', ')}], the table says (${want}) -> [${wantResult}]`,
      );
    }
  }
  for (const name of Object.keys(KERNELS))
    if (!info.exports.has(name)) problems.push(`lacks the table's kernel ${name}`);
  if (problems.length) fail(`${file}:\n  ${problems.join('\n  ')}`);
}

for (const build of builds) {
  const outFile = path.join(outDir, build.file);
  const stderrChunks = [];
  const stderr = {
    write: (chunk) => {
      stderrChunks.push(String(chunk));
      return true;
    },
  };
  const { error } = await asc.main([entry, '-o', outFile, ...COMMON_FLAGS, ...build.flags], {
    stdout: process.stdout,
    stderr,
  });
  const diagnostics = stderrChunks.join('');
  if (diagnostics) process.stderr.write(diagnostics);
  if (error || /\bERROR\b/.test(diagnostics)) fail(`asc failed for ${build.file}${error ? `: ${error.message}` : ''}`);

  const bytes = new Uint8Array(await readFile(outFile));
  const info = inspectWasm(bytes);
  if (info.importCount !== 0) fail(`${build.file} has ${info.importCount} imports`);
  if (info.sections.includes(START_SECTION)) fail(`${build.file} has a start function`);
  // Where the engine can compile it (not the relaxed build on Node 20), cross-check with the real API.
  if (WebAssembly.validate(bytes)) {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
    if (imports.length) fail(`${build.file} has imports: ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
  }
  if (info.exports.get('memory')?.kind !== 'memory') fail(`${build.file} does not export its memory`);
  checkExports(build.file, info);

  console.log(`${path.relative(root, outFile)}  ${bytes.length} bytes (data segments: ${info.dataBytes} bytes)`);
}
