// Timing shared by the bench pages: warm-up, then interleaved samples so machine noise hits every side alike.

export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Time `sides` (name → async or sync call). Each sample is k back-to-back calls sized from the warm-up to
 * last ≥ targetMs; samples of the sides alternate. µs-scale calls get twice the samples (they are cheap, and
 * scheduler noise matters more there). Returns per-call medians and fastest samples in ms, k and the count.
 */
export async function timeSides(sides, { warmupMs, samples, targetMs }) {
  // Warm-up (JIT tiers, caches), then size k from the mean call time over the second half of the
  // warm-up (one timed call can be an outlier and would make the samples far too short or long).
  const k = {};
  let slowest = 0;
  for (const [side, run] of Object.entries(sides)) {
    const start = performance.now();
    let calls = 0;
    let t1 = 0;
    let calls1 = 0;
    while (performance.now() - start < warmupMs || calls < 4) {
      if (!t1 && performance.now() - start >= warmupMs / 2 && calls >= 2) [t1, calls1] = [performance.now(), calls];
      await run();
      calls++;
    }
    if (!t1) {
      // One call jumped past the whole warm-up: time one more.
      [t1, calls1] = [performance.now(), calls];
      await run();
      calls++;
    }
    const one = Math.max((performance.now() - t1) / (calls - calls1), 1e-4);
    slowest = Math.max(slowest, one);
    k[side] = Math.max(1, Math.ceil(targetMs / one));
  }
  const n = slowest < 1 ? samples * 2 : samples;
  const times = Object.fromEntries(Object.keys(sides).map((s) => [s, []]));
  for (let i = 0; i < n; i++) {
    for (const [side, run] of Object.entries(sides)) {
      const t0 = performance.now();
      for (let j = 0; j < k[side]; j++) await run();
      times[side].push((performance.now() - t0) / k[side]);
    }
  }
  return {
    medians: Object.fromEntries(Object.entries(times).map(([s, xs]) => [s, median(xs)])),
    // Fastest sample per side: the least disturbed by other load on a shared machine.
    mins: Object.fromEntries(Object.entries(times).map(([s, xs]) => [s, Math.min(...xs)])),
    k,
    samples: n,
  };
}
