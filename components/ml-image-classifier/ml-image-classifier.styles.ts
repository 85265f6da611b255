import { css } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { predictionStyles } from '../shared/predictions.styles.js';

export const styles = [
  baseStyles,
  predictionStyles,
  css`
    .drop {
      display: grid;
      gap: 0.5em;
      justify-items: start;
      border-radius: var(--ml-drop-radius, 0.5em);
      outline: 2px dashed transparent;
      outline-offset: 2px;
    }
    .drop.dragging {
      outline-color: var(--_accent);
      background: color-mix(in srgb, var(--_accent) 8%, transparent);
    }
    .preview {
      display: block;
      max-width: 100%;
      max-height: var(--ml-preview-max-height, 16em);
      border-radius: var(--ml-preview-radius, 0.4em);
    }
    canvas.preview {
      image-rendering: pixelated;
      width: var(--ml-preview-width, auto);
    }
    ::slotted(img),
    ::slotted(video) {
      display: block;
      max-width: 100%;
      height: auto;
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5em;
    }
    button {
      font: inherit;
      padding: 0.35em 0.8em;
      border-radius: var(--ml-button-radius, 0.4em);
      border: 1px solid color-mix(in srgb, currentColor 35%, transparent);
      background: var(--ml-button-background, transparent);
      color: inherit;
      cursor: pointer;
    }
    button:focus-visible {
      outline: 2px solid var(--_accent);
      outline-offset: 2px;
    }
    .hint,
    .camera-status {
      color: var(--ml-muted-color, color-mix(in srgb, currentColor 65%, transparent));
      font-size: 0.9em;
    }
    @media (forced-colors: active) {
      .drop.dragging {
        outline-color: Highlight;
      }
    }
  `,
];
