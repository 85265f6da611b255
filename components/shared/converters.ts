/** `labels="a, b, c"` ⇄ `['a', 'b', 'c']`. */
export const labelsConverter = {
  fromAttribute: (value: string | null) =>
    value === null || value.trim() === '' ? undefined : value.split(',').map((s) => s.trim()),
  toAttribute: (value: string[] | undefined) => value?.join(', '),
};
