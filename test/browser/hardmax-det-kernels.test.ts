// Hardmax (assembly/softmax.ts) and Det (assembly/det.ts) through the ABI table, against references
// written from the ONNX definitions: Hardmax puts 1 at the first largest element along the axis (ties go
// to the first, as onnxruntime's std::max_element), Det is the determinant by cofactor expansion in
// double precision (another algorithm than the kernel's LU). Run `npm run build:kernels` first.
import { expect } from '@open-wc/testing';
import {
  Arena,
  CANARY,
  TAIL,
  call,
  describeEachBuild,
  mismatch,
  randomArray,
  rng,
  type KernelExports,
} from './kernel-harness.js';

/** Hardmax over [outer, axis, inner]: 1 at the first maximum of each line. */
function hardmaxRef(x: Float32Array, outer: number, axis: number, inner: number): number[] {
  const y = new Array<number>(x.length).fill(0);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const at = (a: number) => (o * axis + a) * inner + i;
      let best = 0;
      for (let a = 1; a < axis; a++) if (x[at(a)] > x[at(best)]) best = a;
      if (axis > 0) y[at(best)] = 1;
    }
  return y;
}

/** det(m) of an n×n row-major matrix by cofactor expansion along the first row (doubles). */
function detRef(m: ArrayLike<number>, n: number): number {
  if (n === 0) return 1;
  if (n === 1) return m[0];
  let d = 0;
  for (let j = 0; j < n; j++) {
    const minor: number[] = [];
    for (let r = 1; r < n; r++) for (let c = 0; c < n; c++) if (c !== j) minor.push(m[r * n + c]);
    d += (j % 2 ? -1 : 1) * m[j] * detRef(minor, n - 1);
  }
  return d;
}

/** The sum of |terms| of the expansion: the scale a rounding error of the determinant is relative to. */
function detScale(m: ArrayLike<number>, n: number): number {
  if (n <= 1) return n === 0 ? 1 : Math.abs(m[0]);
  let s = 0;
  for (let j = 0; j < n; j++) {
    const minor: number[] = [];
    for (let r = 1; r < n; r++) for (let c = 0; c < n; c++) if (c !== j) minor.push(m[r * n + c]);
    s += Math.abs(m[j]) * detScale(minor, n - 1);
  }
  return s;
}

describeEachBuild('hardmax and det kernels', (env) => {
  let k: KernelExports;
  let arena: Arena;

  before(() => {
    k = env.k as KernelExports;
    arena = env.arena;
  });

  it('hardmax: inner = 1 and > 1, ties to the first, ±Inf, 1-sized and empty axes; nothing past y', () => {
    const rand = rng(1401);
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [3, 5, 1],
      [2, 4, 3],
      [1, 7, 6],
      [4, 1, 2],
      [2, 3, 0],
      [0, 3, 2],
      [2, 0, 3],
    ];
    for (const [outer, axis, inner] of shapes) {
      for (const kind of ['random', 'ties', 'infinities']) {
        const n = outer * axis * inner;
        const x =
          kind === 'random'
            ? randomArray(n, rand, -5, 5)
            : Float32Array.from({ length: n }, () => (kind === 'ties' ? Math.floor(3 * rand()) : -Infinity));
        if (kind === 'infinities' && n > 1) x[n - 1] = Infinity;
        const what = `hardmax [${outer},${axis},${inner}] ${kind}`;
        arena.reset();
        const xp = arena.put(x, 4);
        const yp = arena.out(n, 8);
        call(k, 'hardmax', { x: xp, y: yp, outer, axis, inner });
        expect(Array.from(arena.f32(yp, n)), what).to.deep.equal(hardmaxRef(x, outer, axis, inner));
        expect(Array.from(arena.f32(yp + n * 4, TAIL)), `${what}: past y`).to.deep.equal(Array(TAIL).fill(CANARY));
      }
    }
  });

  it('det: n = 0…6 over several batches, singular and permuted matrices, within rounding of its terms', () => {
    const rand = rng(1402);
    for (let n = 0; n <= 6; n++) {
      for (const batches of [1, 3]) {
        const x = randomArray(batches * n * n, rand, -3, 3);
        if (n >= 2) {
          // batch 0: rows 0 and 1 equal (singular); the last batch: a zero first column (pivoting swaps).
          for (let c = 0; c < n; c++) x[n + c] = x[c];
          const last = (batches - 1) * n * n;
          if (batches > 1) for (let r = 0; r < n - 1; r++) x[last + r * n] = 0;
        }
        const what = `det n=${n} batches=${batches}`;
        arena.reset();
        const xp = arena.put(x, 4);
        const yp = arena.out(batches);
        const scratch = arena.alloc(2 * n * n);
        call(k, 'det', { x: xp, y: yp, batches, n, scratch });
        const got = arena.f32(yp, batches);
        for (let b = 0; b < batches; b++) {
          const m = x.subarray(b * n * n, (b + 1) * n * n);
          const err = mismatch(got[b], Math.fround(detRef(m, n)), 0, 1e-6 * detScale(m, n) + 1e-30);
          if (err) expect.fail(`${what} [${b}]: ${err}`);
        }
        expect(Array.from(arena.f32(yp + batches * 4, TAIL)), `${what}: past y`).to.deep.equal(
          Array(TAIL).fill(CANARY),
        );
      }
    }
  });

  it('det: a diagonal matrix is the product of its diagonal, exactly; a swap of two rows flips the sign', () => {
    arena.reset();
    const n = 4;
    const diag = [2, -0.5, 8, 3];
    const m = new Float32Array(n * n);
    diag.forEach((v, i) => (m[i * n + i] = v));
    const swapped = new Float32Array(m);
    for (let c = 0; c < n; c++) [swapped[c], swapped[2 * n + c]] = [m[2 * n + c], m[c]];
    const xp = arena.put([...m, ...swapped]);
    const yp = arena.out(2);
    call(k, 'det', { x: xp, y: yp, batches: 2, n, scratch: arena.alloc(2 * n * n) });
    expect(Array.from(arena.f32(yp, 2))).to.deep.equal([-24, 24]);
  });
});
