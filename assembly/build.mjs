// Builds the kernel library twice from one source:
//   dist/kernels.wasm          SIMD
//   dist/kernels-relaxed.wasm  SIMD + relaxed SIMD (f32x4.relaxed_madd in GEMM), picked by feature detection
// and checks what the model compiler relies on: zero imports, no start function, exported memory and
// every ABI export present. Any failure exits non-zero.
import asc from 'assemblyscript/asc';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'assembly', 'index.ts');
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

export const KERNEL_EXPORTS = [
  'memory',
  'gemm',
  'unary_relu',
  'unary_leaky_relu',
  'unary_sigmoid',
  'unary_tanh',
  'unary_exp',
  'unary_log',
  'unary_neg',
  'unary_abs',
  'unary_sqrt',
  'unary_reciprocal',
  'unary_erf',
  'unary_clip',
  'unary_hard_sigmoid',
  'unary_hard_swish',
  'unary_gelu',
  'binary_add',
  'binary_sub',
  'binary_mul',
  'binary_div',
  'binary_pow',
  'binary_max',
  'binary_min',
  'softmax',
  'log_softmax',
  'copy',
  'fill',
  'im2col',
  'conv_depthwise',
  'maxpool',
  'avgpool',
  'global_avgpool',
  'global_maxpool',
  'lrn',
  'layer_norm',
  'nchw_to_nhwc',
  'nhwc_to_nchw',
  'transpose',
  'copy_strided',
];

const builds = [
  { file: 'kernels.wasm', flags: [] },
  { file: 'kernels-relaxed.wasm', flags: ['--enable', 'relaxed-simd'] },
];

const IMPORT_SECTION = 2;
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
  const info = { sections: [], importCount: 0, exports: new Map(), dataBytes: 0 };
  const kinds = ['function', 'table', 'memory', 'global', 'tag'];
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const end = pos + size;
    info.sections.push(id);
    if (id === IMPORT_SECTION) info.importCount = leb();
    if (id === DATA_SECTION) info.dataBytes = size;
    if (id === EXPORT_SECTION) {
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = new TextDecoder().decode(bytes.subarray(pos, pos + len));
        pos += len;
        const kind = kinds[bytes[pos++]];
        leb();
        info.exports.set(name, kind);
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
  const exports = info.exports;
  if (exports.get('memory') !== 'memory') fail(`${build.file} does not export its memory`);
  const missing = KERNEL_EXPORTS.filter((name) => !exports.has(name));
  if (missing.length) fail(`${build.file} lacks exports: ${missing.join(', ')}`);

  console.log(`${path.relative(root, outFile)}  ${bytes.length} bytes (data segments: ${info.dataBytes} bytes)`);
}
