/**
 * A model for threads that share its memory: the same module, with its one memory imported as a shared
 * memory of exactly the planned size instead of defined inside it. The bytes are rewritten as they stream
 * in (only the sections before the code change: a memory section becomes an import section), so a
 * threaded load still compiles while it downloads, and a model file works both ways.
 *
 * The import is `env.memory`, shared, its maximum equal to its initial size: the planned size, never
 * more (iOS refuses to reserve large shared memories, onnxruntime#11679). Its data segments write the
 * weights into the shared memory each time a thread instantiates the module: the same bytes each time.
 */
import type { ModelMeta } from '../meta.js';

const CODE = 10;
const DATA = 11;
const TYPE = 1;
const IMPORT = 2;
const MEMORY = 5;
/** As SectionScanner: more than any model has before its code; past it the bytes pass unchanged. */
const MAX_PREFIX = 1 << 20;
const PAGE = 65536;

/** The shared memory a threaded instance of `meta`'s model imports. */
export function sharedMemoryFor(meta: Pick<ModelMeta, 'memoryBytes'>): WebAssembly.Memory {
  const pages = meta.memoryBytes / PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** The import a threaded model has (and nothing else). */
export const SHARED_MEMORY_IMPORT = { module: 'env', name: 'memory' } as const;

/**
 * Feeds a module's bytes through; `push` and `end` return what to pass on. `rewritten` says, at the end,
 * whether the memory became an import (a module with imports already, or with no memory section, passes
 * unchanged, and validation judges it).
 */
export class SharedMemoryRewriter {
  private prefix = new Uint8Array(4096);
  private length = 0;
  private passing = false;
  rewritten = false;

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.passing) return [chunk];
    if (this.length + chunk.byteLength > this.prefix.length) {
      const grown = new Uint8Array(Math.max(this.prefix.length * 2, this.length + chunk.byteLength));
      grown.set(this.prefix.subarray(0, this.length));
      this.prefix = grown;
    }
    this.prefix.set(chunk, this.length);
    this.length += chunk.byteLength;
    const end = codeStart(this.prefix, this.length);
    if (end === undefined && this.length <= MAX_PREFIX) return [];
    this.passing = true;
    const bytes = this.prefix.subarray(0, this.length);
    this.prefix = new Uint8Array(0);
    if (end === undefined) return [bytes];
    const head = rewrite(bytes.subarray(0, end));
    this.rewritten = head !== undefined;
    return head ? [head, bytes.subarray(end)] : [bytes];
  }

  end(): Uint8Array[] {
    if (this.passing) return [];
    this.passing = true;
    const bytes = this.prefix.subarray(0, this.length);
    const head = rewrite(bytes);
    this.rewritten = head !== undefined;
    return [head ?? bytes];
  }
}

interface Section {
  id: number;
  start: number;
  body: number;
  end: number;
}

/** Offset of the code (or data) section's header once every section before it is complete. */
function codeStart(b: Uint8Array, length: number): number | undefined {
  let p = 8;
  while (p < length) {
    if (b[p] === CODE || b[p] === DATA) return p;
    const size = leb(b, p + 1, length);
    if (!size) return undefined;
    p = size.next + size.value;
  }
  return undefined;
}

/** The sections before the code with the memory section turned into an import; undefined to leave them. */
function rewrite(head: Uint8Array): Uint8Array | undefined {
  const sections: Section[] = [];
  for (let p = 8; p < head.length;) {
    const size = leb(head, p + 1, head.length);
    if (!size || size.next + size.value > head.length) return undefined;
    sections.push({ id: head[p], start: p, body: size.next, end: size.next + size.value });
    p = size.next + size.value;
  }
  if (sections.some((s) => s.id === IMPORT)) return undefined;
  const memories = sections.filter((s) => s.id === MEMORY);
  if (memories.length !== 1) return undefined;
  const m = memories[0];
  const count = leb(head, m.body, m.end);
  if (!count || count.value !== 1) return undefined;
  const flags = head[count.next];
  // One memory with a maximum; not shared or 64-bit already.
  if (flags !== 1) return undefined;
  const limits = head.subarray(count.next + 1, m.end);
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const entry = [1, ...name(SHARED_MEMORY_IMPORT.module), ...name(SHARED_MEMORY_IMPORT.name), 2, 3, ...limits];
  const imports = Uint8Array.from([IMPORT, ...encodeLeb(entry.length), ...entry]);
  const parts: Uint8Array[] = [head.subarray(0, 8)];
  let inserted = false;
  for (const s of sections) {
    if (!inserted && s.id !== 0 && s.id !== TYPE) {
      parts.push(imports);
      inserted = true;
    }
    if (s.id !== MEMORY) parts.push(head.subarray(s.start, s.end));
  }
  if (!inserted) parts.push(imports);
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function leb(b: Uint8Array, p: number, limit: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (p >= limit) return undefined;
    const byte = b[p++];
    value += (byte & 0x7f) * scale;
    if (!(byte & 0x80)) return { value, next: p };
    scale *= 128;
  }
  return undefined;
}

function encodeLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
