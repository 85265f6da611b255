import { css } from 'lit';

/** The ranked list of <ml-classifier> and <ml-image-classifier>: label, bar and percentage per class. */
export const predictionStyles = css`
    .list {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: var(--ml-gap, 0.5em);
    }
    .row {
      display: grid;
      grid-template-columns: minmax(2em, var(--ml-label-width, 9em)) minmax(3em, 1fr) minmax(3.5em, max-content);
      align-items: center;
      gap: 0.75em;
    }
    .label {
      overflow-wrap: anywhere;
    }
    .row.top .label,
    .row.top .value {
      font-weight: var(--ml-top-font-weight, 600);
    }
    .bar {
      position: relative;
      overflow: hidden;
      height: var(--_height);
      border-radius: var(--_radius);
      background: var(--_track);
    }
    .fill {
      height: 100%;
      background: var(--_accent);
      transform-origin: left center;
      transition: transform 0.2s ease-out;
    }
    :host(:dir(rtl)) .fill {
      transform-origin: right center;
    }
    .row:not(.top) .fill {
      background: var(--ml-bar-color-secondary, color-mix(in srgb, var(--_accent) 55%, transparent));
    }
    .value {
      text-align: end;
      font-variant-numeric: tabular-nums;
    }
    @media (prefers-reduced-motion: reduce) {
      .fill {
        transition: none;
      }
    }
    @media (forced-colors: active) {
      .fill {
        background: Highlight;
      }
      .bar {
        border: 1px solid CanvasText;
      }
    }
  `;
