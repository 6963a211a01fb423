// The deliveries explorer: filter by subscription, status, event type and creation time,
// newest first, page by page. The filters live in the address, so a view can be shared; an
// address whose times are not times (edited by hand, say) has them ignored, with a notice.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { DELIVERY_STATUSES, api, type DeliveryFilter, type DeliveryStatus, type Subscription } from '../api.ts';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { Page } from '../components/page.tsx';
import { instant } from '../components/replay-dialog.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { useSubscriptionIndex, whereTo } from '../subscription-index.ts';
import { useResource } from '../use-resource.ts';
import { at } from '../paths.ts';

const PAGE_SIZE = 25;
const FILTERS = ['subscription_id', 'status', 'event_type', 'since', 'until'] as const;
type FilterKey = (typeof FILTERS)[number];

/** An instant as the value of a datetime-local input (local time, no zone). */
function local(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** Why a filter of the address cannot be used, if it cannot. */
function problem(key: FilterKey, value: string): string | null {
  if ((key === 'since' || key === 'until') && Number.isNaN(Date.parse(value))) return 'not a date and time';
  if (key === 'status' && !(DELIVERY_STATUSES as readonly string[]).includes(value)) return `not one of ${DELIVERY_STATUSES.join(', ')}`;
  return null;
}

/** The filters of the address (times as instants), and those that cannot be used, each with why. */
function filterOf(query: Record<string, string>): { filter: DeliveryFilter; ignored: string[] } {
  const filter: DeliveryFilter = {};
  const ignored: string[] = [];
  for (const key of FILTERS) {
    const value = query[key];
    if (!value) continue;
    const why = problem(key, value);
    if (why) ignored.push(`${key}=${value} (${why})`);
    else if (key === 'status') filter.status = value as DeliveryStatus; // one of them: problem() said so
    else filter[key] = key === 'since' || key === 'until' ? new Date(value).toISOString() : value;
  }
  return { filter, ignored };
}

function Filters({ filter, known, onApply }: { filter: DeliveryFilter; known: Subscription[]; onApply: (next: DeliveryFilter) => void }) {
  const [draft, setDraft] = useState({ ...filter, since: local(filter.since), until: local(filter.until) });
  const set = (key: keyof DeliveryFilter, value: string) => setDraft((d) => ({ ...d, [key]: value }));
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
          {known.map((s) => <option key={s.id} value={s.id}>{s.description ? `${s.description} — ${whereTo(s)}` : whereTo(s)}</option>)}
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
  const { filter, ignored } = filterOf(query);
  const cursor = query.cursor;
  // The cursors of the pages before this one ("-" for the first), for "Newer": a cursor only leads forward.
  const trail = query.trail ? query.trail.split(',') : [];
  const deliveries = useResource((signal) => api.deliveries(filter, cursor, PAGE_SIZE, signal), [filter, cursor], cursor ? 0 : 5000);
  const subscriptions = useSubscriptionIndex(deliveries.data?.items.map((d) => d.subscription_id) ?? []);

  function go(next: DeliveryFilter, nextCursor?: string, nextTrail: string[] = []) {
    const params = new URLSearchParams();
    for (const key of FILTERS) if (next[key]) params.set(key, next[key]!);
    if (nextCursor) params.set('cursor', nextCursor);
    if (nextTrail.length) params.set('trail', nextTrail.join(','));
    const text = params.toString();
    route(at(`/deliveries${text ? `?${text}` : ''}`));
  }
  const filtered = Object.keys(filter).length > 0;

  return (
    <Page title="Deliveries" subtitle="Newest first. Each delivery is one event on its way to one subscription.">
      {ignored.length > 0 && (
        <p class="notice warn" role="status" data-testid="ignored-filters">
          Ignored in the address: {ignored.join('; ')}.
        </p>
      )}
      <Filters key={JSON.stringify(filter)} filter={filter} known={[...subscriptions.values()]} onApply={(next) => go(next)} />
      <Loaded resource={deliveries} what="deliveries">
        {(page) => (
          <>
            {page.items.length === 0 ? (
              <Empty title={filtered ? 'No delivery matches these filters.' : 'No deliveries yet.'}>
                {filtered ? <p>Widen the time range or clear a filter.</p> : <p>Deliveries appear here once events are sent to a subscription.</p>}
              </Empty>
            ) : (
              <DeliveriesTable items={page.items} subscriptions={subscriptions} />
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
