// What the benchmark is doing right now, on stderr: one line redrawn in place on a
// terminal, or a line every few seconds when stderr is a file or a pipe.
const REDRAW_MS = 250;
const PLAIN_EVERY_MS = 5000;

const tty = process.stderr.isTTY === true;
let lastDrawn = 0;
let current = '';
const runStarted = performance.now();

function clock(): string {
  const s = Math.floor((performance.now() - runStarted) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Replaces the status line (drawn at most every REDRAW_MS). */
export function status(text: string): void {
  current = text;
  const now = performance.now();
  if (now - lastDrawn < (tty ? REDRAW_MS : PLAIN_EVERY_MS)) return;
  lastDrawn = now;
  if (tty) process.stderr.write(`\r\x1b[2K[${clock()}] ${text.slice(0, (process.stderr.columns ?? 120) - 10)}`);
  else process.stderr.write(`[${clock()}] ${text}\n`);
}

/** A line that stays: a step started or finished. */
export function note(text: string): void {
  if (tty && current) process.stderr.write('\r\x1b[2K');
  current = '';
  lastDrawn = 0;
  process.stderr.write(`[${clock()}] ${text}\n`);
}

/** Calls `draw` every REDRAW_MS until the returned function is called. */
export function every(draw: () => void, ms = REDRAW_MS): () => void {
  const timer = setInterval(draw, ms);
  return () => clearInterval(timer);
}
