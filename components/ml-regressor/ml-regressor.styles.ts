import { css } from 'lit';
import { baseStyles } from '../shared/styles.js';

export const styles = [
  baseStyles,
  css`
    .caption {
      font-weight: 600;
    }
    .values {
      margin: 0;
      display: grid;
      gap: var(--ml-gap, 0.5em);
    }
    .item {
      display: grid;
      gap: 0.1em;
    }
    .label {
      color: var(--ml-label-color, var(--ml-muted-color, color-mix(in srgb, currentColor 65%, transparent)));
      overflow-wrap: anywhere;
    }
    .value {
      margin: 0;
      color: var(--ml-value-color, inherit);
      font-size: var(--ml-value-font-size, 1.75em);
      font-weight: var(--ml-value-font-weight, 600);
      font-variant-numeric: tabular-nums;
      line-height: 1.2;
    }
  `,
];
