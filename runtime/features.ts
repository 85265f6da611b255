/** WebAssembly feature detection with tiny probe modules (as wasm-feature-detect does). */

// (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);
// (func (result v128) i32.const 1 i8x16.splat i32.const 2 i8x16.splat i8x16.relaxed_swizzle)
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15,
  253, 128, 2, 11,
]);

const PROBES: Record<string, Uint8Array<ArrayBuffer>> = { simd: SIMD_PROBE, 'relaxed-simd': RELAXED_SIMD_PROBE };
const cache = new Map<string, boolean>();

export function hasWasmFeature(feature: string): boolean {
  let known = cache.get(feature);
  if (known === undefined) {
    const probe = PROBES[feature];
    known = typeof WebAssembly === 'object' && probe !== undefined && WebAssembly.validate(probe);
    cache.set(feature, known);
  }
  return known;
}

export function missingWasmFeatures(features: readonly string[]): string[] {
  return features.filter((f) => !hasWasmFeature(f));
}
