// Subscriptions by id, for tables that name each row's subscription by its URL or
// description rather than its id. Loaded once, and again when a row names one not known yet
// (created since, or beyond the first pages); a deleted subscription stays unknown.
import { useEffect, useRef, useState } from 'preact/hooks';
import { allSubscriptions, type Subscription } from './api.ts';
import { useAuthEpoch } from './use-resource.ts';

/** Subscriptions read at most: the tables fall back to ids beyond them. */
const MAX_KNOWN = 500;

export function useSubscriptionIndex(shownIds: readonly string[]): ReadonlyMap<string, Subscription> {
  // Null until the first list arrives: ids are unknown only once it is there.
  const [index, setIndex] = useState<ReadonlyMap<string, Subscription> | null>(null);
  const [generation, setGeneration] = useState(0);
  // Ids already looked for: a deleted subscription must not cause a reload per refresh.
  const sought = useRef(new Set<string>());
  const epoch = useAuthEpoch();
  const unknown = index === null ? [] : [...new Set(shownIds)].filter((id) => !index.has(id) && !sought.current.has(id));
  const trigger = unknown.join(',');

  useEffect(() => {
    if (unknown.length === 0) return;
    for (const id of unknown) sought.current.add(id);
    setGeneration((g) => g + 1);
  }, [trigger]);

  useEffect(() => {
    const controller = new AbortController();
    allSubscriptions(MAX_KNOWN, controller.signal).then(
      ({ items }) => setIndex(new Map(items.map((s) => [s.id, s]))),
      () => {
        // The tables show ids instead; the page's own request reports what went wrong.
      },
    );
    return () => controller.abort();
  }, [generation, epoch]);
  return index ?? NONE;
}

const NONE: ReadonlyMap<string, Subscription> = new Map();

/** How a subscription is named in a table: its description, else where it delivers. */
export function subscriptionName(s: Subscription): string {
  return s.description || whereTo(s);
}

export const KIND_NAMES = { rabbitmq: 'RabbitMQ', nats: 'NATS', redis: 'Redis' } as const;

/** Where a subscription's deliveries go, in one line: its target URL, or its broker and where in it. */
export function whereTo(s: Pick<Subscription, 'target_url' | 'destination'>): string {
  const d = s.destination;
  if (!d) return s.target_url ?? '';
  const place = d.type === 'rabbitmq' ? `exchange ${d.exchange || '(default)'}, key ${d.routing_key}` : d.type === 'nats' ? `subject ${d.subject}` : `stream ${d.stream}`;
  return `${KIND_NAMES[d.type]} ${d.url} → ${place}`;
}
