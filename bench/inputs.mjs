// Inputs shared by the bench pages: the same seeded data for every side of a case.

/**
 * `spec.rows` rows of `spec.rowShape`: real rows (bench/build/<name>.f32, repeated when the case asks for more
 * rows than the file holds) for classic models, else seeded uniform noise in [−1, 1) for networks.
 */
export async function makeInput(spec) {
  const size = spec.rows * spec.rowShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(size);
  if (spec.rowsFile) {
    const all = new Float32Array(await (await fetch(spec.rowsFile)).arrayBuffer());
    for (let at = 0; at < size; at += all.length) x.set(all.subarray(0, Math.min(all.length, size - at)), at);
    return x;
  }
  let s = 12345;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 2 - 1;
  }
  return x;
}
