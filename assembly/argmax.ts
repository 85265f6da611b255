// ArgMax/ArgMin over a tensor viewed as [outer, len, inner]: writes i32 indices (the compiler keeps
// ONNX int64 indices as i32 at run time). Ties take the first index, or the last with selectLast.

@inline function argReduce(x: usize, y: usize, outer: i32, len: i32, inner: i32, selectLast: i32, wantMax: bool): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = x + (<usize>(o * len * inner + i) << 2);
      let best = load<f32>(base);
      let at = 0;
      for (let k = 1; k < len; k++) {
        const v = load<f32>(base + (<usize>(k * inner) << 2));
        const better = wantMax ? (selectLast ? v >= best : v > best) : (selectLast ? v <= best : v < best);
        if (better) {
          best = v;
          at = k;
        }
      }
      store<i32>(y + (<usize>(o * inner + i) << 2), at);
    }
  }
}

export function argmax(x: usize, y: usize, outer: i32, len: i32, inner: i32, selectLast: i32): void {
  argReduce(x, y, outer, len, inner, selectLast, true);
}

export function argmin(x: usize, y: usize, outer: i32, len: i32, inner: i32, selectLast: i32): void {
  argReduce(x, y, outer, len, inner, selectLast, false);
}
