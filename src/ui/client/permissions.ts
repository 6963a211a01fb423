// Whether the page may change anything. A read-only portal session, or a read-only API key in
// the admin UI (GET /api/v1/access says which), sees what it may read and no button for what
// the API would refuse with 403 read_only_key; the API still decides.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export const ReadOnly = createContext(false);

/** True when this page may only read: write actions are not shown. */
export function useReadOnly(): boolean {
  return useContext(ReadOnly);
}
