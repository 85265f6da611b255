import { noChange } from 'lit';
import { Directive, directive, PartType, type ElementPart, type PartInfo } from 'lit/directive.js';

/**
 * Inline styles set through the CSSOM only (`el.style.setProperty`), as an element directive:
 * `<div ${styleProps({ transform: 'scaleX(0.5)' })}>`. Lit's `styleMap` writes its first render as a
 * `style="…"` attribute, which a `style-src 'self'` Content-Security-Policy blocks (the bars would keep
 * their default width and the page would log a violation). CSSOM writes are not inline styles to CSP.
 */
class StylePropsDirective extends Directive {
  private previous = new Set<string>();

  constructor(part: PartInfo) {
    super(part);
    if (part.type !== PartType.ELEMENT)
      throw new Error('styleProps goes in element position: <div ${styleProps({...})}>');
  }

  render(_props: Readonly<Record<string, string | undefined>>): unknown {
    return noChange;
  }

  override update(part: ElementPart, [props]: [Readonly<Record<string, string | undefined>>]): unknown {
    const style = (part.element as HTMLElement).style;
    for (const name of this.previous) {
      if (props[name] === undefined) {
        style.removeProperty(name);
        this.previous.delete(name);
      }
    }
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined) continue;
      style.setProperty(name, value);
      this.previous.add(name);
    }
    return noChange;
  }
}

export const styleProps = directive(StylePropsDirective);
