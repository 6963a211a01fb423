// The live tail: attempts as hookd records them, newest on top, streamed from the server.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveAttempt } from '../api.ts';
import { Badge } from '../components/badge.tsx';
import { Clipped } from '../components/clipped.tsx';
import { Page } from '../components/page.tsx';
import { Empty } from '../components/states.tsx';
import { SubscriptionLink } from '../components/subscription-link.tsx';
import { duration, shortId, timeOfDay } from '../format.ts';
import { followAttempts, type StreamState } from '../live-stream.ts';
import { useSubscriptionIndex } from '../subscription-index.ts';
import { useApplication } from '../application.ts';
import { useAuthEpoch } from '../use-resource.ts';
import { at } from '../paths.ts';

const KEEP = 200;
const BACKLOG = 20;

const STATE_TEXT: Record<StreamState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Connection lost, reconnecting…',
  closed: 'Disconnected',
};

export function LivePage() {
  const [attempts, setAttempts] = useState<LiveAttempt[]>([]);
  const [state, setState] = useState<StreamState>('connecting');
  const [paused, setPaused] = useState(false);
  const [outcome, setOutcome] = useState<'all' | 'failures'>('all');
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const held = useRef<LiveAttempt[]>([]);
  const epoch = useAuthEpoch();
  const application = useApplication();

  useEffect(() => {
    // Another application's tail starts afresh.
    setAttempts([]);
    held.current = [];
  }, [application]);

  useEffect(() => followAttempts({
    backlog: BACKLOG,
    onState: setState,
    onAttempt: (attempt) => {
      if (pausedRef.current) held.current.push(attempt);
      else setAttempts((list) => [attempt, ...list.filter((a) => a.id !== attempt.id)].slice(0, KEEP));
    },
  }), [epoch, application]);

  function resume() {
    const waiting = held.current.reverse();
    held.current = [];
    setAttempts((list) => [...waiting, ...list].slice(0, KEEP));
    setPaused(false);
  }

  const shown = outcome === 'all' ? attempts : attempts.filter((a) => a.outcome !== 'success');
  const subscriptions = useSubscriptionIndex(shown.map((a) => a.subscription_id));
  return (
    <Page
      title="Live tail"
      subtitle={
        <span class={`live-state state-${state}`} role="status" data-testid="live-state">
          <span class="dot" aria-hidden="true" /> {STATE_TEXT[state]}{paused && ` · paused, ${held.current.length} waiting`}
        </span>
      }
      actions={
        <>
          <label class="inline-field">
            <span>Show</span>
            <select value={outcome} onChange={(e) => setOutcome(e.currentTarget.value as 'all' | 'failures')}>
              <option value="all">all attempts</option>
              <option value="failures">failures only</option>
            </select>
          </label>
          {paused
            ? <button type="button" class="button primary" onClick={resume}>Resume</button>
            : <button type="button" class="button" onClick={() => setPaused(true)}>Pause</button>}
          <button type="button" class="button" onClick={() => setAttempts([])}>Clear</button>
        </>
      }
    >
      {shown.length === 0 ? (
        <Empty title={state === 'open' ? 'Waiting for attempts…' : 'No attempts to show.'}>
          <p>Each delivery attempt appears here the moment hookd records it, from every hookd process sharing this database.</p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table responsive live-table" aria-describedby="live-note">
            <caption id="live-note" class="visually-hidden">Attempts, newest first; the last {BACKLOG} recorded before opening this page come first.</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Outcome</th>
                <th scope="col" class="num">Status</th>
                <th scope="col" class="num">Duration</th>
                <th scope="col">Event type</th>
                <th scope="col">Attempt</th>
                <th scope="col">Delivery</th>
                <th scope="col">Subscription</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((a) => (
                <tr key={a.id} data-testid="live-row" data-outcome={a.outcome} data-delivery={a.delivery_id}>
                  <td data-label="Time" class="nowrap">{timeOfDay(a.created_at)}</td>
                  <td data-label="Outcome"><Badge value={a.outcome} /></td>
                  <td data-label="Status" class="num">{a.status_code ?? '—'}</td>
                  <td data-label="Duration" class="num">{duration(a.duration_ms)}</td>
                  <td data-label="Event type" class="clip-cell"><Clipped mono text={a.event_type} /></td>
                  <td data-label="Attempt">#{a.attempt_number}{a.trigger === 'manual' ? ' (manual)' : ''}</td>
                  <td data-label="Delivery" class="nowrap"><a class="mono" href={at(`/deliveries/${a.delivery_id}`)} title={a.delivery_id}>{shortId(a.delivery_id)}</a></td>
                  <td data-label="Subscription" class="clip-cell"><SubscriptionLink id={a.subscription_id} subscription={subscriptions.get(a.subscription_id)} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
