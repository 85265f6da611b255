/**
 * Reads what the WebAssembly JS API does not reveal about a module — its memory limits and whether it
 * has a start function — from the bytes as they stream in, so the loader can refuse a module that
 * asks for more memory than its `ml.meta` plan, or would run code on instantiation, before it runs.
 * Only the sections before the code section are kept (a few hundred bytes for our models).
 */

export interface MemoryLimits {
  /** Pages of 64 KiB. */
  initial: number;
  maximum?: number;
  shared: boolean;
  memory64: boolean;
}

export interface ModuleShape {
  memories: MemoryLimits[];
  hasStart: boolean;
  /** Imported memories (a threaded model imports its shared memory), by module and name. */
  importedMemories: (MemoryLimits & { module: string; name: string })[];
}

const CODE = 10;
const DATA = 11;
const IMPORT = 2;
const MEMORY = 5;
const START = 8;
/** More than any sane model puts before its code section; past it the module is refused. */
const MAX_PREFIX = 1 << 20;

export class SectionScanner {
  private buffer = new Uint8Array(256);
  private length = 0;
  private shape: ModuleShape = { memories: [], hasStart: false, importedMemories: [] };
  /** Offset of the next unread section header. */
  private at = 8;
  private finished = false;
  private overflow = false;

  /** Feed the next bytes of the module. */
  push(chunk: Uint8Array): void {
    if (this.finished || this.overflow) return;
    const need = this.length + chunk.byteLength;
    if (need > MAX_PREFIX) {
      // Keep what fits: a code section may still start inside it.
      chunk = chunk.subarray(0, MAX_PREFIX - this.length);
      this.overflow = true;
    }
    if (this.length + chunk.byteLength > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + chunk.byteLength));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length += chunk.byteLength;
    this.scan();
  }

  /**
   * The module's memories and start function once everything before its code section was seen (or
   * the whole module, given `complete`); null when that part was too large to check.
   */
  result(complete: boolean): ModuleShape | null {
    if (this.finished) return this.shape;
    return complete && !this.overflow ? this.shape : null;
  }

  private scan(): void {
    const b = this.buffer;
    while (!this.finished) {
      let p = this.at;
      if (p >= this.length) return;
      const id = b[p++];
      if (id === CODE || id === DATA) {
        this.finished = true;
        return;
      }
      const size = readLeb(b, p, this.length);
      if (!size) return; // header not complete yet
      p = size.next;
      const end = p + size.value;
      if (id === MEMORY || id === START || id === IMPORT) {
        if (end > this.length) return; // wait for the whole section
        if (id === START) this.shape.hasStart = true;
        else if (id === IMPORT) this.shape.importedMemories.push(...readImportedMemories(b, p, end));
        else this.shape.memories.push(...readMemories(b, p, end));
      }
      this.at = end;
    }
  }
}

function readLeb(b: Uint8Array, p: number, limit: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= limit) return undefined;
    const byte = b[p++];
    value += (byte & 0x7f) * scale; // arithmetic, not bit ops: limits can exceed 2^31
    if (!(byte & 0x80)) return { value, next: p };
    scale *= 128;
  }
  return undefined;
}

function readMemories(b: Uint8Array, p: number, end: number): MemoryLimits[] {
  const out: MemoryLimits[] = [];
  const count = readLeb(b, p, end);
  if (!count) return out;
  p = count.next;
  for (let i = 0; i < count.value && p < end; i++) {
    const limits = readLimits(b, p, end);
    if (!limits) break;
    out.push(limits.limits);
    p = limits.next;
  }
  return out;
}

function readLimits(b: Uint8Array, p: number, end: number): { limits: MemoryLimits; next: number } | undefined {
  const flags = b[p++];
  const initial = readLeb(b, p, end);
  if (!initial) return undefined;
  p = initial.next;
  let maximum: number | undefined;
  if (flags & 1) {
    const max = readLeb(b, p, end);
    if (!max) return undefined;
    maximum = max.value;
    p = max.next;
  }
  const limits = { initial: initial.value, maximum, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
  return { limits, next: p };
}

/** The memory imports of an import section; stops at the first entry it cannot read past. */
function readImportedMemories(b: Uint8Array, p: number, end: number): ModuleShape['importedMemories'] {
  const out: ModuleShape['importedMemories'] = [];
  const count = readLeb(b, p, end);
  if (!count) return out;
  p = count.next;
  const name = (): string | undefined => {
    const n = readLeb(b, p, end);
    if (!n || n.next + n.value > end) return undefined;
    p = n.next + n.value;
    return new TextDecoder().decode(b.subarray(n.next, p));
  };
  for (let i = 0; i < count.value && p < end; i++) {
    const module = name();
    const field = name();
    if (module === undefined || field === undefined) break;
    // Only memories follow in a model that may import; anything else is refused by its kind.
    if (b[p++] !== 2) break;
    const limits = readLimits(b, p, end);
    if (!limits) break;
    out.push({ module, name: field, ...limits.limits });
    p = limits.next;
  }
  return out;
}
