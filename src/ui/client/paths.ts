// Where the app runs: the admin UI at /, or the consumer portal of one application under
// /portal (opened with a portal link). The same pages serve both; their links go through `at`.
export const PORTAL = typeof location !== 'undefined' && (location.pathname === '/portal' || location.pathname.startsWith('/portal/'));

const BASE = PORTAL ? '/portal' : '';

/** An app path (`/subscriptions/…`) where this app serves it. */
export function at(path: string): string {
  return BASE + (PORTAL && path === '/' ? '' : path);
}
