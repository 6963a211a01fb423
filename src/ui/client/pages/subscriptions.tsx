// Every subscription, searchable by URL, description, event type or id.
import { useState } from 'preact/hooks';
import { allSubscriptions, type Subscription } from '../api.ts';
import { whereTo } from '../subscription-index.ts';
import { Badge } from '../components/badge.tsx';
import { Page } from '../components/page.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { dateTime, shortId } from '../format.ts';
import { useResource } from '../use-resource.ts';
import { at } from '../paths.ts';
import { useReadOnly } from '../permissions.ts';

/** Searching happens in the browser over this many subscriptions at most. */
const MAX_LISTED = 2000;

function matches(s: Subscription, words: string[]): boolean {
  const text = [s.id, whereTo(s), s.description ?? '', ...(s.event_types ?? ['*'])].join(' ').toLowerCase();
  return words.every((word) => text.includes(word));
}

export function eventTypesText(types: string[] | null): string {
  return types === null ? 'every event type' : types.join(', ');
}

function Table({ items }: { items: Subscription[] }) {
  return (
    <div class="table-wrap">
      <table class="table responsive">
        <thead>
          <tr>
            <th scope="col">Target URL</th>
            <th scope="col">Event types</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.id}>
              <td data-label="Target URL">
                <a href={at(`/subscriptions/${s.id}`)} class="strong truncate">{whereTo(s)}</a>
                <div class="muted small">{s.description || <span title={s.id}>{shortId(s.id)}</span>}</div>
              </td>
              <td data-label="Event types"><span class="mono small">{eventTypesText(s.event_types)}</span></td>
              <td data-label="Status"><Badge value={s.active ? 'active' : 'inactive'} /></td>
              <td data-label="Created" class="nowrap">{dateTime(s.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SubscriptionsPage() {
  const [search, setSearch] = useState('');
  const subscriptions = useResource((signal) => allSubscriptions(MAX_LISTED, signal), []);
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const readOnly = useReadOnly();
  return (
    <Page title="Subscriptions" actions={!readOnly && <a class="button primary" href={at('/subscriptions/new')}>New subscription</a>}>
      <Loaded resource={subscriptions} what="subscriptions">
        {({ items, complete }) => {
          if (items.length === 0) {
            return (
              <Empty title="No subscriptions yet.">
                <p>A subscription is a URL that receives the events you choose, signed with its own secret.</p>
                {!readOnly && <p><a class="button primary" href={at('/subscriptions/new')}>Create the first one</a></p>}
              </Empty>
            );
          }
          const shown = items.filter((s) => matches(s, words));
          return (
            <>
              <div class="toolbar">
                <label class="search">
                  <span class="visually-hidden">Search subscriptions</span>
                  <input type="search" placeholder="Search by URL, description, event type or id" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
                </label>
                <span class="muted" aria-live="polite">
                  {words.length ? `${shown.length} of ${items.length}` : `${items.length}`} subscription{items.length === 1 ? '' : 's'}
                  {!complete && ` (the first ${items.length} are searched)`}
                </span>
              </div>
              {shown.length === 0 ? <Empty title={`No subscription matches “${search}”.`} /> : <Table items={shown} />}
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
