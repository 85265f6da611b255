import { css } from 'lit';

/**
 * Styles every element shares: the host box, the loading area and progress bar, the error box and the
 * visually hidden status region. Elements add their own after these.
 */
export const baseStyles = css`
  :host {
    /* A block, so a theme's content column holds it (an inline custom element escapes it). */
    display: block;
    font: var(--ml-font, inherit);
    color: var(--ml-color, inherit);
    --_accent: var(--ml-bar-color, #2563eb);
    --_track: var(--ml-bar-background, color-mix(in srgb, currentColor 12%, transparent));
    --_height: var(--ml-bar-height, 0.75em);
    --_radius: var(--ml-bar-radius, 999px);
  }
  :host([hidden]) {
    display: none;
  }
  .base {
    position: relative;
    display: grid;
    gap: var(--ml-gap, 0.5em);
  }
  .progress {
    position: relative;
    overflow: hidden;
    height: var(--_height);
    border-radius: var(--_radius);
    background: var(--_track);
  }
  .progress-fill {
    height: 100%;
    background: var(--_accent);
    transform-origin: left center;
    transition: transform 0.2s ease-out;
  }
  :host(:dir(rtl)) .progress-fill {
    transform-origin: right center;
  }
  .loading {
    display: grid;
    gap: 0.4em;
  }
  .loading-text,
  .muted {
    color: var(--ml-muted-color, color-mix(in srgb, currentColor 65%, transparent));
  }
  .progress.indeterminate .progress-fill {
    width: 40%;
    animation: ml-slide 1.2s ease-in-out infinite;
  }
  @keyframes ml-slide {
    from {
      transform: translateX(-100%);
    }
    to {
      transform: translateX(250%);
    }
  }
  .error {
    padding: 0.6em 0.8em;
    border-radius: var(--ml-error-radius, 0.4em);
    border: 1px solid var(--ml-error-color, #b91c1c);
    color: var(--ml-error-color, #b91c1c);
    background: var(--ml-error-background, color-mix(in srgb, var(--ml-error-color, #b91c1c) 8%, transparent));
    overflow-wrap: anywhere;
  }
  .error-title {
    font-weight: 600;
  }
  /* Read by screen readers, not shown (unless a page styles ::part(status)). */
  .status {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    clip-path: inset(50%);
    white-space: nowrap;
    border: 0;
  }
  @media (prefers-reduced-motion: reduce) {
    .progress-fill {
      transition: none;
    }
    .progress.indeterminate .progress-fill {
      animation-duration: 3s;
    }
  }
  @media (forced-colors: active) {
    .progress-fill {
      background: Highlight;
    }
    .progress {
      border: 1px solid CanvasText;
    }
  }
`;
