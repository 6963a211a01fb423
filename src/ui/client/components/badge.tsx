// Delivery statuses and attempt outcomes as labelled badges: the word is always there, the
// colour only repeats it.
const TONES: Record<string, string> = {
  succeeded: 'good', success: 'good',
  failed: 'bad', http_error: 'bad', timeout: 'bad', network_error: 'bad', blocked: 'bad', rejected: 'bad',
  queued: 'wait', delivering: 'busy',
  filtered: 'neutral', cancelled: 'neutral',
  active: 'good', inactive: 'neutral', deprecated: 'wait',
};

const LABELS: Record<string, string> = { http_error: 'HTTP error' };

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span class={`badge tone-${TONES[value] ?? 'neutral'}`}>{label ?? LABELS[value] ?? value.replace(/_/g, ' ')}</span>;
}
