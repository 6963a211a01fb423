// The portal's session (GET /api/v1/portal/session), loaded once by the portal shell and
// shared with its pages: whose application it is, read-only or not, its theme.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { PortalSession } from './api.ts';

export const PortalSessionContext = createContext<PortalSession | undefined>(undefined);

/** The session, once the shell has it; undefined while it loads. */
export function usePortalSession(): PortalSession | undefined {
  return useContext(PortalSessionContext);
}
