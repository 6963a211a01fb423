// One delivery: its payload, the headers sent, every attempt, and the actions an operator
// takes on it (retry now; replay the subscription's failed deliveries).
import { useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { ApiFailure, FINISHED, api, type Attempt, type DeliveryWithLogs } from '../api.ts';
import { Badge } from '../components/badge.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { Page } from '../components/page.tsx';
import { ReplayDialog } from '../components/replay-dialog.tsx';
import { Empty, ErrorNotice, Loaded } from '../components/states.tsx';
import { dateTime, duration, prettyJson, shortId } from '../format.ts';
import { useResource } from '../use-resource.ts';
import { at } from '../paths.ts';
import { useReadOnly } from '../permissions.ts';

function Headers({ headers }: { headers: Record<string, string> }) {
  const entries = Object.entries(headers).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p class="muted">No headers were recorded.</p>;
  return (
    <dl class="headers mono small">
      {entries.map(([name, value]) => (
        <div key={name} class="header-row">
          <dt>{name}</dt>
          <dd class="break">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** What the error adds to the attempt's status: "HTTP 500" alone is already in the heading. */
function errorBeyondStatus(attempt: Attempt): string | null {
  const details = attempt.error_details;
  if (!details || attempt.status_code === null) return details;
  const status = `HTTP ${attempt.status_code}`;
  if (details === status) return null;
  return details.startsWith(`${status}: `) ? details.slice(status.length + 2) : details;
}

function AttemptItem({ attempt }: { attempt: Attempt }) {
  const error = errorBeyondStatus(attempt);
  return (
    <li class="attempt" data-testid="attempt">
      <div class="attempt-head">
        <strong>Attempt {attempt.attempt_number}</strong>
        <Badge value={attempt.outcome} />
        <span>{attempt.status_code === null ? 'no response' : `HTTP ${attempt.status_code}`}</span>
        <span class="muted">{duration(attempt.duration_ms)}</span>
        <span class="muted">{dateTime(attempt.created_at)}</span>
        {attempt.trigger === 'manual' && <span class="tag">manual retry</span>}
      </div>
      {error && <p class="attempt-error">{error}</p>}
      {attempt.response_body ? (
        <details open={attempt.outcome !== 'success'}>
          <summary>Response body ({attempt.response_body.length} characters{attempt.response_body.length >= 4096 ? ', first 4 KiB' : ''})</summary>
          <pre class="code">{attempt.response_body}</pre>
        </details>
      ) : (
        <p class="muted small">{attempt.status_code === null ? 'No response was received.' : 'The response body was empty.'}</p>
      )}
      <details>
        <summary>Headers sent</summary>
        <Headers headers={attempt.request_headers} />
      </details>
    </li>
  );
}

/** The payload exactly as received and sent; indented on request (numbers and key order kept). */
function Payload({ eventId }: { eventId: string }) {
  const event = useResource((signal) => api.event(eventId, signal), [eventId]);
  const [pretty, setPretty] = useState(false);
  return (
    <Loaded resource={event} what="the payload">
      {(data) => {
        const bytes = new TextEncoder().encode(data.payload).length;
        const indented = prettyJson(data.payload);
        return (
          <>
            <div class="panel-head">
              <span class="muted small" data-testid="payload-size">{bytes.toLocaleString('en')} bytes as received, sent byte for byte</span>
              <div class="page-actions">
                {indented !== data.payload && (
                  <div class="segmented" role="group" aria-label="Payload view">
                    <button type="button" aria-pressed={!pretty} onClick={() => setPretty(false)}>As sent</button>
                    <button type="button" aria-pressed={pretty} onClick={() => setPretty(true)}>Pretty</button>
                  </div>
                )}
                <CopyButton text={data.payload} label="Copy payload" />
              </div>
            </div>
            <pre class="code" data-testid="payload" tabIndex={0} aria-label={pretty ? 'Payload, indented' : 'Payload as sent'}>{pretty ? indented : data.payload}</pre>
          </>
        );
      }}
    </Loaded>
  );
}

/** A delivery id that the API does not know: mistyped, or removed by retention. */
function NoSuchDelivery({ id }: { id: string }) {
  return (
    <Empty title="No such delivery.">
      <p>hookd has no delivery <span class="mono break">{id}</span>: the id is mistyped, or retention has removed the delivery with its history.</p>
      <p><a href={at('/deliveries')}>All deliveries</a></p>
    </Empty>
  );
}

function Summary({ d }: { d: DeliveryWithLogs }) {
  return (
    <dl class="settings">
      <dt>Status</dt><dd><Badge value={d.status} /></dd>
      <dt>Event type</dt><dd class="mono">{d.event_type}</dd>
      <dt>Subscription</dt><dd><a class="mono" href={at(`/subscriptions/${d.subscription_id}`)}>{d.subscription_id}</a></dd>
      <dt>Attempts</dt><dd>{d.attempts}</dd>
      <dt>Next attempt</dt><dd>{d.next_attempt_at ? dateTime(d.next_attempt_at) : '—'}</dd>
      <dt>Created</dt><dd>{dateTime(d.created_at)}</dd>
      <dt>Event id</dt><dd class="mono small">{d.event_id} <span class="muted">(the webhook-id receivers dedupe on)</span></dd>
    </dl>
  );
}

export function DeliveryPage() {
  const { params } = useRoute();
  const id = params.id!;
  const [unfinished, setUnfinished] = useState(true);
  const delivery = useResource(async (signal) => {
    try {
      const d = await api.delivery(id, signal);
      setUnfinished(!FINISHED.includes(d.status));
      return d;
    } catch (error) {
      // Nothing will come of asking again.
      if (error instanceof ApiFailure && error.status === 404) setUnfinished(false);
      throw error;
    }
  }, [id], unfinished ? 1000 : 0);
  const missing = delivery.error instanceof ApiFailure && delivery.error.status === 404;
  const [retry, setRetry] = useState<{ busy: boolean; error?: Error; note?: string }>({ busy: false });
  const [replaying, setReplaying] = useState(false);

  async function retryNow() {
    setRetry({ busy: true });
    try {
      await api.retryDelivery(id);
      setRetry({ busy: false, note: 'Retry queued: an attempt is made now.' });
      setUnfinished(true);
      delivery.reload();
    } catch (error) {
      setRetry({ busy: false, error: error as Error });
    }
  }

  const d = delivery.data;
  const readOnly = useReadOnly();
  return (
    <Page
      title={`Delivery ${shortId(id)}`}
      subtitle={d && <span><span class="mono">{d.event_type}</span> · <Badge value={d.status} /></span>}
      back={{ href: d ? `/deliveries?subscription_id=${d.subscription_id}` : '/deliveries', label: 'Deliveries' }}
      actions={d && !readOnly && (
        <>
          <button type="button" class="button primary" disabled={retry.busy || d.status === 'delivering' || d.status === 'cancelled'} onClick={retryNow}>
            {retry.busy ? 'Retrying…' : 'Retry now'}
          </button>
          <button type="button" class="button" onClick={() => setReplaying(true)}>Replay failed of subscription…</button>
        </>
      )}
    >
      {retry.note && <p class="notice good" role="status">{retry.note}</p>}
      {retry.error && <ErrorNotice error={retry.error} />}
      {missing ? <NoSuchDelivery id={id} /> : <Loaded resource={delivery} what="the delivery">
        {(data) => (
          <>
            <div class="columns">
              <section class="panel" aria-labelledby="summary-title">
                <h2 id="summary-title">Summary</h2>
                <Summary d={data} />
              </section>
              <section class="panel" aria-labelledby="headers-title">
                <h2 id="headers-title">Headers sent</h2>
                {data.logs.length === 0
                  ? <p class="muted">Nothing sent yet: the headers appear with the first attempt.</p>
                  : (
                    <>
                      <p class="muted small">With attempt {data.logs.at(-1)!.attempt_number}; each attempt below has its own.</p>
                      <Headers headers={data.logs.at(-1)!.request_headers} />
                    </>
                  )}
              </section>
            </div>
            <section class="panel" aria-labelledby="payload-title">
              <h2 id="payload-title">Payload</h2>
              <Payload eventId={data.event_id} />
            </section>
            <section class="panel" aria-labelledby="attempts-title">
              <h2 id="attempts-title">Attempts <span class="count">{data.logs.length}</span></h2>
              {data.logs.length === 0 ? (
                <Empty title={data.status === 'filtered' ? 'Not sent: the subscription does not take this event type.' : 'No attempt yet.'} />
              ) : (
                <ol class="attempts">
                  {[...data.logs].reverse().map((a) => <AttemptItem key={`${a.attempt_number}-${a.created_at}`} attempt={a} />)}
                </ol>
              )}
            </section>
            {replaying && (
              <ReplayDialog
                subscriptionId={data.subscription_id}
                onClose={() => setReplaying(false)}
                onDone={(count) => {
                  setReplaying(false);
                  setRetry({ busy: false, note: count === 0 ? 'No failed deliveries to replay.' : `${count} failed deliver${count === 1 ? 'y' : 'ies'} of this subscription queued again.` });
                  setUnfinished(true);
                  delivery.reload();
                }}
              />
            )}
          </>
        )}
      </Loaded>}
    </Page>
  );
}
