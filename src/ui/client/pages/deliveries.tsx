// The deliveries explorer: filter by subscription, status, event type and creation time,
// newest first, page by page. The filters live in the address, so a view can be shared.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { DELIVERY_STATUSES, allSubscriptions, api, type DeliveryFilter } from '../api.ts';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { Page } from '../components/page.tsx';
import { instant } from '../components/replay-dialog.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { useResource } from '../use-resource.ts';

const PAGE_SIZE = 25;
const FILTERS = ['subscription_id', 'status', 'event_type', 'since', 'until'] as const;

/** An instant as the value of a datetime-local input (local time, no zone). */
function local(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function Filters({ filter, onApply }: { filter: DeliveryFilter; onApply: (next: DeliveryFilter) => void }) {
  const subscriptions = useResource((signal) => allSubscriptions(500, signal), []);
  const [draft, setDraft] = useState({ ...filter, since: local(filter.since), until: local(filter.until) });
  const set = (key: keyof DeliveryFilter, value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const known = subscriptions.data?.items ?? [];
  return (
    <form class="filters card" role="search" aria-label="Filter deliveries" onSubmit={(e) => {
      e.preventDefault();
      onApply({ ...draft, since: instant(draft.since ?? ''), until: instant(draft.until ?? '') });
    }}>
      <label class="field">
        <span class="label">Subscription</span>
        <select value={draft.subscription_id ?? ''} onChange={(e) => set('subscription_id', e.currentTarget.value)}>
          <option value="">All subscriptions</option>
          {draft.subscription_id && !known.some((s) => s.id === draft.subscription_id) && <option value={draft.subscription_id}>{draft.subscription_id}</option>}
          {known.map((s) => <option key={s.id} value={s.id}>{s.description ? `${s.description} — ${s.target_url}` : s.target_url}</option>)}
        </select>
      </label>
      <label class="field">
        <span class="label">Status</span>
        <select value={draft.status ?? ''} onChange={(e) => set('status', e.currentTarget.value)}>
          <option value="">Any status</option>
          {DELIVERY_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <label class="field">
        <span class="label">Event type</span>
        <input type="text" spellcheck={false} placeholder="order.created" value={draft.event_type ?? ''} onInput={(e) => set('event_type', e.currentTarget.value)} />
      </label>
      <label class="field">
        <span class="label">Created from</span>
        <input type="datetime-local" value={draft.since ?? ''} onInput={(e) => set('since', e.currentTarget.value)} />
      </label>
      <label class="field">
        <span class="label">Created before</span>
        <input type="datetime-local" value={draft.until ?? ''} onInput={(e) => set('until', e.currentTarget.value)} />
      </label>
      <div class="filter-actions">
        <button type="submit" class="button primary">Apply</button>
        <button type="button" class="button" onClick={() => onApply({})}>Clear</button>
      </div>
    </form>
  );
}

export function DeliveriesPage() {
  const { query, route } = useLocation();
  const filter: DeliveryFilter = Object.fromEntries(FILTERS.filter((k) => query[k]).map((k) => [k, query[k]]));
  const cursor = query.cursor;
  // The cursors of the pages before this one ("-" for the first), for "Newer": a cursor only leads forward.
  const trail = query.trail ? query.trail.split(',') : [];
  const deliveries = useResource((signal) => api.deliveries(filter, cursor, PAGE_SIZE, signal), [filter, cursor], cursor ? 0 : 5000);

  function go(next: DeliveryFilter, nextCursor?: string, nextTrail: string[] = []) {
    const params = new URLSearchParams();
    for (const key of FILTERS) if (next[key]) params.set(key, next[key]!);
    if (nextCursor) params.set('cursor', nextCursor);
    if (nextTrail.length) params.set('trail', nextTrail.join(','));
    const text = params.toString();
    route(`/deliveries${text ? `?${text}` : ''}`);
  }
  const filtered = Object.keys(filter).length > 0;

  return (
    <Page title="Deliveries" subtitle="Newest first. Each delivery is one event on its way to one subscription.">
      <Filters key={JSON.stringify(filter)} filter={filter} onApply={(next) => go(next)} />
      <Loaded resource={deliveries} what="deliveries">
        {(page) => (
          <>
            {page.items.length === 0 ? (
              <Empty title={filtered ? 'No delivery matches these filters.' : 'No deliveries yet.'}>
                {filtered ? <p>Widen the time range or clear a filter.</p> : <p>Deliveries appear here once events are sent to a subscription.</p>}
              </Empty>
            ) : (
              <DeliveriesTable items={page.items} showSubscription />
            )}
            <nav class="pager" aria-label="Pages">
              <button type="button" class="button" disabled={!cursor} onClick={() => go(filter, trail.at(-1) === '-' ? undefined : trail.at(-1), trail.slice(0, -1))}>← Newer</button>
              <span class="muted">Page {trail.length + 1}</span>
              <button type="button" class="button" disabled={!page.next_cursor} onClick={() => go(filter, page.next_cursor!, [...trail, cursor ?? '-'])}>Older →</button>
            </nav>
          </>
        )}
      </Loaded>
    </Page>
  );
}
