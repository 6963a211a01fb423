// One subscription: its settings, its secret (reveal, rotate), enable/disable, a test event,
// replay of failed deliveries, deletion, and its recent deliveries.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { FINISHED, RAW_SECRET_HINT, api, isRawSecret, type ApiWarning, type DeliveryWithLogs, type Destination, type Subscription } from '../api.ts';
import { Badge } from '../components/badge.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { ConfirmDialog, Dialog } from '../components/dialog.tsx';
import { Page } from '../components/page.tsx';
import { ReplayDialog } from '../components/replay-dialog.tsx';
import { Empty, ErrorNotice, Loaded } from '../components/states.tsx';
import { dateTime, duration } from '../format.ts';
import { useResource } from '../use-resource.ts';
import { eventTypesText } from './subscriptions.tsx';
import { KIND_NAMES, whereTo } from '../subscription-index.ts';
import { tabStorage } from '../auth.ts';
import { at } from '../paths.ts';
import { useReadOnly } from '../permissions.ts';

const KNOWN = new Set(['id', 'target_url', 'destination', 'event_types', 'description', 'active', 'require_signed_ingest', 'retry_policy', 'previous_secret_expires_at', 'created_at', 'updated_at']);

function humanize(key: string): string {
  const text = key.replace(/_/g, ' ');
  return text[0]!.toUpperCase() + text.slice(1);
}

/** A setting's value: objects (a circuit's state, custom headers) as a nested list. */
function SettingValue({ value }: { value: unknown }) {
  if (value === null || value === undefined || value === '') return <>—</>;
  if (typeof value !== 'object') return <>{String(value)}</>;
  const entries = Object.entries(value);
  if (entries.length === 0) return <>—</>;
  if (Array.isArray(value)) return <span class="mono small">{JSON.stringify(value)}</span>;
  return (
    <dl class="nested small">
      {entries.map(([key, inner]) => (
        <Fragment key={key}>
          <dt>{key.replace(/_/g, ' ')}</dt>
          <dd class={typeof inner === 'object' && inner !== null ? 'mono' : undefined}>{typeof inner === 'object' && inner !== null ? JSON.stringify(inner) : String(inner ?? '—')}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** Where a broker subscription delivers: the broker (its password masked) and the place in it. */
function DestinationSettings({ d }: { d: Destination }) {
  return (
    <>
      <dt>Destination</dt><dd data-testid="destination-kind">{KIND_NAMES[d.type]}</dd>
      <dt>Broker URL</dt><dd class="mono break" data-testid="destination-url">{d.url}</dd>
      {d.type === 'rabbitmq' && <><dt>Exchange</dt><dd class="mono">{d.exchange || '(default exchange)'}</dd><dt>Routing key</dt><dd class="mono">{d.routing_key}</dd></>}
      {d.type === 'nats' && <><dt>Subject</dt><dd class="mono">{d.subject}</dd></>}
      {d.type === 'redis' && <><dt>Stream</dt><dd class="mono">{d.stream}</dd><dt>Max length</dt><dd>{d.max_len ?? 'untrimmed'}</dd></>}
    </>
  );
}

function Settings({ s }: { s: Subscription }) {
  const retry = s.retry_policy ? Object.entries(s.retry_policy).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ') : 'server defaults';
  // Settings this UI does not know yet (added by later versions of hookd) are listed as they are.
  const extra = Object.entries(s).filter(([key, value]) => !KNOWN.has(key) && value !== undefined);
  return (
    <dl class="settings">
      {s.destination ? <DestinationSettings d={s.destination} /> : <><dt>Target URL</dt><dd class="mono break">{s.target_url}</dd></>}
      <dt>Event types</dt><dd class="mono">{eventTypesText(s.event_types)}</dd>
      <dt>Status</dt><dd><Badge value={s.active ? 'active' : 'inactive'} /></dd>
      <dt>Signed ingest only</dt><dd>{s.require_signed_ingest ? 'yes' : 'no'}</dd>
      <dt>Retry policy</dt><dd>{retry}</dd>
      {extra.map(([key, value]) => (
        <Fragment key={key}>
          <dt>{humanize(key)}</dt>
          <dd><SettingValue value={value} /></dd>
        </Fragment>
      ))}
      <dt>ID</dt><dd class="inline-copy"><span class="mono">{s.id}</span> <CopyButton text={s.id} label="Copy" /></dd>
      <dt>Created</dt><dd>{dateTime(s.created_at)}</dd>
      <dt>Updated</dt><dd>{dateTime(s.updated_at)}</dd>
    </dl>
  );
}

/** While a rotation's grace period lasts, the card says that the replaced secret still signs. */
function SecretPanel({ id, fresh, previousUntil }: { id: string; fresh: string | null; previousUntil: string | null }) {
  const [secret, setSecret] = useState<string | null>(fresh);
  const [error, setError] = useState<Error>();
  const [rotating, setRotating] = useState(false);
  const readOnly = useReadOnly();
  const [note, setNote] = useState<string>();
  const [graceUntil, setGraceUntil] = useState(previousUntil);
  const inGrace = graceUntil !== null && Date.parse(graceUntil) > Date.now();
  async function reveal() {
    setError(undefined);
    try {
      setSecret((await api.secret(id)).secret);
    } catch (failure) {
      setError(failure as Error);
    }
  }
  return (
    <section class="panel" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p class="muted small">Receivers verify each delivery's <code>webhook-signature</code> with it.</p>
      <div class="secret-row">
        <code class="secret" data-testid="secret">{secret ?? 'whsec_••••••••••••••••••••••••'}</code>
        {secret ? (
          <>
            <CopyButton text={secret} />
            <button type="button" class="button small" onClick={() => setSecret(null)}>Hide</button>
          </>
        ) : (
          <button type="button" class="button small" onClick={reveal}>Reveal</button>
        )}
        {!readOnly && <button type="button" class="button small" onClick={() => setRotating(true)}>Rotate…</button>}
      </div>
      {secret && isRawSecret(secret) && <p class="notice" data-testid="raw-secret-hint">{RAW_SECRET_HINT}</p>}
      {inGrace && (
        <p class="small" data-testid="previous-secret">
          The previous secret still signs deliveries, beside this one, until {dateTime(graceUntil)}: receivers holding either accept them.
        </p>
      )}
      {note && <p class="notice good" role="status">{note}</p>}
      {error && <ErrorNotice error={error} />}
      {rotating && (
        <RotateDialog
          id={id}
          onClose={() => setRotating(false)}
          onDone={(next, until) => {
            setRotating(false);
            setSecret(next);
            setGraceUntil(until);
            setNote('New secret in use.');
          }}
        />
      )}
    </section>
  );
}

function RotateDialog({ id, onClose, onDone }: { id: string; onClose: () => void; onDone: (secret: string, until: string | null) => void }) {
  const [secret, setSecret] = useState('');
  const [hours, setHours] = useState('24');
  return (
    <ConfirmDialog
      title="Rotate the signing secret"
      confirm="Rotate"
      onClose={onClose}
      onConfirm={async () => {
        const result = await api.rotateSecret(id, { ...(secret.trim() && { secret: secret.trim() }), grace_seconds: Math.round(Number(hours || '0') * 3600) });
        onDone(result.secret, result.previous_secret_expires_at);
      }}
    >
      <p>Deliveries are signed with the new secret at once; during the grace period they also carry a signature made with the old one, so receivers can switch without missing any.</p>
      <div class="grid-fields">
        <label class="field">
          <span class="label">New secret</span>
          <input type="text" autoComplete="off" placeholder="generated when empty" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">Grace period (hours)</span>
          <input type="number" min="0" step="1" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
        </label>
      </div>
    </ConfirmDialog>
  );
}

/** An event type this subscription takes: its first exact name, or one under its first pattern. */
function sampleEventType(types: string[] | null): string {
  const first = types?.[0];
  if (!first || first === '*') return 'hookd.test';
  return first.endsWith('.*') ? `${first.slice(0, -2)}.test` : first;
}

function samplePayload(eventType: string): string {
  return JSON.stringify({ event_type: eventType, data: { message: 'A test event sent from the hookd web UI', sent_at: new Date().toISOString() } }, null, 2);
}

function TestEventDialog({ subscription, onClose }: { subscription: Subscription; onClose: () => void }) {
  const [payload, setPayload] = useState(() => samplePayload(sampleEventType(subscription.event_types)));
  const [error, setError] = useState<Error>();
  const [deliveryId, setDeliveryId] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function send(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setDeliveryId((await api.sendEvent(subscription.id, payload)).delivery_id);
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title="Send a test event" onClose={onClose} wide>
      <form class="dialog-body form" onSubmit={send}>
        <p>hookd ingests this body for this subscription and delivers it like any other event, signed and retried.</p>
        <label class="field">
          <span class="label">Body (JSON, with its <code>event_type</code>)</span>
          <textarea class="mono" rows={8} spellcheck={false} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
        </label>
        {error && <ErrorNotice error={error} />}
        {deliveryId && <DeliveryProgress id={deliveryId} />}
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>Close</button>
          <button type="submit" class="button primary" disabled={busy}>{busy ? 'Sending…' : deliveryId ? 'Send another' : 'Send event'}</button>
        </div>
      </form>
    </Dialog>
  );
}

/** Follows a delivery until it is finished. */
function DeliveryProgress({ id }: { id: string }) {
  const [delivery, setDelivery] = useState<DeliveryWithLogs>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const next = await api.delivery(id);
        if (stopped) return;
        setDelivery(next);
        if (FINISHED.includes(next.status)) return;
      } catch (failure) {
        if (!stopped) setError(failure as Error);
      }
      timer = setTimeout(poll, 500);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);
  const last = delivery?.logs.at(-1);
  return (
    <div class="progress" role="status" aria-live="polite" data-testid="test-delivery">
      <span>Delivery <a href={at(`/deliveries/${id}`)}>{id}</a>:</span>{' '}
      {delivery ? <Badge value={delivery.status} /> : 'queued'}
      {last && (
        <span class="muted"> · attempt {last.attempt_number}: {last.status_code ?? last.outcome.replace(/_/g, ' ')} in {duration(last.duration_ms)}</span>
      )}
      {error && <ErrorNotice error={error} />}
    </div>
  );
}

function RecentDeliveries({ id }: { id: string }) {
  const deliveries = useResource((signal) => api.deliveries({ subscription_id: id }, undefined, 10, signal), [id], 5000);
  const [replaying, setReplaying] = useState(false);
  const [note, setNote] = useState<string>();
  const readOnly = useReadOnly();
  return (
    <section class="panel" aria-labelledby="recent-title">
      <div class="panel-head">
        <h2 id="recent-title">Recent deliveries</h2>
        <div class="page-actions">
          {!readOnly && <button type="button" class="button small" onClick={() => setReplaying(true)}>Replay failed…</button>}
          <a class="button small" href={at(`/deliveries?subscription_id=${id}`)}>All deliveries</a>
        </div>
      </div>
      {note && <p class="notice good" role="status">{note}</p>}
      <Loaded resource={deliveries} what="deliveries">
        {(page) => (page.items.length === 0 ? (
          <Empty title="No deliveries yet.">
            <p>Send a test event to see one.</p>
          </Empty>
        ) : <DeliveriesTable items={page.items} />)}
      </Loaded>
      {replaying && (
        <ReplayDialog
          subscriptionId={id}
          onClose={() => setReplaying(false)}
          onDone={(count) => {
            setReplaying(false);
            setNote(count === 0 ? 'No failed deliveries to replay.' : `${count} failed deliver${count === 1 ? 'y' : 'ies'} queued again.`);
            deliveries.reload();
          }}
        />
      )}
    </section>
  );
}

function takeNewSecret(id: string): string | null {
  const key = `hookd.newSecret.${id}`;
  const secret = tabStorage.get(key);
  tabStorage.remove(key);
  return secret;
}

/** What the create answer warned about, shown once on the new subscription's page. */
function takeNewWarnings(id: string): ApiWarning[] {
  const key = `hookd.newWarnings.${id}`;
  const warnings = tabStorage.get(key);
  tabStorage.remove(key);
  return warnings ? JSON.parse(warnings) as ApiWarning[] : [];
}

export function SubscriptionPage() {
  const { params } = useRoute();
  const id = params.id!;
  const { route } = useLocation();
  const subscription = useResource((signal) => api.subscription(id, signal), [id]);
  const [created] = useState(() => takeNewSecret(id));
  const [warnings] = useState(() => takeNewWarnings(id));
  const [dialog, setDialog] = useState<'test' | 'delete' | null>(null);
  const [toggleError, setToggleError] = useState<Error>();
  const s = subscription.data;
  const readOnly = useReadOnly();

  async function toggle(active: boolean) {
    setToggleError(undefined);
    try {
      await api.updateSubscription(id, { active });
      subscription.reload();
    } catch (failure) {
      setToggleError(failure as Error);
    }
  }

  return (
    <Page
      title={s ? s.description || 'Subscription' : 'Subscription'}
      subtitle={s && <span class="mono break">{whereTo(s)}</span>}
      back={{ href: '/subscriptions', label: 'Subscriptions' }}
      actions={s && !readOnly && (
        <>
          <button type="button" class="button primary" onClick={() => setDialog('test')} disabled={!s.active} title={s.active ? undefined : 'Enable the subscription first'}>Send test event</button>
          <a class="button" href={at(`/subscriptions/${id}/edit`)}>Edit</a>
          <button type="button" class="button" onClick={() => toggle(!s.active)}>{s.active ? 'Disable' : 'Enable'}</button>
          <button type="button" class="button danger" onClick={() => setDialog('delete')}>Delete</button>
        </>
      )}
    >
      {created && (
        <div class="notice good" role="status">
          Subscription created. Give the receiver its signing secret (it can be revealed again below).
        </div>
      )}
      {warnings.filter((w) => w.code !== 'raw_secret').map((w) => (
        <div class="notice" role="status" data-testid="warning" key={w.code}>{w.message}</div>
      ))}
      {toggleError && <ErrorNotice error={toggleError} />}
      <Loaded resource={subscription} what="the subscription">
        {(data) => (
          <>
            <div class="columns">
              <section class="panel" aria-labelledby="settings-title">
                <h2 id="settings-title">Settings</h2>
                <Settings s={data} />
              </section>
              <SecretPanel id={id} fresh={created} previousUntil={data.previous_secret_expires_at ?? null} />
            </div>
            <RecentDeliveries id={id} />
            {dialog === 'test' && <TestEventDialog subscription={data} onClose={() => setDialog(null)} />}
            {dialog === 'delete' && (
              <ConfirmDialog
                title="Delete this subscription?"
                confirm="Delete subscription"
                danger
                onClose={() => setDialog(null)}
                onConfirm={async () => {
                  await api.deleteSubscription(id);
                  route(at('/subscriptions'));
                }}
              >
                <p><span class="mono break">{whereTo(data)}</span> will receive nothing more. Its unfinished deliveries are cancelled; the history of the others stays readable.</p>
              </ConfirmDialog>
            )}
          </>
        )}
      </Loaded>
    </Page>
  );
}
