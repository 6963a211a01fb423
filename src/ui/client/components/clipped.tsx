// Text that may be long (a 100-character event type, a URL): cut to fit its column with an
// ellipsis, whole in the tooltip and to screen readers.
import type { ComponentChildren } from 'preact';

export function Clipped({ text, href, mono, children }: { text: string; href?: string; mono?: boolean; children?: ComponentChildren }) {
  const className = `clipped${mono ? ' mono' : ''}`;
  const shown = children ?? text;
  return href
    ? <a class={className} href={href} title={text}>{shown}</a>
    : <span class={className} title={text}>{shown}</span>;
}
