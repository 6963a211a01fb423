// Creating a subscription or changing one. The API checks every field; its 422 answers name
// the field at fault, and the message is shown under that field.
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { ApiFailure, RAW_SECRET_HINT, allEventTypes, api, isRawSecret, type Destination, type DestinationKind, type EventType, type FieldError, type Subscription, type SubscriptionSettings } from '../api.ts';
import { Page } from '../components/page.tsx';
import { ReadOnlyNotice } from '../components/read-only-notice.tsx';
import { Field } from '../components/field.tsx';
import { ErrorNotice, Loaded } from '../components/states.tsx';
import { useResource } from '../use-resource.ts';
import { tabStorage } from '../auth.ts';
import { at } from '../paths.ts';
import { useReadOnly } from '../permissions.ts';

const RETRY_FIELDS = [
  { key: 'max_attempts', label: 'Max attempts', hint: 'the first included' },
  { key: 'initial_delay_ms', label: 'First retry after (ms)' },
  { key: 'backoff_factor', label: 'Backoff factor' },
  { key: 'max_delay_ms', label: 'Longest delay (ms)' },
  { key: 'jitter', label: 'Jitter (0–1)' },
] as const;
type RetryKey = (typeof RETRY_FIELDS)[number]['key'];

type Kind = 'http' | DestinationKind;
const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'http', label: 'HTTP receiver (POST to a URL)' },
  { kind: 'rabbitmq', label: 'RabbitMQ exchange' },
  { kind: 'nats', label: 'NATS JetStream subject' },
  { kind: 'redis', label: 'Redis stream' },
];
const BROKER_URL_HINTS: Record<DestinationKind, { placeholder: string; hint: string }> = {
  rabbitmq: { placeholder: 'amqp://user:password@rabbitmq.internal:5672/vhost', hint: 'amqp:// or amqps://, with the credentials and the vhost.' },
  nats: { placeholder: 'nats://user:password@nats.internal:4222', hint: 'nats://, with user:password or a token as the user.' },
  redis: { placeholder: 'redis://user:password@redis.internal:6379/0', hint: 'redis:// or rediss://; the path is the database number.' },
};

interface BrokerValues {
  url: string;
  exchange: string;
  routing_key: string;
  subject: string;
  stream: string;
  max_len: string;
}

interface FormValues {
  kind: Kind;
  target_url: string;
  broker: BrokerValues;
  description: string;
  event_types: string;
  active: boolean;
  require_signed_ingest: boolean;
  secret: string;
  retry: Record<RetryKey, string>;
}

function initialValues(s: Subscription | undefined): FormValues {
  const retry = Object.fromEntries(RETRY_FIELDS.map(({ key }) => [key, s?.retry_policy?.[key]?.toString() ?? ''])) as Record<RetryKey, string>;
  const d = s?.destination ?? null;
  return {
    kind: d?.type ?? 'http',
    target_url: s?.target_url ?? '',
    // The URL as shown (password masked): sent back unchanged, it keeps the stored one.
    broker: {
      url: d?.url ?? '',
      exchange: d?.type === 'rabbitmq' ? d.exchange : '',
      routing_key: d?.type === 'rabbitmq' ? d.routing_key : '',
      subject: d?.type === 'nats' ? d.subject : '',
      stream: d?.type === 'redis' ? d.stream : '',
      max_len: d?.type === 'redis' ? d.max_len?.toString() ?? '' : '',
    },
    description: s?.description ?? '',
    event_types: s?.event_types?.join(', ') ?? '',
    active: s?.active ?? true,
    require_signed_ingest: s?.require_signed_ingest ?? false,
    secret: '',
    retry,
  };
}

function settingsFrom(values: FormValues, creating: boolean): SubscriptionSettings {
  const types = typesIn(values.event_types);
  // Text that is not a number is sent as text, so that the API's answer names the field.
  const number = (text: string) => (Number.isFinite(Number(text)) ? Number(text) : text);
  const retry = Object.fromEntries(RETRY_FIELDS.filter(({ key }) => values.retry[key].trim() !== '').map(({ key }) => [key, number(values.retry[key].trim())]));
  const settings: SubscriptionSettings = {
    ...(values.kind === 'http' ? { target_url: values.target_url.trim() } : { destination: destinationFrom(values.kind, values.broker, number) }),
    description: values.description.trim() || null,
    event_types: types.length > 0 ? types : null,
    active: values.active,
    require_signed_ingest: values.require_signed_ingest,
    retry_policy: Object.keys(retry).length > 0 ? retry : null,
  };
  // On edit an empty secret keeps the current one (rotation has its own button).
  if (values.secret.trim() && creating) settings.secret = values.secret.trim();
  return settings;
}

function destinationFrom(kind: DestinationKind, b: BrokerValues, number: (text: string) => number | string): Destination {
  const url = b.url.trim();
  if (kind === 'rabbitmq') return { type: kind, url, exchange: b.exchange.trim(), routing_key: b.routing_key };
  if (kind === 'nats') return { type: kind, url, subject: b.subject.trim() };
  return { type: kind, url, stream: b.stream.trim(), max_len: b.max_len.trim() === '' ? null : number(b.max_len.trim()) as number };
}

/** Which input an API field path belongs to: `event_types.2` → `event_types`, `retry_policy.jitter` and `destination.url` stay. */
function inputOf(field: string): string {
  if (field.startsWith('retry_policy.') || field.startsWith('destination.')) return field.split('.').slice(0, 2).join('.');
  if (field === 'destination') return 'destination.type';
  return field.split('.')[0]!;
}

/** Catalog entries offered beside the event-types field, at most. */
const MAX_OFFERED = 500;

function typesIn(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/**
 * The catalog's event types as toggles: pressing one adds its name to the field or takes it
 * out. Patterns (order.*, *) are still typed into the field.
 */
function CatalogChoices({ text, onChange }: { text: string; onChange: (text: string) => void }) {
  const catalog = useResource((signal) => allEventTypes(MAX_OFFERED, signal), []);
  const items: EventType[] = catalog.data ?? [];
  if (items.length === 0) return null;
  const chosen = typesIn(text);
  const toggle = (name: string) => onChange((chosen.includes(name) ? chosen.filter((t) => t !== name) : [...chosen, name]).join(', '));
  return (
    <div class="catalog-choices" role="group" aria-label="Choose from the catalog">
      <span class="hint">From the catalog:</span>
      {items.map((t) => (
        <button key={t.name} type="button" class={`chip${chosen.includes(t.name) ? ' chosen' : ''}`} aria-pressed={chosen.includes(t.name)} title={t.description ?? undefined} onClick={() => toggle(t.name)}>
          <span class="mono">{t.name}</span>{t.deprecated && <span class="muted"> (deprecated)</span>}
        </button>
      ))}
    </div>
  );
}

function SubscriptionForm({ existing }: { existing?: Subscription }) {
  const { route } = useLocation();
  const creating = existing === undefined;
  const [values, setValues] = useState(() => initialValues(existing));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof FormValues>(key: K, value: FormValues[K]) => setValues((v) => ({ ...v, [key]: value }));
  const setRetry = (key: RetryKey, value: string) => setValues((v) => ({ ...v, retry: { ...v.retry, [key]: value } }));
  const setBroker = (key: keyof BrokerValues, value: string) => setValues((v) => ({ ...v, broker: { ...v.broker, [key]: value } }));
  const brokerInput = (key: keyof BrokerValues, extra: Record<string, unknown> = {}) => (attrs: Record<string, unknown>) => (
    <input {...attrs} type="text" autoComplete="off" spellcheck={false} {...extra} value={values.broker[key]} onInput={(e) => setBroker(key, e.currentTarget.value)} />
  );

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setFailure(undefined);
    setErrors({});
    try {
      const settings = settingsFrom(values, creating);
      if (creating) {
        const created = await api.createSubscription(settings);
        tabStorage.set(`hookd.newSecret.${created.id}`, created.secret);
        tabStorage.set(`hookd.newWarnings.${created.id}`, JSON.stringify(created.warnings));
        route(at(`/subscriptions/${created.id}`));
      } else {
        await api.updateSubscription(existing.id, settings);
        route(at(`/subscriptions/${existing.id}`));
      }
    } catch (error) {
      setBusy(false);
      const fields = error instanceof ApiFailure ? error.fields : [];
      if (fields.length === 0) {
        setFailure(error as Error);
        return;
      }
      const byInput: Record<string, string> = {};
      for (const { field, message } of fields as FieldError[]) byInput[inputOf(field)] ??= message;
      setErrors(byInput);
      const first = document.getElementById(Object.keys(byInput)[0]!);
      (first ?? document.querySelector<HTMLElement>('.form-error'))?.focus();
      if (!first) setFailure(error as Error);
    }
  }

  const errorList = Object.keys(errors);
  return (
    <form class="form card" onSubmit={submit} noValidate>
      {errorList.length > 0 && (
        <div class="form-error" role="alert" tabIndex={-1}>
          {errorList.length === 1 ? 'One field needs attention.' : `${errorList.length} fields need attention.`}
        </div>
      )}
      {failure && <ErrorNotice error={failure} />}
      <Field name="destination.type" label="Deliver to" hint="An HTTP receiver, or a message broker: each event is published with the same signature headers, its payload byte for byte." errors={errors}>
        {(attrs) => (
          <select {...attrs} value={values.kind} onChange={(e) => set('kind', e.currentTarget.value as Kind)}>
            {KINDS.map(({ kind, label }) => <option key={kind} value={kind}>{label}</option>)}
          </select>
        )}
      </Field>
      {values.kind === 'http' ? (
        <Field name="target_url" label="Target URL" hint="Where hookd POSTs each event: an absolute http:// or https:// URL." errors={errors}>
          {(attrs) => <input {...attrs} type="text" inputMode="url" autoComplete="off" spellcheck={false} placeholder="https://example.com/webhooks" value={values.target_url} onInput={(e) => set('target_url', e.currentTarget.value)} />}
        </Field>
      ) : (
        <>
          <Field name="destination.url" label="Broker URL" errors={errors}
            hint={`${BROKER_URL_HINTS[values.kind].hint} Stored encrypted; shown with the password as ****, which keeps the stored password when left so.`}>
            {brokerInput('url', { inputMode: 'url', placeholder: BROKER_URL_HINTS[values.kind].placeholder })}
          </Field>
          {values.kind === 'rabbitmq' && (
            <div class="broker-fields">
              <Field name="destination.exchange" label="Exchange" hint="Empty: the default exchange, which routes by queue name." errors={errors}>{brokerInput('exchange')}</Field>
              <Field name="destination.routing_key" label="Routing key" errors={errors}>{brokerInput('routing_key')}</Field>
            </div>
          )}
          {values.kind === 'nats' && (
            <Field name="destination.subject" label="Subject" hint="A JetStream stream must capture it; no wildcards." errors={errors}>{brokerInput('subject', { placeholder: 'orders.events' })}</Field>
          )}
          {values.kind === 'redis' && (
            <div class="broker-fields">
              <Field name="destination.stream" label="Stream" errors={errors}>{brokerInput('stream', { placeholder: 'orders' })}</Field>
              <Field name="destination.max_len" label="Max length" hint="Trims the stream to about this many entries; empty: never." errors={errors}>{brokerInput('max_len', { inputMode: 'numeric' })}</Field>
            </div>
          )}
        </>
      )}
      <Field name="description" label="Description" hint="Optional: who owns this endpoint, what it is for." errors={errors}>
        {(attrs) => <input {...attrs} type="text" value={values.description} onInput={(e) => set('description', e.currentTarget.value)} />}
      </Field>
      <Field name="event_types" label="Event types" hint="Comma-separated: exact names (order.created), prefix.* or *. Empty: every event type." errors={errors}>
        {(attrs) => <input {...attrs} type="text" spellcheck={false} placeholder="order.created, user.*" value={values.event_types} onInput={(e) => set('event_types', e.currentTarget.value)} />}
      </Field>
      <CatalogChoices text={values.event_types} onChange={(text) => set('event_types', text)} />
      {creating && (
        <Field name="secret" label="Signing secret" hint={values.secret.trim() && isRawSecret(values.secret.trim()) ? RAW_SECRET_HINT : 'Optional: leave empty and hookd generates a whsec_ secret.'} errors={errors}>
          {(attrs) => <input {...attrs} type="text" autoComplete="off" spellcheck={false} value={values.secret} onInput={(e) => set('secret', e.currentTarget.value)} />}
        </Field>
      )}
      <fieldset class="checks">
        <legend class="label">Options</legend>
        <label class="check">
          <input type="checkbox" name="active" checked={values.active} onChange={(e) => set('active', e.currentTarget.checked)} />
          Active: receives new events
        </label>
        <label class="check">
          <input type="checkbox" name="require_signed_ingest" checked={values.require_signed_ingest} onChange={(e) => set('require_signed_ingest', e.currentTarget.checked)} />
          Accept only events signed with the secret (Standard Webhooks or X-Hub-Signature-256)
        </label>
        {(errors.active || errors.require_signed_ingest) && <p class="field-error">{errors.active ?? errors.require_signed_ingest}</p>}
      </fieldset>
      <details class="retry-settings" open={RETRY_FIELDS.some(({ key }) => values.retry[key] !== '' || errors[`retry_policy.${key}`])}>
        <summary>Retry policy (empty fields use the server's defaults)</summary>
        <div class="grid-fields">
          {RETRY_FIELDS.map(({ key, label }) => (
            <Field key={key} name={`retry_policy.${key}`} label={label} errors={errors}>
              {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={values.retry[key]} onInput={(e) => setRetry(key, e.currentTarget.value)} />}
            </Field>
          ))}
        </div>
        {errors.retry_policy && <p class="field-error">{errors.retry_policy}</p>}
      </details>
      <div class="actions">
        <a class="button" href={at(creating ? '/subscriptions' : `/subscriptions/${existing.id}`)}>Cancel</a>
        <button type="submit" class="button primary" disabled={busy}>{busy ? 'Saving…' : creating ? 'Create subscription' : 'Save changes'}</button>
      </div>
    </form>
  );
}

export function SubscriptionFormPage() {
  const { params } = useRoute();
  const id = params.id;
  const readOnly = useReadOnly();
  // Read-only, there is no form to fill: nothing to load for it.
  const existing = useResource((signal) => (id && !readOnly ? api.subscription(id, signal) : Promise.resolve(undefined)), [id, readOnly]);
  if (readOnly) {
    return (
      <Page title={id ? 'Edit subscription' : 'New subscription'} back={id ? { href: `/subscriptions/${id}`, label: 'Subscription' } : { href: '/subscriptions', label: 'Subscriptions' }}>
        <ReadOnlyNotice />
      </Page>
    );
  }
  if (!id) {
    return (
      <Page title="New subscription" back={{ href: '/subscriptions', label: 'Subscriptions' }}>
        <SubscriptionForm />
      </Page>
    );
  }
  return (
    <Page title="Edit subscription" back={{ href: `/subscriptions/${id}`, label: 'Subscription' }}>
      <Loaded resource={existing} what="the subscription">
        {(subscription) => subscription && <SubscriptionForm existing={subscription} />}
      </Loaded>
    </Page>
  );
}
