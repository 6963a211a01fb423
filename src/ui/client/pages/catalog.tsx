// The portal's event-type catalog: what events the application can receive, each with its
// description, how many of the application's subscriptions receive it, and the schema and
// example of its data. Read-only: the catalog is the admin's to change.
import { allApplicationEventTypes, type ApplicationEventType } from '../api.ts';
import { Badge } from '../components/badge.tsx';
import { Page } from '../components/page.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { at } from '../paths.ts';
import { useReadOnly } from '../permissions.ts';
import { usePortalSession } from '../portal-session.ts';
import { useResource } from '../use-resource.ts';

/** Types read at most. */
const MAX_LISTED = 2000;

function receivers(count: number): string {
  if (count === 0) return 'No subscription receives it';
  return `${count} subscription${count === 1 ? '' : 's'} receive${count === 1 ? 's' : ''} it`;
}

function Entry({ type }: { type: ApplicationEventType }) {
  return (
    <article class="card catalog-entry" data-event-type={type.name} aria-labelledby={`type-${type.name}`}>
      <header class="catalog-entry-head">
        <h2 id={`type-${type.name}`} class="mono">{type.name}</h2>
        {type.deprecated && <Badge value="deprecated" />}
      </header>
      {type.description ? <p>{type.description}</p> : <p class="muted">No description.</p>}
      <p class="muted small" data-testid="receivers">{receivers(type.subscriptions)}</p>
      {type.schema !== null && (
        <details>
          <summary>Schema of its data{type.validate ? ' (every event is checked against it)' : ''}</summary>
          <pre class="code" tabIndex={0}>{JSON.stringify(type.schema, null, 2)}</pre>
        </details>
      )}
      {type.example !== null && (
        <details>
          <summary>Example data</summary>
          <pre class="code" tabIndex={0}>{JSON.stringify(type.example, null, 2)}</pre>
        </details>
      )}
    </article>
  );
}

export function CatalogPage() {
  // The shell's session says whose catalog this is; until it has loaded, the page is loading.
  const applicationId = usePortalSession()?.application.id;
  const types = useResource(
    (signal) => applicationId === undefined ? new Promise<never>(() => {}) : allApplicationEventTypes(applicationId, MAX_LISTED, signal),
    [applicationId],
  );
  const readOnly = useReadOnly();
  return (
    <Page title="Event types" subtitle="The events you can subscribe to.">
      <Loaded resource={types} what="event types">
        {(items) => items.length === 0
          ? <Empty title="No event types are described yet."><p>Subscriptions can still name the event types they want.</p></Empty>
          : (
            <>
              {!readOnly && <p><a href={at('/subscriptions/new')}>Subscribe to some of them</a></p>}
              <div class="catalog">{items.map((t) => <Entry key={t.name} type={t} />)}</div>
            </>
          )}
      </Loaded>
    </Page>
  );
}
