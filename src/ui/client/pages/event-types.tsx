// The event-type catalog: every type with its description, whether hookd validates its data,
// and whether it is deprecated (which can be toggled here). With an application chosen in the
// switch, each type also says how many of that application's subscriptions receive it.
import { useState } from 'preact/hooks';
import { allApplicationEventTypes, allEventTypes, api, type ApplicationEventType, type EventType } from '../api.ts';
import { useApplication } from '../application.ts';
import { Badge } from '../components/badge.tsx';
import { Page } from '../components/page.tsx';
import { Empty, ErrorNotice, Loaded } from '../components/states.tsx';
import { useReadOnly } from '../permissions.ts';
import { useResource } from '../use-resource.ts';

/** Types read at most. */
const MAX_LISTED = 2000;

export function eventTypeHref(name: string): string {
  return `/event-types/${encodeURIComponent(name)}/edit`;
}

function DeprecateButton({ type, onChanged, onFailed }: { type: EventType; onChanged: () => void; onFailed: (error: Error) => void }) {
  const [busy, setBusy] = useState(false);
  const label = type.deprecated ? 'Undeprecate' : 'Deprecate';
  return (
    <button type="button" class="button small" disabled={busy} aria-label={`${label} ${type.name}`} onClick={() => {
      setBusy(true);
      api.updateEventType(type.name, { deprecated: !type.deprecated }).then(onChanged, onFailed).finally(() => setBusy(false));
    }}>
      {label}
    </button>
  );
}

function Table({ items, reload, onFailed }: { items: (EventType & Partial<Pick<ApplicationEventType, 'subscriptions'>>)[]; reload: () => void; onFailed: (error: Error) => void }) {
  const perApplication = items.some((t) => t.subscriptions !== undefined);
  const readOnly = useReadOnly();
  return (
    <div class="table-wrap">
      <table class="table responsive">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col">Schema</th>
            <th scope="col">Status</th>
            {perApplication && <th scope="col">Subscriptions</th>}
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.name} data-event-type={t.name}>
              <td data-label="Name"><a href={eventTypeHref(t.name)} class="mono strong">{t.name}</a></td>
              <td data-label="Description">{t.description ?? <span class="muted">—</span>}</td>
              <td data-label="Schema">{t.schema === null ? <span class="muted">none</span> : t.validate ? 'validated at ingest' : 'documented'}</td>
              <td data-label="Status">{t.deprecated ? <Badge value="deprecated" /> : <Badge value="active" label="current" />}</td>
              {perApplication && <td data-label="Subscriptions" data-testid="receivers">{t.subscriptions}</td>}
              <td>{!readOnly && <DeprecateButton type={t} onChanged={reload} onFailed={onFailed} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function EventTypesPage() {
  const application = useApplication();
  const types = useResource(
    (signal) => application === null ? allEventTypes(MAX_LISTED, signal) : allApplicationEventTypes(application, MAX_LISTED, signal),
    [application],
  );
  const [failure, setFailure] = useState<Error>();
  const readOnly = useReadOnly();
  return (
    <Page title="Event types" actions={!readOnly && <a class="button primary" href="/event-types/new">New event type</a>}>
      {failure && <ErrorNotice error={failure} />}
      <Loaded resource={types} what="event types">
        {(items) => items.length === 0
          ? (
            <Empty title="The catalog is empty.">
              <p>Describe the events you send: subscribers then pick them by name, and hookd can check each event's data against a JSON Schema.</p>
              {!readOnly && <p><a class="button primary" href="/event-types/new">Add the first one</a></p>}
            </Empty>
          )
          : <Table items={items} reload={types.reload} onFailed={setFailure} />}
      </Loaded>
    </Page>
  );
}
