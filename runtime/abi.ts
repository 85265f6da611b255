/**
 * The model ABI beyond its exports' names: the I/O header both sides read and write. At `headerPtr()`, in
 * i32 words: a status record (STATUS_WORDS), then each input's dims in order (written by the caller
 * before `run()`), then each output's dims (written by `run()`). `run()` returns a STATUS code; for a
 * failure the status record holds [code, …details] as STATUS says.
 */
export const STATUS_WORDS = 8;

export const STATUS = {
  OK: 0,
  /** [code, input, axis, expected, got]: a fixed dimension got another size. */
  DIM_MISMATCH: 1,
  /** [code, input, axis, max, got, min]: a symbolic dimension outside its compiled bounds. */
  OUT_OF_BOUNDS: 2,
  /** [code, input, axis, expected, got]: one symbol, two different sizes in the inputs. */
  DIM_INCONSISTENT: 3,
  /** [code, check, 0, a, b]: a run-time check (meta.checks[check]) found a ≠ b. */
  CHECK_FAILED: 4,
  /** [code, symbol slot, 0, max, got]: a size the model computes exceeded its bound. */
  COMPUTED_OUT_OF_BOUNDS: 5,
  /**
   * [code, check, 0, element]: a kernel found a value it cannot use (an index outside its axis, a Range
   * step of 0): meta.checks[check] says which, `element` is its position in the tensor that holds it.
   */
  INVALID_VALUE: 6,
} as const;

/** Word offsets of each input's and output's dims in the header. */
export function headerWords(
  inputRanks: readonly number[],
  outputRanks: readonly number[],
): {
  inputs: number[];
  outputs: number[];
  total: number;
} {
  let at = STATUS_WORDS;
  const inputs = inputRanks.map((r) => ((at += r), at - r));
  const outputs = outputRanks.map((r) => ((at += r), at - r));
  return { inputs, outputs, total: at };
}
