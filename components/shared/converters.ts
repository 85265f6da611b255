/** `labels="a, b, c"` ⇄ `['a', 'b', 'c']`. */
export const labelsConverter = {
  fromAttribute: (value: string | null) =>
    value === null || value.trim() === '' ? undefined : value.split(',').map((s) => s.trim()),
  toAttribute: (value: string[] | undefined) => value?.join(', '),
};

/** `threads="auto"` or `threads="2"` ⇄ `'auto'` or `2`; anything else is `'auto'`. */
export const threadsConverter = {
  fromAttribute: (value: string | null): number | 'auto' => {
    const n = Number(value);
    return value !== null && value.trim() !== '' && Number.isInteger(n) && n >= 1 ? n : 'auto';
  },
  toAttribute: (value: number | 'auto') => String(value),
};
