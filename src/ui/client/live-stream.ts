// Follows /api/v1/attempts/stream (Server-Sent Events). The `eventsource` package is used
// instead of the browser's EventSource because it can send the Authorization header.
import { EventSource } from 'eventsource';
import type { LiveAttempt } from './api.ts';
import { currentApplication } from './application.ts';
import { authHeaders, keyRejected } from './auth.ts';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export function followAttempts(options: {
  backlog: number;
  onAttempt: (attempt: LiveAttempt) => void;
  onState: (state: StreamState) => void;
}): () => void {
  const application = currentApplication();
  const filter = application ? `&application=${encodeURIComponent(application)}` : '';
  const source = new EventSource(`/api/v1/attempts/stream?backlog=${options.backlog}${filter}`, {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, ...authHeaders() } }),
  });
  options.onState('connecting');
  source.addEventListener('open', () => options.onState('open'));
  source.addEventListener('error', (event) => {
    if (event.code === 401) keyRejected();
    options.onState(source.readyState === source.CLOSED ? 'closed' : 'reconnecting');
  });
  source.addEventListener('attempt', (event) => options.onAttempt(JSON.parse(event.data) as LiveAttempt));
  return () => source.close();
}
