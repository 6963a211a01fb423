// Text from the network, made safe to print on a terminal. A webhook body or header could
// otherwise carry escape sequences that retitle the window, clear the screen, move the
// cursor over earlier lines (a forged "✓ signature valid") or, on some terminals, answer
// back; bidirectional overrides could make text read other than it is. Every control
// character (C0, DEL, C1) and every bidi control is shown as an escape instead: \x1b, \u202e.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escape(char: string): string {
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unsafe character escaped, except those in `keep` (e.g. '\n\t' for a body). */
export function printable(text: string, keep = ''): string {
  return text.replace(UNSAFE, (char) => (keep.includes(char) ? char : escape(char)));
}
