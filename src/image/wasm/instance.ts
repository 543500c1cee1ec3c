// Instantiating gradsight's WebAssembly kernels (the .wat files here, assembled to base64 by
// scripts/build-wasm.ts): synchronously, from bytes compiled into the bundle, so Node and the browser
// need neither a file nor a fetch. Where WebAssembly or its SIMD is missing, there is no instance and
// each caller keeps its JavaScript path.

/** The module's exports, or null where it cannot run here. */
export function instantiate<T>(base64: string): T | null {
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as T;
  } catch {
    return null;
  }
}

/**
 * Consecutive regions of a module's memory for one call, each 16-byte aligned with `slack` spare
 * bytes after it (kernels read and write whole vectors past a region's end).
 */
export class Regions {
  top = 0;
  constructor(private readonly slack: number) {}

  take(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil((bytes + this.slack) / 16) * 16;
    return at;
  }
}

/** Grows `memory` to hold `bytes` (it never shrinks); views made before this are detached by it. */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): void {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
}
