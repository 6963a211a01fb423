// Event-type patterns of a subscription's filter.
//   exact name      "order.created" matches only "order.created"
//   "*"             matches every event type
//   "prefix.*"      matches any type below the prefix: "order.*" matches "order.created" and
//                   "order.item.added", but not "order" itself
// A null filter (no event_types given) matches every event type.

export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_.*-]{1,100}$';

/** What isValidPattern accepts, as a regular expression (without the length, at most 100). */
export const VALID_PATTERN = '^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$';

/** Every pattern that would match this event type; lets stores answer with an index lookup. */
export function patternsMatching(eventType: string): string[] {
  const patterns = [eventType, '*'];
  const parts = eventType.split('.');
  for (let i = 1; i < parts.length; i++) patterns.push(`${parts.slice(0, i).join('.')}.*`);
  return patterns;
}

export function eventTypeMatches(filter: readonly string[] | null, eventType: string): boolean {
  if (filter === null) return true;
  const candidates = patternsMatching(eventType);
  return filter.some((pattern) => candidates.includes(pattern));
}

/** A pattern may hold `*` only as the whole pattern or as its last segment (`order.*`). */
export function isValidPattern(pattern: string): boolean {
  if (!new RegExp(EVENT_TYPE_PATTERN).test(pattern)) return false;
  if (pattern === '*') return true;
  const segments = pattern.split('.');
  return segments.every((segment, i) => segment !== '' && (!segment.includes('*') || (segment === '*' && i === segments.length - 1)));
}
