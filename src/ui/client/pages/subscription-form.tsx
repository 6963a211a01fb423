// Creating a subscription or changing one. The API checks every field; its 422 answers name
// the field at fault, and the message is shown under that field.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { ApiFailure, RAW_SECRET_HINT, api, isRawSecret, type FieldError, type Subscription, type SubscriptionSettings } from '../api.ts';
import { Page } from '../components/page.tsx';
import { ErrorNotice, Loaded } from '../components/states.tsx';
import { useResource } from '../use-resource.ts';

const RETRY_FIELDS = [
  { key: 'max_attempts', label: 'Max attempts', hint: 'the first included' },
  { key: 'initial_delay_ms', label: 'First retry after (ms)' },
  { key: 'backoff_factor', label: 'Backoff factor' },
  { key: 'max_delay_ms', label: 'Longest delay (ms)' },
  { key: 'jitter', label: 'Jitter (0–1)' },
] as const;
type RetryKey = (typeof RETRY_FIELDS)[number]['key'];

interface FormValues {
  target_url: string;
  description: string;
  event_types: string;
  active: boolean;
  require_signed_ingest: boolean;
  secret: string;
  retry: Record<RetryKey, string>;
}

function initialValues(s: Subscription | undefined): FormValues {
  const retry = Object.fromEntries(RETRY_FIELDS.map(({ key }) => [key, s?.retry_policy?.[key]?.toString() ?? ''])) as Record<RetryKey, string>;
  return {
    target_url: s?.target_url ?? '',
    description: s?.description ?? '',
    event_types: s?.event_types?.join(', ') ?? '',
    active: s?.active ?? true,
    require_signed_ingest: s?.require_signed_ingest ?? false,
    secret: '',
    retry,
  };
}

function settingsFrom(values: FormValues, creating: boolean): SubscriptionSettings {
  const types = values.event_types.split(/[\s,]+/).filter(Boolean);
  // Text that is not a number is sent as text, so that the API's answer names the field.
  const number = (text: string) => (Number.isFinite(Number(text)) ? Number(text) : text);
  const retry = Object.fromEntries(RETRY_FIELDS.filter(({ key }) => values.retry[key].trim() !== '').map(({ key }) => [key, number(values.retry[key].trim())]));
  const settings: SubscriptionSettings = {
    target_url: values.target_url.trim(),
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

/** Which input an API field path belongs to: `event_types.2` → `event_types`, `retry_policy.jitter` stays. */
function inputOf(field: string): string {
  if (field.startsWith('retry_policy.')) return field.split('.').slice(0, 2).join('.');
  return field.split('.')[0]!;
}

function Field(props: { name: string; label: string; hint?: string; errors: Record<string, string>; children: (attrs: Record<string, unknown>) => ComponentChildren }) {
  const error = props.errors[props.name];
  const describedBy = [props.hint && `${props.name}-hint`, error && `${props.name}-error`].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label class="label" for={props.name}>{props.label}</label>
      {props.children({ id: props.name, name: props.name, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': describedBy || undefined })}
      {props.hint && <p class="hint" id={`${props.name}-hint`}>{props.hint}</p>}
      {error && <p class="field-error" id={`${props.name}-error`}>{error}</p>}
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

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setFailure(undefined);
    setErrors({});
    try {
      const settings = settingsFrom(values, creating);
      if (creating) {
        const created = await api.createSubscription(settings);
        sessionStorage.setItem(`hookd.newSecret.${created.id}`, created.secret);
        sessionStorage.setItem(`hookd.newWarnings.${created.id}`, JSON.stringify(created.warnings));
        route(`/subscriptions/${created.id}`);
      } else {
        await api.updateSubscription(existing.id, settings);
        route(`/subscriptions/${existing.id}`);
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
      <Field name="target_url" label="Target URL" hint="Where hookd POSTs each event: an absolute http:// or https:// URL." errors={errors}>
        {(attrs) => <input {...attrs} type="text" inputMode="url" autoComplete="off" spellcheck={false} placeholder="https://example.com/webhooks" value={values.target_url} onInput={(e) => set('target_url', e.currentTarget.value)} />}
      </Field>
      <Field name="description" label="Description" hint="Optional: who owns this endpoint, what it is for." errors={errors}>
        {(attrs) => <input {...attrs} type="text" value={values.description} onInput={(e) => set('description', e.currentTarget.value)} />}
      </Field>
      <Field name="event_types" label="Event types" hint="Comma-separated: exact names (order.created), prefix.* or *. Empty: every event type." errors={errors}>
        {(attrs) => <input {...attrs} type="text" spellcheck={false} placeholder="order.created, user.*" value={values.event_types} onInput={(e) => set('event_types', e.currentTarget.value)} />}
      </Field>
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
        <a class="button" href={creating ? '/subscriptions' : `/subscriptions/${existing.id}`}>Cancel</a>
        <button type="submit" class="button primary" disabled={busy}>{busy ? 'Saving…' : creating ? 'Create subscription' : 'Save changes'}</button>
      </div>
    </form>
  );
}

export function SubscriptionFormPage() {
  const { params } = useRoute();
  const id = params.id;
  const existing = useResource((signal) => (id ? api.subscription(id, signal) : Promise.resolve(undefined)), [id]);
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
