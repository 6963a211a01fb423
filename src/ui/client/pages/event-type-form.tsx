// Adding an event type to the catalog or changing one: its description, JSON Schema and
// example (as JSON text), and whether hookd validates events against the schema. The API
// checks everything (a schema it cannot compile, an example that does not match); its 422
// answers name the field, and the message is shown under it.
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { ApiFailure, api, type EventType, type EventTypeChanges } from '../api.ts';
import { Field } from '../components/field.tsx';
import { Page } from '../components/page.tsx';
import { ReadOnlyNotice } from '../components/read-only-notice.tsx';
import { ErrorNotice, Loaded } from '../components/states.tsx';
import { useReadOnly } from '../permissions.ts';
import { useResource } from '../use-resource.ts';

interface FormValues {
  name: string;
  description: string;
  schema: string;
  example: string;
  validate: boolean;
  deprecated: boolean;
}

const json = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value, null, 2));

function initialValues(t: EventType | undefined): FormValues {
  return {
    name: t?.name ?? '',
    description: t?.description ?? '',
    schema: json(t?.schema),
    example: json(t?.example),
    validate: t?.validate ?? false,
    deprecated: t?.deprecated ?? false,
  };
}

/** JSON text as a value (empty: null); text that is not JSON is a field error of the form's own. */
function parsed(field: string, text: string, errors: Record<string, string>): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    errors[field] = 'is not valid JSON';
    return null;
  }
}

function EventTypeForm({ existing }: { existing?: EventType }) {
  const { route } = useLocation();
  const creating = existing === undefined;
  const readOnly = useReadOnly();
  const [values, setValues] = useState(() => initialValues(existing));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof FormValues>(key: K, value: FormValues[K]) => setValues((v) => ({ ...v, [key]: value }));

  async function submit(e: Event) {
    e.preventDefault();
    setFailure(undefined);
    const local: Record<string, string> = {};
    const changes = {
      description: values.description.trim() || null,
      schema: parsed('schema', values.schema, local),
      example: parsed('example', values.example, local),
      validate: values.validate,
      deprecated: values.deprecated,
    } as EventTypeChanges; // the schema is any JSON the user typed: the API says what is wrong with it
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      if (creating) await api.createEventType({ name: values.name.trim(), ...changes });
      else await api.updateEventType(existing.name, changes);
      route('/event-types');
    } catch (error) {
      setBusy(false);
      const fields = error instanceof ApiFailure ? error.fields : [];
      if (fields.length === 0) {
        setFailure(error as Error);
        return;
      }
      const byInput: Record<string, string> = {};
      for (const { field, message } of fields) byInput[field.split('.')[0]!] ??= field.includes('.') ? `${field}: ${message}` : message;
      setErrors(byInput);
      document.getElementById(Object.keys(byInput)[0]!)?.focus();
    }
  }

  return (
    <form class="form card" onSubmit={submit} noValidate>
      {failure && <ErrorNotice error={failure} />}
      {/* A read-only key reads the entry here, every field disabled, with nothing to save. */}
      <fieldset class="bare" disabled={readOnly}>
      {creating && (
        <Field name="name" label="Name" hint="As events carry it: letters, digits, “_”, “.” and “-”, e.g. order.created." errors={errors}>
          {(attrs) => <input {...attrs} type="text" spellcheck={false} placeholder="order.created" value={values.name} onInput={(e) => set('name', e.currentTarget.value)} />}
        </Field>
      )}
      <Field name="description" label="Description" hint="What happened when this event is sent." errors={errors}>
        {(attrs) => <input {...attrs} type="text" value={values.description} onInput={(e) => set('description', e.currentTarget.value)} />}
      </Field>
      <Field name="schema" label="JSON Schema of data" hint="Optional: a JSON Schema (draft 2020-12, or draft-07 by its $schema) for the events' data." errors={errors}>
        {(attrs) => <textarea {...attrs} rows={8} spellcheck={false} placeholder={'{ "type": "object", "required": ["order_id"] }'} value={values.schema} onInput={(e) => set('schema', e.currentTarget.value)} />}
      </Field>
      <Field name="example" label="Example data" hint="Optional: an example of the data; it must match the schema." errors={errors}>
        {(attrs) => <textarea {...attrs} rows={5} spellcheck={false} value={values.example} onInput={(e) => set('example', e.currentTarget.value)} />}
      </Field>
      <fieldset class="checks">
        <legend class="label">Options</legend>
        <label class="check">
          <input type="checkbox" id="validate" name="validate" checked={values.validate} onChange={(e) => set('validate', e.currentTarget.checked)} />
          Validate: refuse events whose data does not match the schema (422)
        </label>
        <label class="check">
          <input type="checkbox" name="deprecated" checked={values.deprecated} onChange={(e) => set('deprecated', e.currentTarget.checked)} />
          Deprecated: still sent, but subscribers should move away from it
        </label>
        {errors.validate && <p class="field-error">{errors.validate}</p>}
      </fieldset>
      </fieldset>
      <div class="actions">
        <a class="button" href="/event-types">{readOnly ? 'Back' : 'Cancel'}</a>
        {!readOnly && <button type="submit" class="button primary" disabled={busy}>{busy ? 'Saving…' : creating ? 'Add event type' : 'Save changes'}</button>}
      </div>
    </form>
  );
}

export function EventTypeFormPage() {
  const { params } = useRoute();
  const name = params.name;
  const existing = useResource((signal) => (name ? api.eventType(name, signal) : Promise.resolve(undefined)), [name]);
  const readOnly = useReadOnly();
  return (
    <Page title={name ? (readOnly ? name : `Edit ${name}`) : 'New event type'} back={{ href: '/event-types', label: 'Event types' }}>
      {readOnly && !name ? <ReadOnlyNotice /> : name
        ? <Loaded resource={existing} what="the event type">{(type) => type && <EventTypeForm existing={type} />}</Loaded>
        : <EventTypeForm />}
    </Page>
  );
}
