import { CompileError } from '../errors.js';

/** Read the prebuilt kernel library that ships beside the compiler (Node: file; browser: fetch). */
export async function loadKernels(relaxed: boolean): Promise<Uint8Array> {
  const url = new URL(relaxed ? '../../kernels-relaxed.wasm' : '../../kernels.wasm', import.meta.url);
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
